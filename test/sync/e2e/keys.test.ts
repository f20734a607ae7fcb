/**
 * Keys (spec §3, §6): a device with another key cannot join a bucket, pull
 * from it or push to it: exit 2, a message naming both fingerprints, and nothing changed —
 * the store (every table), the device's sync folder and the bucket (every file, by size and
 * hash) are compared before and after. Re-init without --force and a key file others can
 * read are refused the same way.
 */
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Device, dumpStore, fileBucket, listTree, setupSync } from '../../helpers/devices.js';
import { asSealed, Identity, fingerprint, seal } from '../../../src/sync/crypto.js';
import { encodeManifest, openManifest } from '../../../src/sync/codec.js';
import { manifestKey } from '../../../src/sync/layout.js';

/** A valid key that belongs to no bucket in these tests (the golden-vector test identity). */
const keyFromOtherDevice = readFileSync(new URL('../../fixtures/sync/golden/v1/identity.txt', import.meta.url), 'utf8')
  .split('\n')
  .find((l) => l.startsWith('AGE-SECRET-KEY-1'))!;

async function fpOf(secret: string): Promise<string> {
  return fingerprint(await (await Identity.parse(secret)).recipient());
}

/** Everything a refused command must leave as it was. */
function snapshot(d: Device, bucketDirs: string[]) {
  return { store: dumpStore(d), sync: listTree(d.syncDir), buckets: bucketDirs.map((b) => listTree(b)) };
}

describe('a second key', () => {
  const a = new Device('a');
  const b = new Device('b');
  const other = new Device('other');
  const bucket = fileBucket();
  const otherBucket = fileBucket();
  let keyA: string;
  let keyOther: string;
  let fpA: string;
  let fpOther: string;

  beforeAll(async () => {
    a.addClaudeProjects('-home-u-proj');
    b.addClaudeProjects('-repo');
    other.addClaudeProjects('-experiments-ideas');
    keyA = await setupSync(['--bucket', bucket.url], a);
    keyOther = await setupSync(['--bucket', otherBucket.url], other);
    fpA = await fpOf(keyA);
    fpOther = await fpOf(keyOther);
    expect(fpA).not.toBe(fpOther);
    for (const d of [a, b, other]) await d.ingest();
    await a.ok(['sync', 'push']);
    await other.ok(['sync', 'push']);
    expect(JSON.parse(readFileSync(join(bucket.dir, 'stackunderflow/v1/key.json'), 'utf8')).fingerprint).toBe(fpA);
  });

  it('init with the wrong key in STACKUNDERFLOW_SYNC_KEY: exit 2, both fingerprints, nothing written anywhere', async () => {
    const before = snapshot(b, [bucket.dir]);
    expect(before.sync).toEqual({});
    for (const json of [false, true]) {
      const r = await b.run(['sync', 'init', '--bucket', bucket.url, ...(json ? ['--json'] : [])], { env: { STACKUNDERFLOW_SYNC_KEY: keyOther } });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(fpA.slice(0, 16));
      expect(r.stderr).toContain(fpOther.slice(0, 16));
      expect(r.stdout).toBe('');
      expect(snapshot(b, [bucket.dir])).toEqual(before);
    }
  });

  it('init without any key where the bucket has one: exit 2, nothing written', async () => {
    const before = snapshot(b, [bucket.dir]);
    const r = await b.run(['sync', 'init', '--bucket', bucket.url]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(fpA);
    expect(r.stderr).toMatch(/sync key export/);
    expect(snapshot(b, [bucket.dir])).toEqual(before);
  });

  it('a device already syncing with another bucket\'s key: refused without and with --force, both setups intact', async () => {
    const before = snapshot(other, [bucket.dir, otherBucket.dir]);
    const plain = await other.run(['sync', 'init', '--bucket', bucket.url]);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain(otherBucket.url);
    expect(plain.stderr).toMatch(/--force/);
    expect(snapshot(other, [bucket.dir, otherBucket.dir])).toEqual(before);

    const forced = await other.run(['sync', 'init', '--bucket', bucket.url, '--force'], { env: { STACKUNDERFLOW_SYNC_KEY: keyOther } });
    expect(forced.code).toBe(2);
    expect(forced.stderr).toContain(fpA.slice(0, 16));
    expect(forced.stderr).toContain(fpOther.slice(0, 16));
    expect(snapshot(other, [bucket.dir, otherBucket.dir])).toEqual(before);
    // Its own setup still works.
    other.addClaudeProjects('-app');
    await other.ingest();
    expect((await other.json(['sync', 'push'])).generation).toBe(2);
  });

  it('joining with the right key, then pulling or pushing with a wrong one: exit 2, nothing changed', async () => {
    b.env.STACKUNDERFLOW_SYNC_KEY = keyA;
    const joined = await b.json(['sync', 'init', '--bucket', bucket.url]);
    expect(joined).toMatchObject({ mode: 'joined', fingerprint: fpA, keySource: 'env', keyFile: null });
    const before = snapshot(b, [bucket.dir]);
    for (const cmd of [['sync', 'pull'], ['sync', 'push'], ['sync', 'verify']]) {
      const r = await b.run(cmd, { env: { STACKUNDERFLOW_SYNC_KEY: keyOther } });
      expect(r.code, cmd.join(' ')).toBe(2);
      expect(r.stderr).toContain(fpA.slice(0, 16));
      expect(r.stderr).toContain(fpOther.slice(0, 16));
      expect(snapshot(b, [bucket.dir]), cmd.join(' ')).toEqual(before);
    }
    // A key that is not a key at all is refused too, without echoing it.
    const garbled = keyA.slice(0, -3) + (keyA.endsWith('QQQ') ? 'PPP' : 'QQQ');
    const bad = await b.run(['sync', 'pull'], { env: { STACKUNDERFLOW_SYNC_KEY: garbled } });
    expect(bad.code).toBe(2);
    expect(bad.stderr + bad.stdout).not.toContain(garbled);
    expect(snapshot(b, [bucket.dir])).toEqual(before);
    // With the right key the same pull lands A's events.
    const pulled = await b.json(['sync', 'pull']);
    expect(pulled.landedEvents).toBe(a.withDb((db) => db.prepare('SELECT COUNT(*) FROM events').pluck().get()));
  });

  it('a never-landed device sealed to another key: pull warns naming it and the others land (exit 0); verify fails it as integrity (exit 4)', async () => {
    // A device folder written with another key (as by a device of someone else's setup).
    const intruder = 'ffffffffffffffff';
    const recipient = await (await Identity.parse(keyOther)).recipient();
    // Stamped like a real manifest of this version (whatever format writtenAt has).
    const real = await openManifest(asSealed(readFileSync(join(bucket.dir, manifestKey(a.id)))), await Identity.parse(keyA), { device: a.id, keyFingerprint: fpA });
    const other = await Identity.parse(keyOther);
    const manifest = encodeManifest({ device: intruder, name: 'intruder', generation: 1, keyFingerprint: fpOther, writtenAt: real.writtenAt, segments: [], acks: {} }, await other.manifestAuth());
    mkdirSync(join(bucket.dir, 'stackunderflow/v1/devices', intruder), { recursive: true });
    writeFileSync(join(bucket.dir, 'stackunderflow/v1/devices', intruder, 'manifest.age'), await seal(manifest, recipient));
    a.addClaudeProjects('-app');
    await a.ingest();
    await a.ok(['sync', 'push']);
    const r = await b.run(['sync', 'pull', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.peers.find((p: any) => p.device === intruder)).toMatchObject({ outcome: 'rejected' });
    expect(out.peers.find((p: any) => p.device === a.id)).toMatchObject({ outcome: 'landed', segments: 1 });
    expect(r.stderr).toMatch(new RegExp(`WARNING: device \\? \\(${intruder}\\)`));
    // Not a re-key hint: this device's key is right.
    expect(r.stderr).not.toMatch(/key export|different key than this device/);

    // verify: an integrity finding about the bucket (exit 4), not a key error of this device (exit 2).
    for (const json of [false, true]) {
      const v = await b.run(['sync', 'verify', ...(json ? ['--json'] : [])]);
      expect(v.code, v.stderr).toBe(4);
      expect(v.stderr).not.toMatch(/different key than this device|key export|STACKUNDERFLOW_SYNC_KEY/);
      if (json) {
        const report = JSON.parse(v.stdout);
        expect(report.devices.find((d: any) => d.device === a.id)).toMatchObject({ ok: true });
        const stranger = report.devices.find((d: any) => d.device === intruder);
        expect(stranger).toMatchObject({ ok: false, errors: [{ object: manifestKey(intruder), code: 'INTEGRITY' }] });
        // What happened, and what to do: nothing here; on that device, or about the folder.
        expect(stranger.errors[0].message).toMatch(/sealed to a key that is not this bucket's/);
        expect(stranger.errors[0].message).toMatch(/never merged/);
        expect(stranger.errors[0].message).toContain(`stackunderflow/v1/devices/${intruder}/`);
      } else {
        expect(v.stdout).toMatch(new RegExp(`^FAIL \\? \\(${intruder}\\)`, 'm'));
        expect(v.stdout).toMatch(new RegExp(`^ok   \\S+ \\(${a.id}\\)`, 'm'));
      }
    }
  });

  it('a landed peer sealed to another key is still a key error for verify (exit 2), ahead of the stranger (exit 4)', async () => {
    const other = await Identity.parse(keyOther);
    const real = await openManifest(asSealed(readFileSync(join(bucket.dir, manifestKey(a.id)))), await Identity.parse(keyA), { device: a.id, keyFingerprint: fpA });
    const resealed = encodeManifest({ ...real, generation: real.generation + 1 }, await other.manifestAuth());
    writeFileSync(join(bucket.dir, manifestKey(a.id)), await seal(resealed, await other.recipient()));
    const v = await b.run(['sync', 'verify', '--json']);
    expect(v.code, v.stderr).toBe(2);
    expect(JSON.parse(v.stdout).devices.find((d: any) => d.device === a.id).errors[0].code).toBe('KEY');
  });
});

describe('re-init and the key file', () => {
  it('re-init with another key, or to another bucket, without --force: exit 2, nothing changed', async () => {
    const d = new Device('d');
    const bucket = fileBucket();
    const key = await setupSync(['--bucket', bucket.url], d);
    const fp = await fpOf(key);
    const otherKey = (await Identity.parse(keyFromOtherDevice)).revealSecret();
    const before = snapshot(d, [bucket.dir]);
    const withKey = await d.run(['sync', 'init', '--bucket', bucket.url], { env: { STACKUNDERFLOW_SYNC_KEY: otherKey } });
    expect(withKey.code).toBe(2);
    expect(withKey.stderr).toContain(fp.slice(0, 16));
    expect(withKey.stderr).toMatch(/sync key export/);
    expect(withKey.stderr).toMatch(/--force/);
    const moved = await d.run(['sync', 'init', '--bucket', fileBucket().url]);
    expect(moved.code).toBe(2);
    expect(moved.stderr).toMatch(/--force/);
    for (const r of [withKey, moved]) expect(r.stdout + r.stderr).not.toContain(key);
    expect(snapshot(d, [bucket.dir])).toEqual(before);
  });

  it('re-init with the same bucket and key is harmless: no key shown again, and the next push has nothing to do', async () => {
    const d = new Device('r');
    const peer = new Device('rp');
    const bucket = fileBucket();
    const key = await setupSync(['--bucket', bucket.url], d, peer);
    d.addClaudeProjects('-home-u-proj');
    peer.addClaudeProjects('-repo');
    for (const x of [d, peer]) {
      await x.ingest();
      await x.ok(['sync', 'push']);
    }
    await d.ok(['sync', 'pull']);
    const status = await d.json(['sync', 'status']);
    const bucketBefore = listTree(bucket.dir);
    const again = await d.run(['sync', 'init', '--bucket', bucket.url]);
    expect(again.code).toBe(0);
    expect(again.stdout).not.toContain(key);
    const after = await d.json(['sync', 'status']);
    expect({ ...after, lastSyncTime: null }).toEqual({ ...status, lastSyncTime: null });
    const pushed = await d.json(['sync', 'push']);
    expect(pushed).toMatchObject({ generation: null, stagedEvents: 0, uploadedSegments: 0 });
    expect(listTree(bucket.dir)).toEqual(bucketBefore);
    expect((await d.json(['sync', 'pull'])).landedEvents).toBe(0);
  });

  it('a key file readable by others is refused (exit 2, chmod hint) until it is 0600 again', async () => {
    const d = new Device('e');
    const bucket = fileBucket();
    await setupSync(['--bucket', bucket.url], d);
    const keyFile = join(d.syncDir, 'identity.txt');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(d.syncDir).mode & 0o777).toBe(0o700);
    d.addClaudeProjects('-home-u-proj');
    await d.ingest();
    chmodSync(keyFile, 0o644);
    const before = snapshot(d, [bucket.dir]);
    for (const cmd of [['sync', 'push'], ['sync', 'pull'], ['sync', 'key', 'export']]) {
      const r = await d.run(cmd);
      expect(r.code, cmd.join(' ')).toBe(2);
      expect(r.stderr).toContain(`chmod 600 ${keyFile}`);
      expect(r.stdout).toBe('');
      expect(snapshot(d, [bucket.dir])).toEqual(before);
    }
    chmodSync(keyFile, 0o600);
    expect((await d.json(['sync', 'push'])).generation).toBe(1);
  });
});
