/**
 * One bad row never blocks a push (spec §7.1): a store written by an older version can hold
 * an event with an impossible token count (negative, fractional, infinite). Such a row is held
 * back from sync, the rest is pushed and lands on peers, `sync status` says what was held back
 * and why, and later pushes run as usual.
 */
import { describe, expect, it } from 'vitest';
import { Device, fileBucket, setupSync } from '../../helpers/devices.js';

describe('malformed own rows in the store', () => {
  it('are held back and reported; everything else is pushed, every time', async () => {
    const a = new Device('a');
    const b = new Device('b');
    await setupSync(['--bucket', fileBucket().url], a, b);
    a.addClaudeProjects('-home-u-proj');
    await a.ingest();
    // What an older version could store: -5, 1.5 and 1e400 (SQLite keeps it as Infinity).
    const bad = a.withDb((db) => {
      const ids = db.prepare('SELECT id FROM events WHERE has_usage = 1 ORDER BY id LIMIT 3').pluck().all() as number[];
      expect(ids).toHaveLength(3);
      const set = db.prepare('UPDATE events SET output_tokens = ? WHERE id = ?');
      set.run(-5, ids[0]);
      set.run(1.5, ids[1]);
      db.prepare('UPDATE events SET output_tokens = 9e999 WHERE id = ?').run(ids[2]);
      return db.prepare(`SELECT lower(hex(uid_bytes)) FROM events WHERE id IN (${ids.join(',')})`).pluck().all() as string[];
    });
    const total = a.withDb((db) => db.prepare('SELECT COUNT(*) FROM events').pluck().get() as number);

    const pushed = await a.run(['sync', 'push', '--json']);
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(JSON.parse(pushed.stdout).stagedEvents).toBe(total - 3);
    const status = await a.json(['sync', 'status']);
    expect(status.heldBack.count).toBe(3);
    expect(status.heldBack.examples[0].problem).toMatch(/not an integer ≥ 0/);
    expect(status.pendingEvents).toBe(0);
    expect((await a.ok(['sync', 'status'])).stdout).toMatch(/Held back: +3 event\(s\) of this device are malformed/);

    await b.ok(['sync', 'pull']);
    const landed = b.withDb((db) => db.prepare('SELECT lower(hex(uid_bytes)) FROM events WHERE device_id = ?').pluck().all(a.id) as string[]);
    expect(landed).toHaveLength(total - 3);
    for (const uid of bad) expect(landed).not.toContain(uid);

    // Later pushes are not blocked either.
    a.addClaudeProjects('-repo');
    await a.ingest();
    const again = await a.run(['sync', 'push']);
    expect(again.code, again.stderr).toBe(0);
    expect((await a.json(['sync', 'status'])).heldBack.count).toBe(3);
  });
});
