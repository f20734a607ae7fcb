/**
 * Compaction and pruning against a real S3 server (s3rver), driven through the CLI, with
 * each command's clock shifted to do the day arithmetic: a lagging active peer holds a
 * replaced segment back until it acknowledges it; a peer silent for longer than keep-days
 * stops holding back; orphans go by age; a device joining after all that still gets every
 * event, from the snapshot. Also: a compaction interrupted between its manifest write and
 * its local bookkeeping is adopted, one that never committed is forgotten.
 */
import { appendFileSync, copyFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Device, setupSync } from '../../helpers/devices.js';
import { openObjectStore, type ObjectStore } from '../../../src/sync/objectstore/index.js';
import { appendClaude, eventKeys, s3Bucket, shifted } from './helpers.js';

type Bucket = Awaited<ReturnType<typeof s3Bucket>>;

async function keysOf(store: ObjectStore, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const o of store.list(prefix)) out.push(o.key);
  return out.sort();
}

const segKey = (dev: string, name: string) => `stackunderflow/v1/devices/${dev}/seg/${name}.age`;

describe('compaction and pruning (s3rver)', () => {
  let s3: Bucket;
  let store: ObjectStore;
  const a = new Device('a');
  const b = new Device('b');
  const c = new Device('c');
  const late = new Device('late');
  /** A's delta segments, oldest first, as each push committed them. */
  const deltas: Array<{ name: string; seqTo: number }> = [];

  async function pushA(n: number): Promise<void> {
    appendClaude(a, { n });
    await a.ingest();
    await a.ok(['sync', 'push']);
  }

  beforeAll(async () => {
    s3 = await s3Bucket();
    store = await openObjectStore('s3://test-bucket', { endpoint: s3.endpoint, region: s3.region });
    await setupSync(s3.args(), a, b, c);
    await a.ok(['sync', 'auto', '--compact-after', '2']);

    await pushA(3);
    // C pulls after A's first segment and says so with a push of its own.
    appendClaude(c, { n: 1 });
    await c.ingest();
    await c.ok(['sync', 'pull']);
    await c.ok(['sync', 'push']);
    await pushA(2);
    appendClaude(b, { n: 2 });
    await b.ingest();
    await b.ok(['sync', 'pull']);
    await b.ok(['sync', 'push']);
    deltas.push(
      ...a.withDb((db) => db.prepare('SELECT name, seq_to AS seqTo FROM sync_segments ORDER BY seq_from').all() as Array<{ name: string; seqTo: number }>),
    );
    expect(deltas).toHaveLength(2);
    // The third delta pushes the list past --compact-after 2: the push compacts.
    appendClaude(a, { n: 4 });
    await a.ingest();
    const pushed = await a.json(['sync', 'push']);
    expect(pushed.compaction).toMatchObject({ snapshots: 1, replaced: 3, events: 9 });
    const third = a.withDb((db) => db.prepare('SELECT name, seq_to AS seqTo FROM sync_retired ORDER BY seq_from').all() as Array<{ name: string; seqTo: number }>);
    expect(third.slice(0, 2)).toEqual(deltas);
    deltas.push(third[2]);
  }, 120_000);

  afterAll(async () => {
    await s3?.stop();
  });

  it('the manifest lists one snapshot with every event; the replaced segments stay in the bucket, unlisted', async () => {
    const segs = a.withDb((db) => db.prepare('SELECT kind, seq_from, seq_to, count FROM sync_segments').all());
    expect(segs).toEqual([{ kind: 'snapshot', seq_from: 1, seq_to: 9, count: 9 }]);
    const inBucket = await keysOf(store, `stackunderflow/v1/devices/${a.id}/seg/`);
    expect(inBucket).toHaveLength(4);
    for (const d of deltas) expect(inBucket).toContain(segKey(a.id, d.name));
    const st = await a.json(['sync', 'status']);
    expect(st.auto).toMatchObject({ compactedThrough: 9, retired: { segments: 3 } });
  });

  it('nothing is younger than keep-days yet: dry run and prune both keep everything', async () => {
    const dry = await a.json(['sync', 'prune', '--dry-run']);
    expect(dry).toMatchObject({ dryRun: true, deleted: 0, bytesSaved: 0, kept: 3 });
    for (const o of dry.objects) expect(o.reason).toMatch(/younger than keep-days/);
    const real = await a.json(['sync', 'prune']);
    expect(real.deleted).toBe(0);
    expect(await keysOf(store, `stackunderflow/v1/devices/${a.id}/seg/`)).toHaveLength(4);
  });

  it('after keep-days, only what every active peer acknowledged goes; a lagging peer holds the rest back', async () => {
    // B was last heard of 25 days on, C 5 days on; neither has pulled A since the compaction.
    appendClaude(c, { n: 1 });
    c.clock = shifted(5);
    await c.ingest();
    await c.ok(['sync', 'push']);
    appendClaude(b, { n: 1 });
    b.clock = shifted(25);
    await b.ingest();
    await b.ok(['sync', 'push']);

    a.clock = shifted(31);
    const dry = await a.json(['sync', 'prune', '--dry-run']);
    const byName = (r: any, d: { name: string }) => r.objects.find((o: any) => o.key === segKey(a.id, d.name));
    expect(byName(dry, deltas[0])).toMatchObject({ action: 'delete', kind: 'replaced' });
    expect(byName(dry, deltas[1]).action).toBe('keep');
    expect(byName(dry, deltas[1]).reason).toContain(`${c.id} (acked ${deltas[0].seqTo} < ${deltas[1].seqTo})`);
    expect(byName(dry, deltas[2]).action).toBe('keep');
    expect(dry.bytesSaved).toBeGreaterThan(0);
    expect(await keysOf(store, `stackunderflow/v1/devices/${a.id}/seg/`)).toHaveLength(4);

    const real = await a.json(['sync', 'prune']);
    expect(real.deleted).toBe(1);
    expect(real.bytesSaved).toBe(dry.bytesSaved);
    expect(real.peers.map((p: any) => [p.id, p.active]).sort()).toEqual([[b.id, true], [c.id, true]].sort());
    const left = await keysOf(store, `stackunderflow/v1/devices/${a.id}/seg/`);
    expect(left).not.toContain(segKey(a.id, deltas[0].name));
    expect(left).toContain(segKey(a.id, deltas[1].name));
  });

  it('a peer silent for longer than keep-days no longer holds pruning back; the active one still does', async () => {
    a.clock = shifted(36);
    const r = await a.json(['sync', 'prune']);
    expect(r.peers.find((p: any) => p.id === c.id)).toMatchObject({ active: false });
    expect(r.deleted).toBe(1);
    const left = await keysOf(store, `stackunderflow/v1/devices/${a.id}/seg/`);
    expect(left).not.toContain(segKey(a.id, deltas[1].name));
    expect(left).toContain(segKey(a.id, deltas[2].name));
    expect(r.objects.find((o: any) => o.key === segKey(a.id, deltas[2].name)).reason).toContain(`${b.id} (acked ${deltas[1].seqTo}`);
  });

  it('once the lagging peer has pulled and published its acks, the last replaced segment goes', async () => {
    b.clock = shifted(36);
    await b.ok(['sync', 'pull']);
    const bPrune = await b.json(['sync', 'prune']);
    expect(bPrune.acksPublished).not.toBeNull();
    const r = await a.json(['sync', 'prune']);
    expect(r.deleted).toBe(1);
    const left = await keysOf(store, `stackunderflow/v1/devices/${a.id}/`);
    // Only what the manifest lists is left: the manifest and the snapshot.
    const snapshot = a.withDb((db) => db.prepare('SELECT name FROM sync_segments').pluck().all() as string[]);
    expect(left).toEqual([`stackunderflow/v1/devices/${a.id}/manifest.age`, ...snapshot.map((n) => segKey(a.id, n))].sort());
    expect(await keysOf(store, 'stackunderflow/v1/key.json')).toEqual(['stackunderflow/v1/key.json']);
    expect(a.withDb((db) => db.prepare('SELECT COUNT(*) FROM sync_retired').pluck().get())).toBe(0);
  });

  it('a peer past the snapshot fetches only later segments', async () => {
    a.clock = shifted(36);
    appendClaude(a, { n: 1 });
    await a.ingest();
    await a.ok(['sync', 'push']);
    const pulled = await b.json(['sync', 'pull']);
    expect(pulled.peers.find((p: any) => p.device === a.id)).toMatchObject({ outcome: 'landed', segments: 1, events: 1 });
  });

  it('orphans of a crashed push go by age alone', async () => {
    const orphan = segKey(a.id, 'f'.repeat(64));
    await store.put(orphan, new Uint8Array([1, 2, 3]));
    const young = await a.json(['sync', 'prune', '--dry-run', '--keep-days', '1000']);
    expect(young.objects).toMatchObject([{ key: orphan, kind: 'orphan', action: 'keep' }]);
    const r = await a.json(['sync', 'prune']);
    expect(r.objects).toMatchObject([{ key: orphan, kind: 'orphan', action: 'delete' }]);
    expect(await keysOf(store, orphan)).toEqual([]);
  });

  it('a device joining after compaction and pruning gets every event of every device', async () => {
    late.env.STACKUNDERFLOW_SYNC_KEY = b.env.STACKUNDERFLOW_SYNC_KEY;
    late.clock = shifted(36);
    await late.ok(['sync', 'init', ...s3.args(), '--device-name', 'late']);
    const pulled = await late.json(['sync', 'pull']);
    expect(pulled.peers.every((p: any) => p.outcome === 'landed')).toBe(true);
    for (const origin of [a, b, c]) expect(eventKeys(late, origin.id)).toEqual(eventKeys(origin, origin.id));
    expect(eventKeys(late, a.id)).toHaveLength(10);
    const all = await late.daily('all');
    const sum = async (d: Device) => (await d.daily('local')).totals.outputTokens;
    expect(all.totals.outputTokens).toBe((await sum(a)) + (await sum(b)) + (await sum(c)));
    const v = await late.run(['sync', 'verify']);
    expect(v.code).toBe(0);
  });
});

describe('a compaction interrupted by a crash', () => {
  let s3: Bucket;
  const d = new Device('crashy');
  const peer = new Device('peer');

  beforeAll(async () => {
    s3 = await s3Bucket('crash-bucket');
    await setupSync(s3.args(), d, peer);
    for (let i = 0; i < 3; i++) {
      appendClaude(d, { n: 2 });
      await d.ingest();
      await d.ok(['sync', 'push']);
    }
  }, 60_000);

  afterAll(async () => {
    await s3?.stop();
  });

  it('after the manifest landed but before the local commit: the next push adopts it', async () => {
    // Recreate the exact state a kill leaves: the bucket has the compacted manifest, the
    // store has the pre-compaction bookkeeping plus the recorded intent.
    const before = `${d.storeFile}.before`;
    d.withDb((db) => db.pragma('wal_checkpoint(TRUNCATE)'));
    copyFileSync(d.storeFile, before);
    expect((await d.run(['sync', 'prune', '--compact', '--dry-run'])).code).toBe(64);
    const compacted = await d.json(['sync', 'prune', '--compact', '--keep-days', '1000']);
    expect(compacted.compaction).toMatchObject({ snapshots: 1, replaced: 3 });
    const entries = d.withDb((db) => db.prepare('SELECT name, kind, seq_from AS seqFrom, seq_to AS seqTo, count, bytes, sha256 FROM sync_segments').all());
    const generation = compacted.compaction.generation;
    d.withDb((db) => db.pragma('wal_checkpoint(TRUNCATE)'));
    rmSync(`${d.storeFile}-wal`, { force: true });
    rmSync(`${d.storeFile}-shm`, { force: true });
    copyFileSync(before, d.storeFile);
    d.withDb((db) => db.prepare("INSERT INTO sync_settings(key, value) VALUES ('compaction_pending', ?)").run(JSON.stringify({ through: compacted.compaction.through, entries })));

    appendClaude(d, { n: 1 });
    await d.ingest();
    const after = await d.json(['sync', 'push']);
    expect(after.generation).toBe(generation + 1);
    const segs = d.withDb((db) => db.prepare('SELECT kind, seq_from, seq_to FROM sync_segments ORDER BY seq_from').all());
    expect(segs).toEqual([
      { kind: 'snapshot', seq_from: 1, seq_to: 6 },
      { kind: 'segment', seq_from: 7, seq_to: 7 },
    ]);
    expect(d.withDb((db) => db.prepare('SELECT COUNT(*) FROM sync_retired').pluck().get())).toBe(3);
    await peer.ok(['sync', 'pull']);
    expect(eventKeys(peer, d.id)).toEqual(eventKeys(d, d.id));
  });

  it('one that never committed is forgotten; its snapshot is an orphan and nothing is lost', async () => {
    d.withDb((db) =>
      db.prepare("INSERT INTO sync_settings(key, value) VALUES ('compaction_pending', ?)").run(
        JSON.stringify({ through: 7, entries: [{ name: 'e'.repeat(64), kind: 'snapshot', seqFrom: 1, seqTo: 7, count: 7, bytes: 10, sha256: 'e'.repeat(64) }] }),
      ),
    );
    appendClaude(d, { n: 1 });
    await d.ingest();
    const r = await d.json(['sync', 'push']);
    expect(r.generation).not.toBeNull();
    expect(d.withDb((db) => db.prepare("SELECT value FROM sync_settings WHERE key = 'compaction_pending'").pluck().get())).toBeUndefined();
    const fresh = new Device('fresh');
    fresh.env.STACKUNDERFLOW_SYNC_KEY = peer.env.STACKUNDERFLOW_SYNC_KEY;
    await fresh.ok(['sync', 'init', ...s3.args()]);
    await fresh.ok(['sync', 'pull']);
    expect(eventKeys(fresh, d.id)).toEqual(eventKeys(d, d.id));
    expect(eventKeys(fresh, d.id)).toHaveLength(8);
  });
});

describe('size-tiered compaction', () => {
  let s3: Bucket;
  const t = new Device('tiered');
  const peer = new Device('peer2');

  beforeAll(async () => {
    s3 = await s3Bucket('tier-bucket');
    await setupSync(s3.args(), t, peer);
  }, 60_000);

  afterAll(async () => {
    await s3?.stop();
  });

  it('a minor compaction keeps a large snapshot, merges only what came after it; a new device still gets the latest of every event', async () => {
    const filler = ' lorem ipsum dolor sit amet'.repeat(40);
    appendClaude(t, { n: 400, text: filler, session: '00000000-0000-4000-8000-00000000aaaa' });
    await t.ingest();
    await t.ok(['sync', 'push']);
    const first = await t.json(['sync', 'prune', '--compact', '--keep-days', '1000']);
    expect(first.compaction).toMatchObject({ kind: 'major', snapshots: 1, events: 400 });
    await t.ok(['sync', 'auto', '--compact-after', '2']);

    // A later version of an event the big snapshot holds: same record, new content.
    const file = join(t.claudeDir, 'projects', '-home-u-tiered-proj', '00000000-0000-4000-8000-00000000aaaa.jsonl');
    const line = JSON.parse(readFileSync(file, 'utf8').split('\n')[0]);
    line.message.content[0].text = 'edited later';
    let compaction: any = null;
    for (let i = 0; i < 3; i++) {
      if (i === 1) appendFileSync(file, JSON.stringify(line) + '\n');
      else appendClaude(t, { n: 1 });
      await t.ingest();
      const r = await t.json(['sync', 'push']);
      compaction = r.compaction ?? compaction;
    }
    expect(compaction).toMatchObject({ kind: 'minor', kept: 1, replaced: 3 });
    const listed = t.withDb((db) => db.prepare('SELECT kind FROM sync_segments ORDER BY seq_from').pluck().all());
    expect(listed).toEqual(['snapshot', 'snapshot']);

    const fresh = new Device('fresh2');
    fresh.env.STACKUNDERFLOW_SYNC_KEY = peer.env.STACKUNDERFLOW_SYNC_KEY;
    await fresh.ok(['sync', 'init', ...s3.args()]);
    await fresh.ok(['sync', 'pull']);
    const rows = (d: Device) => d.withDb((db) => db.prepare('SELECT lower(hex(uid_bytes)) AS uid, text FROM events WHERE device_id = ? ORDER BY uid').all(t.id));
    expect(rows(fresh)).toEqual(rows(t));
    expect(rows(fresh).some((r: any) => r.text === 'edited later')).toBe(true);
  });
});

describe('status: peer freshness and clock skew', () => {
  let s3: Bucket;
  const here = new Device('here');
  const ahead = new Device('ahead');

  beforeAll(async () => {
    s3 = await s3Bucket('skew-bucket');
    await setupSync(s3.args(), here, ahead);
  }, 60_000);

  afterAll(async () => {
    await s3?.stop();
  });

  it('warns when a peer’s clock leads ours by more than 5 minutes, and shows how far it merged our events', async () => {
    appendClaude(here, { n: 2 });
    await here.ingest();
    await here.ok(['sync', 'push']);
    ahead.clock = shifted(2 / 24);
    appendClaude(ahead, { n: 1 });
    await ahead.ingest();
    await ahead.ok(['sync', 'pull']);
    await ahead.ok(['sync', 'push']);
    await here.ok(['sync', 'pull']);
    await here.ok(['sync', 'prune']);
    const s = await here.json(['sync', 'status']);
    const peer = s.peers.find((p: any) => p.id === ahead.id);
    expect(peer.clockAheadSeconds).toBeGreaterThan(7000);
    expect(peer.ackedOurSeq).toBe(2);
    expect(s.warnings).toHaveLength(1);
    expect(s.warnings[0]).toMatch(/clock is ahead of ours by 2 h/);
    const text = (await here.ok(['sync', 'status'])).stdout;
    expect(text).toMatch(/WARNING: ahead \([0-9a-f]{16}\)'s clock is ahead of ours by 2 h/);
    expect(text).toMatch(/has merged our events through seq 2 of 2 \(up to date\)/);
    // The peer with the right clock sees no warning about us.
    expect((await ahead.json(['sync', 'status'])).warnings).toEqual([]);
  });
});
