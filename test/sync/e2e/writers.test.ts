/**
 * Two writers of one device's manifest (spec §7.1 step 5, §7.4): a copied store pushes as
 * the same device id at the same moment as the original. Where the bucket enforces
 * conditional writes (file://, Ceph radosgw), the late writer's manifest PUT is refused, the
 * original's manifest stays intact, peers see exactly the original's events, and the copy is
 * refused again on its next push. Also checks that ordinary successive pushes pass the
 * If-Match check on a real S3 implementation (Ceph accepts only unquoted ETags).
 *
 * The radosgw part runs when STACKUNDERFLOW_TEST_RGW_ENDPOINT is set (`npm test` and CI set
 * it) and shows as skipped, with the reason, when it is not.
 */
import { cpSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Device, fileBucket, setupSync } from '../../helpers/devices.js';
import { rgwOrSkip } from '../../helpers/s3servers.js';
import { openDb } from '../../../src/store/db.js';
import { loadContext, push } from '../../../src/sync/index.js';
import { storeOptions } from '../../../src/sync/context.js';
import { readSyncState } from '../../../src/sync/state.js';
import { readSettings } from '../../../src/sync/settings.js';
import { openObjectStore, type ObjectStore } from '../../../src/sync/objectstore/index.js';
import { SuError } from '../../../src/errors.js';

const { rgw, skip: rgwSkip } = rgwOrSkip();

interface Backend {
  name: string;
  /** Why this backend cannot run here (the suite shows as skipped with it). */
  skip?: string;
  /** `sync init` arguments for a fresh, empty bucket (prefix). */
  bucketArgs(): string[];
}

const backends: Backend[] = [
  { name: 'file://', bucketArgs: () => ['--bucket', fileBucket().url] },
  {
    name: 'radosgw',
    skip: rgwSkip,
    bucketArgs: () => {
      if (!rgw) throw new Error(`radosgw cases run only with an endpoint: ${String(rgwSkip)}`);
      // The S3 client reads credentials from this process's AWS chain.
      process.env.AWS_ACCESS_KEY_ID = rgw.accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY = rgw.secretAccessKey;
      return ['--bucket', `s3://${rgw.bucket}/e2e-writers-${randomBytes(6).toString('hex')}`, '--endpoint', rgw.endpoint, '--region', rgw.region];
    },
  },
];

/** The store, with a hook that runs once right after the first manifest read: the race window. */
function racing(inner: ObjectStore, afterManifestRead: () => Promise<void>): ObjectStore {
  let fired = false;
  return {
    get url() {
      return inner.url;
    },
    get supportsConditionalWrites() {
      return inner.supportsConditionalWrites;
    },
    init: () => inner.init(),
    put: (k, b, o) => inner.put(k, b, o),
    head: (k) => inner.head(k),
    list: (p) => inner.list(p),
    delete: (k) => inner.delete(k),
    async get(k) {
      const r = await inner.get(k);
      if (!fired && k.endsWith('/manifest.age')) {
        fired = true;
        await afterManifestRead();
      }
      return r;
    },
  };
}

for (const backend of backends) describe.skipIf(backend.skip !== undefined)(backend.skip ? `${backend.name} — ${backend.skip}` : backend.name, () => {
  it('a copied store racing the original: the original wins, the copy is refused, peers see only the original', async () => {
    const orig = new Device('orig');
    const peer = new Device('peer');
    await setupSync(backend.bucketArgs(), orig, peer);
    const st = await orig.json(['sync', 'status']);
    expect(st.conditionalWrites).toBe(true);

    orig.addClaudeProjects('-home-u-proj');
    await orig.ingest();
    expect((await orig.json(['sync', 'push'])).generation).toBe(1);

    // The copy: the same store file and sync folder on "another machine", with its own logs.
    const copy = new Device('copy');
    cpSync(orig.home, copy.home, { recursive: true });
    expect(copy.id).toBe(orig.id);
    copy.addClaudeProjects('-experiments-ideas');
    await copy.ingest();
    orig.addClaudeProjects('-repo');
    await orig.ingest();

    const db = openDb(copy.storeFile);
    let origPush: any;
    try {
      const state = readSyncState(db)!;
      const inner = await openObjectStore(state.bucket_url, storeOptions(readSettings(db)));
      const ctx = await loadContext(db, {
        env: copy.env,
        store: racing(inner, async () => {
          // The original commits generation 2 between the copy's read and its write.
          origPush = await orig.json(['sync', 'push']);
        }),
      });
      const err = await push(ctx).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(SuError);
      expect((err as SuError).code).toBe('CONFLICT');
    } finally {
      db.close();
    }
    expect(origPush).toMatchObject({ generation: 2, uploadedSegments: 1 });

    // The peer sees the original's two pushes and nothing of the copy.
    const pulled = await peer.json(['sync', 'pull']);
    expect(pulled.peers).toEqual([expect.objectContaining({ device: orig.id, outcome: 'landed', generation: 2, segments: 2 })]);
    expect((await peer.daily(`device:${orig.id}`)).daily).toEqual((await orig.daily('local')).daily);
    expect(await peer.json(['sync', 'verify'])).toMatchObject({ ok: true });

    // The copy's next push is refused before it writes anything, and the original carries on.
    const again = await copy.run(['sync', 'push']);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/never wrote|not the one this store wrote/);
    expect(again.stderr).toContain('--new-device-id');

    // The fix the hint names: the copy becomes a device of its own and pushes everything again.
    const bucketUrl = (await copy.json(['sync', 'status'])).bucket as string;
    const initArgs = backend.bucketArgs().slice(2); // endpoint/region for s3; none for file://
    await copy.ok(['sync', 'init', '--bucket', bucketUrl, ...initArgs, '--new-device-id', '--device-name', 'copy']);
    const copyId = copy.id;
    expect(copyId).not.toBe(orig.id);
    const copyPush = await copy.json(['sync', 'push']);
    expect(copyPush.generation).toBe(1);
    const joined = await peer.json(['sync', 'pull']);
    expect(joined.peers.find((p: any) => p.device === copyId)).toMatchObject({ outcome: 'landed' });
    // What the copy shares with the original (everything before the copy) counts once.
    const union = await peer.daily('all');
    const origOnly = await peer.daily(`device:${orig.id}`);
    const copyOnly = await peer.daily(`device:${copyId}`);
    expect(union.totals.inputTokens).toBeLessThan(origOnly.totals.inputTokens + copyOnly.totals.inputTokens);
    expect(union.totals.inputTokens).toBeGreaterThanOrEqual(Math.max(origOnly.totals.inputTokens, copyOnly.totals.inputTokens));
    orig.addClaudeProjects('-app');
    await orig.ingest();
    expect((await orig.json(['sync', 'push'])).generation).toBe(3);
    const later = await peer.json(['sync', 'pull']);
    expect(later.peers.find((p: any) => p.device === orig.id)).toMatchObject({ outcome: 'landed', generation: 3, segments: 1 });
  });
});
