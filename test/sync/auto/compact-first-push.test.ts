/**
 * A big first push cuts many full-size segments. Merging them cannot shorten the list (the
 * segment bounds cut the merge again), so it must not count toward compact_after: the push
 * uploads its segments once and no snapshot. Small deltas pushed after it are still merged,
 * and the full segments stay listed as they are (docs/specs/sync-protocol-v1.md §10.1).
 */
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Device, fileBucket, setupSync } from '../../helpers/devices.js';
import { isFullSegment } from '../../../src/sync/compact.js';
import { appendClaude } from './helpers.js';

const listed = (d: Device) =>
  d.withDb((db) => db.prepare('SELECT name, kind, count, bytes FROM sync_segments ORDER BY seq_from').all() as Array<{ name: string; kind: string; count: number; bytes: number }>);

describe('compaction after a big first push', () => {
  const a = new Device('bigpush');
  const bucket = fileBucket();

  beforeAll(async () => {
    await setupSync(['--bucket', bucket.url], a);
    await a.ok(['sync', 'auto', '--compact-after', '2']);
  }, 60_000);

  it('a first push of more full-size segments than compact_after compacts nothing and uploads no snapshot', async () => {
    // ~15 KB of incompressible text per event: 1,800 events fill four segments at the 8 MiB plaintext bound.
    for (let i = 0; i < 1800; i++) appendClaude(a, { text: ' ' + randomBytes(11_000).toString('base64') });
    await a.ingest();
    const pushed = await a.json(['sync', 'push']);
    expect(pushed.compaction).toBeUndefined();
    const segs = listed(a);
    expect(segs.length).toBeGreaterThan(2);
    expect(segs.every((s) => s.kind === 'segment' && isFullSegment(s))).toBe(true);
    expect(pushed.uploadedSegments).toBe(segs.length);
    // Nothing else in the bucket: no snapshot waits unlisted for prune.
    const objects = readdirSync(join(bucket.dir, 'stackunderflow', 'v1', 'devices', a.id, 'seg'));
    expect(objects.sort()).toEqual(segs.map((s) => `${s.name}.age`).sort());
    expect(a.withDb((db) => db.prepare('SELECT COUNT(*) FROM sync_retired').pluck().get())).toBe(0);
  }, 120_000);

  it('small deltas after it are merged; the full segments stay listed as they are', async () => {
    const full = listed(a).map((s) => s.name);
    let compaction: any = null;
    for (let i = 0; i < 3; i++) {
      appendClaude(a, { n: 1 });
      await a.ingest();
      compaction = (await a.json(['sync', 'push'])).compaction ?? compaction;
    }
    expect(compaction).toMatchObject({ kind: 'minor', kept: full.length, replaced: 3, snapshots: 1, events: 3 });
    const after = listed(a);
    expect(after.slice(0, full.length).map((s) => s.name)).toEqual(full);
    expect(after.slice(full.length).map((s) => s.kind)).toEqual(['snapshot']);
  }, 120_000);
});
