import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { loadMigrations, migrate, openDb } from '../../src/store/db.js';
import { tempDir } from '../helpers/fixtures.js';

const plan = (db: Database.Database, sql: string) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all('x', 'y') as Array<{ detail: string }>).map((r) => r.detail).join(' | ');

describe('store schema', () => {
  it('one identity index serves lookups by uid alone and by (device, uid), and the upsert target', () => {
    const db = openDb(join(tempDir(), 'store.db'));
    const indexes = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' AND name NOT LIKE 'sqlite_%' ORDER BY name`).pluck().all();
    expect(indexes).toEqual(['events_device_seq', 'events_session', 'events_uid_device']);
    expect(plan(db, 'SELECT id FROM events WHERE uid_bytes = ? OR uid_bytes = ?')).toMatch(/events_uid_device/);
    expect(plan(db, 'SELECT id FROM events WHERE device_id = ? AND uid_bytes = ?')).toMatch(/USING (COVERING )?INDEX events_uid_device/);
    // The writer looks a hex uid up as its stored bytes (migration 044).
    expect(plan(db, 'SELECT id FROM events WHERE device_id = ? AND uid_bytes = unhex(?)')).toMatch(/USING (COVERING )?INDEX events_uid_device/);
    // ON CONFLICT(device_id, uid_bytes) must still find a unique index on those columns.
    expect(() => db.prepare(`INSERT INTO events(device_id, uid_bytes, provider, project, session_id, record_id, ts, ts_ms, kind, seq, written_at)
      VALUES ('d', x'00', 'claude', 'p', 's', 'r', '', 0, 'user', 1, 'w') ON CONFLICT(device_id, uid_bytes) DO NOTHING`).run()).not.toThrow();
    // SQL that still names the hex columns fails rather than writing a second row per event.
    expect(() => db.prepare(`INSERT INTO events(device_id, uid, provider, project, session_id, record_id, ts, ts_ms, kind, chash, seq, written_at)
      VALUES ('d', 'u', 'claude', 'p', 's', 'r', '', 0, 'user', 'h', 1, 'w')`)).toThrow(/no column named uid/);
  });

  it('a new store gets 16 KiB pages; an existing store keeps its own', () => {
    const fresh = openDb(join(tempDir(), 'store.db'));
    expect(fresh.pragma('page_size', { simple: true })).toBe(16384);

    const path = join(tempDir(), 'store.db');
    const old = new Database(path);
    old.pragma('journal_mode = WAL');
    migrate(old, loadMigrations().filter((m) => m.version < 31));
    old.prepare(`INSERT INTO events(device_id, uid, provider, project, session_id, record_id, ts, ts_ms, kind, chash, seq, written_at)
      VALUES ('d', 'u', 'claude', 'p', 's', 'r', '', 0, 'user', 'h', 1, 'w')`).run();
    expect(old.pragma('page_size', { simple: true })).toBe(4096);
    old.close();
    const reopened = openDb(path);
    expect(reopened.pragma('page_size', { simple: true })).toBe(4096);
    expect(reopened.prepare('SELECT COUNT(*) FROM events WHERE uid_bytes = ?').pluck().get('u')).toBe(1);
  });
});

describe('usage slots (migration 034)', () => {
  it('bill long context by the prompt size the prices use', async () => {
    const { LONG_CONTEXT_THRESHOLD } = await import('../../src/query/pricing.js');
    const db = openDb(join(tempDir(), 'store.db'));
    const sql = (db.prepare(`SELECT group_concat(sql, ' ') FROM sqlite_master WHERE name IN ('usage_slot_rows', 'union_slot_rows', 'usage_slots_ai', 'usage_slots_raise')`).pluck().get() as string);
    const thresholds = [...sql.matchAll(/input_tokens \+ (?:NEW\.|OLD\.)?cache_creation_tokens \+ (?:NEW\.|OLD\.)?cache_read_tokens > (\d+)/g)].map((m) => Number(m[1]));
    // Five kinds in each view, the insert and the raise's new and old bill.
    expect(thresholds.length).toBe(5 * 2 + 5 + 5 * 2);
    expect(new Set(thresholds)).toEqual(new Set([LONG_CONTEXT_THRESHOLD]));
  });
});
