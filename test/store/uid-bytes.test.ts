import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ADAPTERS } from '../../src/adapters/index.js';
import { ingest } from '../../src/ingest/index.js';
import { dailyReport } from '../../src/reports/index.js';
import { search } from '../../src/search/index.js';
import { ensureDeviceId, openDb, type Db } from '../../src/store/db.js';
import { EVENT_COLUMNS, LocalEventWriter, readEventsSince } from '../../src/store/events.js';
import { CONTENT_COLUMNS, eventRow, rowValues } from '../../src/store/rows.js';
import type { EventRecord } from '../../src/model/event.js';
import { Hlc, fixedClock } from '../../src/model/clock.js';
import { FIXTURES_DIR, tempDir } from '../helpers/fixtures.js';
import { asBefore044 } from '../helpers/old-store.js';
import { tempStore, usageEvent, write } from '../reports/helpers.js';

/**
 * Migration 044: an event's uid is stored as its 32 bytes, not 64 hex characters, and no content
 * hash is stored: the writer compares the stored columns. Everything outside the store still sees
 * hex, and a store written before reads, bills and re-ingests exactly as it did.
 */
const ENV = { CLAUDE_CONFIG_DIR: join(FIXTURES_DIR, 'claude'), CODEX_HOME: join(FIXTURES_DIR, 'codex'), TZ: 'UTC' };
const HEX64 = /^[0-9a-f]{64}$/;

const notBlob32 = (db: Db) =>
  db.prepare(`SELECT COUNT(*) FROM events WHERE typeof(uid_bytes) <> 'blob' OR length(uid_bytes) <> 32`).pluck().get();

function observed(db: Db, self: string) {
  return {
    events: readEventsSince(db, self, 0, Number.MAX_SAFE_INTEGER, 1_000_000),
    usage: db.prepare('SELECT * FROM usage ORDER BY usage_key, device_id').all(),
    daily: dailyReport(db, { timezone: 'UTC', scope: { kind: 'local' } }),
    hits: search(db, 'the', { limit: 50 }).results.map((h) => h.eventUid),
  };
}

describe('uid stored as 32 bytes, no content hash (migration 044)', () => {
  it('a new store writes blobs and reads them back as the hex the adapters computed', async () => {
    const db = openDb(join(tempDir('su-044-'), 'store.db'));
    await ingest(db, { adapters: [...ADAPTERS], env: ENV });
    expect(db.prepare('SELECT COUNT(*) FROM events').pluck().get()).toBeGreaterThan(50);
    expect(notBlob32(db)).toBe(0);
    const self = ensureDeviceId(db);
    for (const e of readEventsSince(db, self, 0, Number.MAX_SAFE_INTEGER, 1_000_000)) expect(e.uid).toMatch(HEX64);
    const hits = search(db, 'the').results;
    expect(hits.length).toBeGreaterThan(0);
    for (const h of hits) expect(h.eventUid).toMatch(HEX64);
  });

  it('a store written with hex hashes is converted in place: same events, bills, reports and search, and its logs are nothing new', async () => {
    const path = join(tempDir('su-044-'), 'store.db');
    let db = openDb(path);
    await ingest(db, { adapters: [...ADAPTERS], env: ENV });
    const self = ensureDeviceId(db);
    const before = observed(db, self);
    asBefore044(db);
    expect(db.prepare(`SELECT COUNT(*) FROM events WHERE typeof(uid) = 'text' AND length(uid) = 64`).pluck().get()).toBe(before.events.length);
    db.close();

    db = openDb(path);
    expect(notBlob32(db)).toBe(0);
    expect(observed(db, self)).toEqual(before);
    // The same logs read again from the start: every event is found by its identity, its content hash equal.
    db.exec('DELETE FROM source_files');
    const again = await ingest(db, { adapters: [...ADAPTERS], env: ENV });
    expect(again.linesRead).toBeGreaterThan(50);
    expect(again.events).toMatchObject({ inserted: 0, updated: 0 });
    expect(observed(db, self)).toEqual(before);
  });

  it('a process of the previous version, still running after the upgrade, fails to write instead of adding rows', async () => {
    const path = join(tempDir('su-044-'), 'store.db');
    let db = openDb(path);
    await ingest(db, { adapters: [...ADAPTERS], env: ENV });
    asBefore044(db);
    db.close();
    // An old sync daemon: its connection and its statements were made before the upgrade.
    const old = new Database(path);
    const e = usageEvent({ ts: '2026-01-05T10:00:00Z' });
    const oldInsert = old.prepare(`INSERT INTO events(${EVENT_COLUMNS.join(', ')}, chash) VALUES (${EVENT_COLUMNS.map(() => '?').join(', ')}, ?)
      ON CONFLICT(device_id, uid) DO NOTHING`);
    const oldRead = old.prepare('SELECT uid, chash FROM events ORDER BY id LIMIT 1');
    db = openDb(path); // the new version upgrades the store
    const count = db.prepare('SELECT COUNT(*) FROM events').pluck().get();
    expect(() => oldInsert.run([...rowValues(eventRow(e, 'dev-old', 1, '1800000000000.000000')), e.uid])).toThrow(/no such column|has no column named uid/);
    expect(() => oldRead.get()).toThrow(/no such column/);
    expect(db.prepare('SELECT COUNT(*) FROM events').pluck().get()).toBe(count);
    old.close();
  });

  it('the writer tells an event read again from a changed one by every column of what it says', () => {
    const { db } = tempStore();
    const base: EventRecord = { ...usageEvent({ ts: '2026-01-05T10:00:00Z', cacheCreate: 5, cacheRead: 7, reasoning: 3 }), projectPath: '/p', text: 'hi', extra: '{"a":1}', agent: 'x' };
    write(db, [base]);
    const again = (e: EventRecord) => {
      const stats = { inserted: 0, updated: 0, unchanged: 0 };
      const w = new LocalEventWriter(db, ensureDeviceId(db), new Hlc(fixedClock(1_900_000_000_000, 1)));
      db.transaction(() => w.write([e], stats))();
      return stats;
    };
    expect(again(base)).toEqual({ inserted: 0, updated: 0, unchanged: 1 });
    const u = base.usage!;
    const changes: Array<Partial<EventRecord>> = [
      { project: '-other' }, { projectPath: null }, { session: 'sess-2' }, { record: 'other-record' }, { ts: '2026-01-05T10:00:01.000Z' },
      { kind: 'user' }, { model: null }, { sidechain: true }, { agent: null }, { usageKey: 'm:other' }, { usage: null },
      { usage: { ...u, inputTokens: u.inputTokens + 1 } }, { usage: { ...u, outputTokens: u.outputTokens + 1 } },
      { usage: { ...u, cacheCreationTokens: 6 } }, { usage: { ...u, cacheReadTokens: 8 } }, { usage: { ...u, reasoningTokens: 4 } },
      { usage: { ...u, totalTokens: u.totalTokens + 1 } }, { text: 'hi!' }, { text: null }, { extra: '{"a":2}' }, { extra: null },
    ];
    // Every column of CONTENT_COLUMNS is reached by some change above.
    expect(CONTENT_COLUMNS.length).toBe(21);
    let prev = base;
    for (const c of changes) {
      const next = { ...prev, ...c };
      expect(again(next), JSON.stringify(c)).toEqual({ inserted: 0, updated: 1, unchanged: 0 });
      expect(again(next), JSON.stringify(c)).toEqual({ inserted: 0, updated: 0, unchanged: 1 });
      prev = next;
    }
  });

  it('a usage line billed under its own identity keeps its key in hex', () => {
    const { db } = tempStore();
    // A Claude line with an old-style key and neither id in extra bills as `uid:<its uid>`.
    const e = usageEvent({ ts: '2026-01-05T10:00:00Z', usageKey: 'legacy-key', output: 42 });
    write(db, [e]);
    expect(db.prepare('SELECT usage_key, output_tokens FROM usage').raw().all()).toEqual([[`uid:${e.uid}`, 42]]);
  });
});
