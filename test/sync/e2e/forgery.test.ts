/**
 * Only holders of the secret key can write what devices merge (spec §2, §4.5 `auth`, §8.1).
 * The attacker here can write to the bucket and knows the public recipient (age1…), and seals
 * with Debian's `age -r`: a made-up device folder, and a higher generation planted in a real
 * device's folder. A manifest plaintext that was edited and sealed again to the recipient is
 * refused too, and so, after the upgrade, is new content in a manifest without `auth`.
 * Nothing of it lands; `sync pull` warns naming the device and goes on (exit 0); `sync verify`
 * exits 4 naming it; `sync status` lists it; the real device is never locked out.
 *
 * Runs on file://, s3rver, and radosgw when STACKUNDERFLOW_TEST_RGW_ENDPOINT is set.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Device, fileBucket, setupSync } from '../../helpers/devices.js';
import { rgwFromEnv, RGW_ENV, startS3rver, type RunningS3 } from '../../helpers/s3servers.js';
import { prng, randomSegmentEvents } from '../../helpers/sync-events.js';
import { encodeSegment } from '../../../src/sync/codec.js';
import { asSealed, Identity, open, seal, asPlain } from '../../../src/sync/crypto.js';
import { keyJsonKey, manifestKey, segmentKey } from '../../../src/sync/layout.js';
import { openObjectStore, type ObjectStore } from '../../../src/sync/objectstore/index.js';
import { canonicalJson, sha256Hex } from '../../../src/model/canonical.js';

const rgw = rgwFromEnv();
if (!rgw) {
  const msg = `forgery.test.ts: the radosgw part did NOT run (${RGW_ENV.endpoint} is not set)`;
  if (process.env[RGW_ENV.required]) throw new Error(msg);
  console.warn(msg);
}

let s3rver: RunningS3 | undefined;
beforeAll(async () => {
  s3rver = await startS3rver();
});
afterAll(async () => {
  await s3rver?.stop();
});

interface Backend {
  name: string;
  /** `sync init` arguments for a fresh bucket, and the attacker's handle on the same bucket. */
  open(): Promise<{ args: string[]; store: ObjectStore }>;
}

function s3Backend(name: string, target: () => { endpoint: string; bucket: string; region: string; accessKeyId: string; secretAccessKey: string }): Backend {
  return {
    name,
    async open() {
      const t = target();
      // The S3 client reads credentials from this process's AWS chain.
      process.env.AWS_ACCESS_KEY_ID = t.accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY = t.secretAccessKey;
      const url = `s3://${t.bucket}/e2e-forgery-${randomBytes(6).toString('hex')}`;
      return { args: ['--bucket', url, '--endpoint', t.endpoint, '--region', t.region], store: await openObjectStore(url, { endpoint: t.endpoint, region: t.region }) };
    },
  };
}

const backends: Backend[] = [
  {
    name: 'file://',
    async open() {
      const b = fileBucket();
      return { args: ['--bucket', b.url], store: await openObjectStore(b.url) };
    },
  },
  s3Backend('s3rver', () => s3rver!),
  ...(rgw ? [s3Backend('radosgw', () => rgw)] : []),
];

/** Seals like the attacker: Debian's age CLI, to the recipient alone. */
function ageSeal(recipient: string, gz: Uint8Array): Buffer {
  return execFileSync('age', ['-r', recipient], { input: gz });
}

const MARKER = 'FORGED-EVENT-MARKER';

/** A forged segment of `device`: events with a marker text and a huge usage. */
function forgedSegment(recipient: string, device: string, seqBase = 1) {
  const events = randomSegmentEvents(prng(7), 3).map((e, i) => ({
    ...e,
    seq: seqBase + i,
    event: { ...e.event, text: `${MARKER} ${i}`, usage: { inputTokens: 9e12, outputTokens: 9e12, cacheCreationTokens: 0, cacheReadTokens: 0, reasoningTokens: 0, totalTokens: 18e12 } },
  }));
  const enc = encodeSegment({ device, kind: 'segment', events });
  const sealed = ageSeal(recipient, enc.plain);
  const name = sha256Hex(sealed);
  return { sealed, name, entry: { bytes: sealed.length, count: enc.count, kind: 'segment', name, seqFrom: enc.seqFrom, seqTo: enc.seqTo, sha256: enc.sha256 } };
}

/** A manifest as the attacker writes it: well-formed, with or without a made-up `auth`. */
function forgedManifest(recipient: string, fp: string, device: string, generation: number, segments: object[], withAuth: boolean): Buffer {
  const body: Record<string, unknown> = { acks: {}, device, format: 1, generation, keyFingerprint: fp, kind: 'manifest', name: 'forged', segments, writtenAt: '1764244800000.000000' };
  // kid is public knowledge (the first 16 hex of the fingerprint in key.json); the MAC is a guess.
  if (withAuth) body.auth = { alg: 'hmac-sha256', kid: fp.slice(0, 16), sig: randomBytes(32).toString('hex') };
  return ageSeal(recipient, gzipSync(canonicalJson(body) + '\n'));
}

const forgedEvents = (d: Device) => d.withDb((db) => db.prepare(`SELECT COUNT(*) FROM events WHERE text LIKE '%${MARKER}%'`).pluck().get() as number);

describe.each(backends)('$name', (backend) => {
  let a: Device;
  let b: Device;
  let store: ObjectStore;
  let recipient: string;
  let fp: string;
  let key: string;

  beforeAll(async () => {
    const opened = await backend.open();
    store = opened.store;
    a = new Device('a');
    b = new Device('b');
    key = await setupSync(opened.args, a, b);
    recipient = await (await Identity.parse(key)).recipient();
    fp = JSON.parse(Buffer.from((await store.get(keyJsonKey())).body).toString('utf8')).fingerprint;
    a.addClaudeProjects('-home-u-proj');
    await a.ingest();
    await a.ok(['sync', 'push']);
    expect((await b.json(['sync', 'pull'])).peers).toMatchObject([{ device: a.id, outcome: 'landed' }]);
  });

  it('a device made up with only the recipient (sealed by `age -r`) lands nothing; pull warns naming it, verify exits 4, status lists it', async () => {
    for (const withAuth of [false, true]) {
      const fake = randomBytes(8).toString('hex');
      const seg = forgedSegment(recipient, fake);
      await store.put(segmentKey(fake, seg.name), seg.sealed);
      await store.put(manifestKey(fake), forgedManifest(recipient, fp, fake, 1, [seg.entry], withAuth));
      const r = await b.run(['sync', 'pull', '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).peers.find((p: any) => p.device === fake)).toMatchObject({ outcome: 'rejected', events: 0 });
      expect(r.stderr).toMatch(new RegExp(`WARNING: device \\? \\(${fake}\\)`));
      expect(r.stderr).toMatch(withAuth ? /MAC does not match/ : /no authentication/);
      // Not a key problem: no re-key hint.
      expect(r.stderr).not.toMatch(/different key than this device|key export/);
      expect(forgedEvents(b)).toBe(0);
      expect(b.withDb((db) => db.prepare('SELECT COUNT(*) FROM events WHERE device_id = ?').pluck().get(fake))).toBe(0);
      const status = await b.json(['sync', 'status']);
      expect(status.refused.map((x: any) => x.id)).toContain(fake);
      expect((await b.ok(['sync', 'status'])).stdout).toMatch(new RegExp(`REFUSED device ${fake}`));
      const v = await b.run(['sync', 'verify']);
      expect(v.code).toBe(4);
      expect(v.stdout).toMatch(new RegExp(`FAIL .*\\(${fake}\\)`));
      // A second pull does not download the same refused manifest again, and still warns.
      const again = await b.run(['sync', 'pull']);
      expect(again.code).toBe(0);
      expect(again.stderr).toContain(fake);
      await store.delete([manifestKey(fake), segmentKey(fake, seg.name)]);
    }
    // The real peer still lands.
    expect(b.withDb((db) => db.prepare('SELECT COUNT(*) FROM events WHERE device_id = ?').pluck().get(a.id))).toBeGreaterThan(0);
  });

  it("a forged higher generation in a real device's folder lands nothing, and that device is not locked out: its next push replaces it", async () => {
    const before = b.withDb((db) => db.prepare('SELECT COUNT(*) FROM events').pluck().get() as number);
    const real = (await a.json(['sync', 'status'])).lastPushedSeq as number;
    const seg = forgedSegment(recipient, a.id, real + 1000);
    await store.put(segmentKey(a.id, seg.name), seg.sealed);
    await store.put(manifestKey(a.id), forgedManifest(recipient, fp, a.id, 50, [seg.entry], false));
    const r = await b.run(['sync', 'pull']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`WARNING: device a \\(${a.id}\\)`));
    expect(b.withDb((db) => db.prepare('SELECT COUNT(*) FROM events').pluck().get())).toBe(before);
    expect(forgedEvents(b)).toBe(0);
    // The real device pushes new events as usual (it used to fail here for good).
    a.addClaudeProjects('-repo');
    await a.ingest();
    const pushed = await a.json(['sync', 'push']);
    expect(pushed.generation).toBeLessThan(50);
    const landed = await b.json(['sync', 'pull']);
    expect(landed.peers.find((p: any) => p.device === a.id)).toMatchObject({ outcome: 'landed' });
    expect(forgedEvents(b)).toBe(0);
    expect((await b.json(['sync', 'status'])).refused).toEqual([]);
  });

  it("the key holder's manifest plaintext edited and sealed again to the recipient is refused", async () => {
    // Someone who once saw a plaintext manifest (or holds the recipient and guesses it) edits and re-seals it.
    const identity = await Identity.parse(key);
    const plain = JSON.parse(gunzipSync(await open(asSealed((await store.get(manifestKey(a.id))).body), identity)).toString('utf8'));
    const edited = { ...plain, generation: plain.generation + 1, acks: { [b.id]: 999_999 } };
    await store.put(manifestKey(a.id), await seal(asPlain(gzipSync(canonicalJson(edited) + '\n')), await identity.recipient()));
    const r = await b.run(['sync', 'pull']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/MAC does not match/);
    const v = await b.run(['sync', 'verify', '--json']);
    expect(v.code).toBe(4);
    expect(JSON.parse(v.stdout).devices.find((d: any) => d.device === a.id).errors[0].message).toMatch(/not authenticated/);
    // The real device overwrites it with its next push.
    a.addClaudeProjects('-app');
    await a.ingest();
    await a.ok(['sync', 'push']);
    expect((await b.json(['sync', 'pull'])).peers.find((p: any) => p.device === a.id).outcome).toBe('landed');
    expect((await b.run(['sync', 'verify'])).code).toBe(0);
  });

  it('upgrade: a peer whose manifest predates authentication lands nothing new until its first push after the upgrade rewrites it', async () => {
    const identity = await Identity.parse(key);
    const c = new Device('c', { env: { STACKUNDERFLOW_SYNC_KEY: key } });
    // A joining device is shown what its first pull will trust (trust on first use).
    const joined = await c.ok(['sync', 'init', ...(await bucketArgsOf(a))]);
    expect(joined.stdout).toMatch(/Devices in the bucket \(your first pull trusts these generations/);
    expect(joined.stdout).toMatch(new RegExp(`a \\(${a.id}\\): generation \\d+`));
    // Make a's manifest what the version before wrote: the same content without `auth`, and a's
    // store as that version left it (it never wrote an authenticated manifest).
    const plain = JSON.parse(gunzipSync(await open(asSealed((await store.get(manifestKey(a.id))).body), identity)).toString('utf8'));
    delete plain.auth;
    await store.put(manifestKey(a.id), await seal(asPlain(gzipSync(canonicalJson(plain) + '\n')), await identity.recipient()));
    a.withDb((db) => db.prepare("DELETE FROM sync_settings WHERE key = 'manifestAuth'").run());
    const first = await c.run(['sync', 'pull', '--json']);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout).peers.find((p: any) => p.device === a.id)).toMatchObject({ outcome: 'rejected', events: 0 });
    expect(first.stderr).toMatch(/Upgrade stackunderflow on that device/);
    // b landed that generation before: unchanged content is "up to date", not new.
    expect((await b.json(['sync', 'pull'])).peers.find((p: any) => p.device === a.id).outcome).toBe('current');
    // a, upgraded, pushes with nothing new: the manifest is rewritten, authenticated.
    const pushed = await a.json(['sync', 'push']);
    expect(pushed.generation).toBe(plain.generation + 1);
    const second = await c.json(['sync', 'pull']);
    expect(second.peers.find((p: any) => p.device === a.id)).toMatchObject({ outcome: 'landed' });
    expect((await c.json(['sync', 'status'])).refused).toEqual([]);
  });
});

/** The `sync init` bucket arguments a device was set up with (from its status). */
async function bucketArgsOf(d: Device): Promise<string[]> {
  const s = await d.json(['sync', 'status']);
  const settings = d.withDb((db) => Object.fromEntries((db.prepare('SELECT key, value FROM sync_settings').all() as Array<{ key: string; value: string }>).map((r) => [r.key, r.value])));
  return ['--bucket', s.bucket, ...(settings.endpoint ? ['--endpoint', settings.endpoint] : []), ...(settings.region ? ['--region', settings.region] : [])];
}
