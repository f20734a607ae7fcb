import type { EventRecord } from '../../src/model/event.js';
import { Hlc, fixedClock } from '../../src/model/clock.js';
import { loadMigrations, type Db } from '../../src/store/db.js';
import { EVENT_COLUMNS, indexNewEvents, maxEventId } from '../../src/store/events.js';
import { eventRow, rowValues } from '../../src/store/rows.js';

/**
 * Stores as versions before migration 044 wrote them (uid as hex text in a column of that name,
 * and each event's content hash in `chash`), for the tests of the migrations that bring them up to date.
 */

/** Puts a current store back in that form: 035's billed_lines view, 044 not applied. Opening it again runs 044. */
export function asBefore044(db: Db): void {
  const sql = loadMigrations().find((m) => m.version === 35)!.sql;
  const start = sql.indexOf('CREATE VIEW billed_lines AS');
  const view035 = sql.slice(start, sql.indexOf(';', start) + 1);
  // The rename first: it rewrites the view and triggers that name the column, which must exist.
  // Any hex does for chash: 044 drops it unread.
  db.exec(`UPDATE events SET uid_bytes = lower(hex(uid_bytes));
    ALTER TABLE events RENAME COLUMN uid_bytes TO uid;
    ALTER TABLE events ADD COLUMN chash TEXT NOT NULL DEFAULT '';
    UPDATE events SET chash = uid;
    DROP VIEW billed_lines;
    ${view035}
    DELETE FROM schema_migrations WHERE version = 44;`);
}

/** Writes `events` as `deviceId` into a store migrated only part of the way (before 044), as that version's writer did. */
export function writeBefore044(db: Db, deviceId: string, events: EventRecord[], clockMs = 1_700_000_000_000): void {
  const hlc = new Hlc(fixedClock(clockMs, 1));
  const insert = db.prepare(`INSERT INTO events(${EVENT_COLUMNS.join(', ')}, chash) VALUES (${EVENT_COLUMNS.map(() => '?').join(', ')}, ?)`);
  let seq = ((db.prepare('SELECT MAX(seq) FROM events WHERE device_id = ?').pluck().get(deviceId) as number | null) ?? 0) + 1;
  db.transaction(() => {
    const before = maxEventId(db);
    for (const e of events) insert.run([...rowValues(eventRow(e, deviceId, seq++, hlc.tick())), e.uid]);
    indexNewEvents(db, before);
  })();
}
