/**
 * Tampering (spec §4.4 reader checks, §8.1, §12): a flipped byte, a
 * truncated, swapped, missing or replayed object makes `sync pull` fail with exit 4 for that
 * peer only: nothing of it lands (store and cursor as before), the other peers still land,
 * and `sync verify` names the bad object. Everything runs on a copy of one pristine bucket,
 * read by a fresh device that has already merged every peer's first generation.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Device, dumpStore, fileBucket, setupSync } from '../../helpers/devices.js';
import { asSealed, Identity, seal } from '../../../src/sync/crypto.js';
import { encodeManifest, openManifest, type Manifest } from '../../../src/sync/codec.js';
import { manifestKey, segmentKey } from '../../../src/sync/layout.js';

const a = new Device('a');
const b = new Device('b');
const c = new Device('c');
const devices = [a, b, c];
const parts: Record<string, [string, string]> = { a: ['-home-u-proj', '-repo'], b: ['-experiments-ideas', '-home-cboos-proj'], c: ['-Users-dain-workspace-claude-code-log', '-app'] };
const pristine = fileBucket();
let key: string;
let identity: Identity;
/** Each device's manifest bytes after its first and its second push. */
const gen1 = new Map<Device, Buffer>();
const gen2 = new Map<Device, Buffer>();

beforeAll(async () => {
  key = await setupSync(['--bucket', pristine.url], a, b, c);
  identity = await Identity.parse(key);
  for (const d of devices) {
    for (const [i, saved] of [gen1, gen2].entries()) {
      d.addClaudeProjects(parts[d.name][i]);
      await d.ingest();
      expect((await d.json(['sync', 'push'])).generation).toBe(i + 1);
      saved.set(d, readFileSync(join(pristine.dir, manifestKey(d.id))));
    }
  }
});

async function manifestOf(bytes: Buffer, d: Device): Promise<Manifest> {
  const keyFingerprint = JSON.parse(readFileSync(join(pristine.dir, 'stackunderflow/v1/key.json'), 'utf8')).fingerprint as string;
  return openManifest(asSealed(new Uint8Array(bytes)), identity, { device: d.id, keyFingerprint });
}

/** The segments a device's second push added. */
async function newSegments(d: Device) {
  const first = new Set((await manifestOf(gen1.get(d)!, d)).segments.map((s) => s.name));
  return (await manifestOf(gen2.get(d)!, d)).segments.filter((s) => !first.has(s.name));
}

/** A bucket copy in which every device is at generation 1, and a fresh device that merged it all. */
async function scene() {
  const dir = fileBucket().dir;
  cpSync(pristine.dir, dir, { recursive: true });
  const put = (d: Device, bytes: Buffer) => writeFileSync(join(dir, manifestKey(d.id)), bytes);
  for (const d of devices) put(d, gen1.get(d)!);
  const obs = new Device('observer', { env: { STACKUNDERFLOW_SYNC_KEY: key } });
  await obs.ok(['sync', 'init', '--bucket', `file://${dir}`]);
  const first = await obs.json(['sync', 'pull']);
  expect(first.peers.map((p: any) => p.outcome)).toEqual(['landed', 'landed', 'landed']);
  const seg = (d: Device, name: string) => join(dir, segmentKey(d.id, name));
  return { dir, obs, put, seg, restoreGen2: (...ds: Device[]) => ds.forEach((d) => put(d, gen2.get(d)!)) };
}

/** Rows that belong to one peer, plus our bookkeeping of it: must not move when it fails. */
function peerState(obs: Device, d: Device) {
  return obs.withDb((db) => ({
    events: db.prepare('SELECT * FROM events WHERE device_id = ? ORDER BY id').all(d.id),
    usage: db.prepare('SELECT * FROM usage WHERE device_id = ? ORDER BY usage_key').all(d.id),
    sessions: db.prepare('SELECT * FROM sessions WHERE device_id = ? ORDER BY session_id').all(d.id),
    peer: db.prepare('SELECT * FROM sync_peers WHERE device_id = ?').get(d.id),
  }));
}

/** Pull that must fail with `code` for peer `d` only; returns the parsed --json output. */
async function failingPull(obs: Device, d: Device, code = 4) {
  const r = await obs.run(['sync', 'pull', '--json']);
  expect(r.code, r.stderr).toBe(code);
  expect(r.stderr).toContain(d.id);
  const out = JSON.parse(r.stdout);
  const mine = out.peers.find((p: any) => p.device === d.id);
  expect(mine).toMatchObject({ outcome: 'failed', events: 0 });
  return { out, stderr: r.stderr, peer: mine };
}

/** A damaged peer leaves the store exactly as it was (the error is logged for `sync status`). */
async function expectNothingLanded(obs: Device, d: Device, damage: () => void | Promise<void>) {
  const before = dumpStore(obs, { exclude: ['sync_log'] });
  await damage();
  const { peer, stderr } = await failingPull(obs, d);
  expect(dumpStore(obs, { exclude: ['sync_log'] })).toEqual(before);
  const status = await obs.json(['sync', 'status']);
  expect(status.lastError?.op).toBe('pull');
  // Still failing on the next try: a bad object is not skipped once it was reported.
  await failingPull(obs, d);
  expect(dumpStore(obs, { exclude: ['sync_log'] })).toEqual(before);
  return { peer, stderr };
}

describe('tampered objects in the bucket', () => {
  it('a FIFO in place of a listed segment: pull and verify exit 4 within seconds, never hang', async () => {
    const s = await scene();
    s.restoreGen2(a);
    const [victim] = await newSegments(a);
    rmSync(s.seg(a, victim.name));
    execFileSync('mkfifo', [s.seg(a, victim.name)]);
    const started = Date.now();
    const r = await s.obs.run(['sync', 'pull']);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/FIFO/);
    const v = await s.obs.run(['sync', 'verify']);
    expect(v.code).toBe(4);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('a device folder that is a symlink out of the bucket: refused (exit 4), nothing outside read or written', async () => {
    const s = await scene();
    const outside = join(s.dir, '..', `outside-${Date.now()}`);
    mkdirSync(outside);
    const folder = join(s.dir, 'stackunderflow/v1/devices', a.id);
    renameSync(folder, outside + '-real');
    cpSync(outside + '-real', outside, { recursive: true });
    symlinkSync(outside, folder);
    const before = readdirSync(outside, { recursive: true }).sort();
    const r = await s.obs.run(['sync', 'pull']);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/symbolic link/);
    expect((await s.obs.run(['sync', 'verify'])).code).toBe(4);
    expect(readdirSync(outside, { recursive: true }).sort()).toEqual(before);
  });

  it('a segment grown beyond its listed size is refused before it is read: exit 4', async () => {
    const s = await scene();
    s.restoreGen2(a);
    const [victim] = await newSegments(a);
    writeFileSync(s.seg(a, victim.name), Buffer.concat([readFileSync(s.seg(a, victim.name)), Buffer.alloc(1 << 20)]));
    const r = await s.obs.run(['sync', 'pull']);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/refused before downloading/);
  });

  it('a bucket directory without key.json (unmounted, moved) is a configuration error (exit 2), not a new bucket', async () => {
    const s = await scene();
    renameSync(s.dir, s.dir + '-moved');
    for (const cmd of [['sync', 'push'], ['sync', 'pull'], ['sync', 'verify']]) {
      const r = await s.obs.run(cmd);
      expect(r.code, cmd.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/has no stackunderflow\/v1\/key\.json/);
    }
    expect(existsSync(s.dir)).toBe(false);
  });

  it('a flipped byte in a segment: exit 4 for that peer, the others land, verify names the object', async () => {
    const s = await scene();
    s.restoreGen2(a, b, c);
    const [victim] = await newSegments(a);
    const path = s.seg(a, victim.name);
    const original = readFileSync(path);
    const flipped = Buffer.from(original);
    flipped[Math.floor(flipped.length / 2)] ^= 0x01;
    writeFileSync(path, flipped);

    const aBefore = peerState(s.obs, a);
    const { out } = await failingPull(s.obs, a);
    expect(peerState(s.obs, a)).toEqual(aBefore);
    for (const d of [b, c]) {
      const landed = out.peers.find((p: any) => p.device === d.id);
      expect(landed).toMatchObject({ outcome: 'landed', generation: 2, segments: 1 });
      expect(peerState(s.obs, d).peer).toMatchObject({ generation: 2, cursor_seq: (await manifestOf(gen2.get(d)!, d)).segments.at(-1)!.seqTo });
    }

    const v = await s.obs.run(['sync', 'verify', '--json']);
    expect(v.code).toBe(4);
    const report = JSON.parse(v.stdout);
    const bad = report.devices.find((x: any) => x.device === a.id);
    expect(bad.ok).toBe(false);
    expect(bad.errors.map((e: any) => e.object)).toEqual([segmentKey(a.id, victim.name)]);
    expect(report.devices.filter((x: any) => x.device !== a.id).every((x: any) => x.ok)).toBe(true);
    const human = await s.obs.run(['sync', 'verify']);
    expect(human.code).toBe(4);
    expect(human.stdout).toContain(victim.name);

    // Repaired: the same pull now lands it.
    writeFileSync(path, original);
    const healed = await s.obs.json(['sync', 'pull']);
    expect(healed.peers.find((p: any) => p.device === a.id)).toMatchObject({ outcome: 'landed', events: victim.count });
    expect((await s.obs.run(['sync', 'verify'])).code).toBe(0);
  });

  it('a truncated segment: exit 4, nothing landed', async () => {
    const s = await scene();
    const [victim] = await newSegments(a);
    await expectNothingLanded(s.obs, a, () => {
      s.restoreGen2(a);
      truncateSync(s.seg(a, victim.name), victim.bytes - 17);
    });
  });

  it('another segment of the same device under a listed name: exit 4, nothing landed', async () => {
    const s = await scene();
    const [victim] = await newSegments(a);
    const [older] = (await manifestOf(gen1.get(a)!, a)).segments;
    await expectNothingLanded(s.obs, a, () => {
      s.restoreGen2(a);
      cpSync(s.seg(a, older.name), s.seg(a, victim.name));
    });
  });

  it('another device\'s segment listed by a forged manifest entry: exit 4 (the header names its real device)', async () => {
    const s = await scene();
    const [foreign] = await newSegments(b);
    const aFirst = (await manifestOf(gen1.get(a)!, a)).segments;
    expect(foreign.seqFrom).toBeGreaterThan(aFirst.at(-1)!.seqTo);
    const forged = { ...(await manifestOf(gen2.get(a)!, a)), generation: 3, segments: [...aFirst, foreign] };
    const sealed = await seal(encodeManifest(forged, await identity.manifestAuth()), await identity.recipient());
    await expectNothingLanded(s.obs, a, () => {
      cpSync(s.seg(b, foreign.name), s.seg(a, foreign.name));
      writeFileSync(join(s.dir, manifestKey(a.id)), sealed);
    });
  });

  it('a segment listed for a seq range it does not hold: exit 4', async () => {
    const s = await scene();
    const m = await manifestOf(gen2.get(a)!, a);
    const last = m.segments.at(-1)!;
    const shifted = { ...m, generation: 3, segments: [...m.segments.slice(0, -1), { ...last, seqFrom: last.seqFrom + 1000, seqTo: last.seqTo + 1000 }] };
    const sealed = await seal(encodeManifest(shifted, await identity.manifestAuth()), await identity.recipient());
    await expectNothingLanded(s.obs, a, () => writeFileSync(join(s.dir, manifestKey(a.id)), sealed));
  });

  it('a listed segment that is missing: exit 4, nothing landed', async () => {
    const s = await scene();
    const [victim] = await newSegments(a);
    const { stderr } = await expectNothingLanded(s.obs, a, () => {
      s.restoreGen2(a);
      rmSync(s.seg(a, victim.name));
    });
    expect(stderr).toMatch(/missing/);
    const v = await s.obs.run(['sync', 'verify', '--json']);
    expect(v.code).toBe(4);
    expect(JSON.parse(v.stdout).devices.find((x: any) => x.device === a.id).errors.map((e: any) => e.object)).toEqual([segmentKey(a.id, victim.name)]);
  });

  it('a flipped byte in a manifest: exit 4, nothing landed', async () => {
    const s = await scene();
    const bytes = Buffer.from(gen2.get(a)!);
    bytes[bytes.length - 20] ^= 0x80;
    await expectNothingLanded(s.obs, a, () => s.put(a, bytes));
    const v = await s.obs.run(['sync', 'verify', '--json']);
    expect(v.code).toBe(4);
    expect(JSON.parse(v.stdout).devices.find((x: any) => x.device === a.id).errors[0].object).toBe(manifestKey(a.id));
  });

  it('a replayed older manifest: exit 4 naming both generations, nothing landed; a newer one heals it', async () => {
    const s = await scene();
    s.restoreGen2(a);
    const pulled = await s.obs.json(['sync', 'pull']);
    expect(pulled.peers.find((p: any) => p.device === a.id)).toMatchObject({ outcome: 'landed', generation: 2 });
    const { stderr } = await expectNothingLanded(s.obs, a, () => s.put(a, gen1.get(a)!));
    expect(stderr).toMatch(/generation 1\b/);
    expect(stderr).toMatch(/generation 2\b/);
    expect(peerState(s.obs, a).peer).toMatchObject({ generation: 2 });
    // The accepted generation back in place: nothing new, and no error.
    s.put(a, gen2.get(a)!);
    expect((await s.obs.json(['sync', 'pull'])).peers.find((p: any) => p.device === a.id).outcome).toBe('current');
  });

  it('the origin itself heals a replayed manifest on its next push', async () => {
    // Runs last on the pristine bucket: the real device a pushes over its own replayed manifest.
    writeFileSync(join(pristine.dir, manifestKey(a.id)), gen1.get(a)!);
    a.addClaudeProjects('-app');
    await a.ingest();
    const pushed = await a.json(['sync', 'push']);
    expect(pushed.generation).toBe(3);
    const m = await manifestOf(readFileSync(join(pristine.dir, manifestKey(a.id))), a);
    expect(m.generation).toBe(3);
    expect(m.segments.map((x) => x.name)).toEqual(expect.arrayContaining((await manifestOf(gen2.get(a)!, a)).segments.map((x) => x.name)));
    expect(m.segments).toHaveLength(3);
  });
});
