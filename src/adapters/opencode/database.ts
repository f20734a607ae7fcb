/**
 * OpenCode's SQLite database (`opencode.db`, or `opencode-<channel>.db`), read while OpenCode
 * may be writing to it.
 *
 * Safety: the file is opened read-only (better-sqlite3 `readonly`), so nothing we do can
 * modify it, and a read-only connection never checkpoints or deletes OpenCode's WAL. In WAL
 * mode a reader does not block the writer and the writer does not block a reader; a reader
 * waits only while the WAL index is being rebuilt (after a crash), bounded by BUSY_MS. All
 * queries of one read run in one transaction, so they see one snapshot. A database that is
 * busy beyond that, locked, or not OpenCode's is reported and retried on the next ingest;
 * it never fails the run.
 *
 * Incremental: the cursor keeps the largest `message.time_updated` read, the ids read at that
 * millisecond, and the largest part rowid. A read takes the messages updated after that time,
 * those updated in that same millisecond that it has not read (written after our snapshot),
 * and those with parts added since (a prompt's text part lands after its message row). The ingest
 * does not open the database at all while its file and WAL keep their size and mtime.
 */
import type Database from 'better-sqlite3';
import { openReadOnly } from '../../util/sqlite.js';
import { isObj, type Obj } from '../json.js';
import { stampOf } from '../whole.js';
import type { EventRecord } from '../../model/event.js';
import type { ParserState, SourceRead, SourceReader } from '../types.js';
import { fromSessionMessage, messageEvent, type SessionInfo } from './message.js';

/** How long a read waits for a lock before giving up until the next ingest. */
const BUSY_MS = 2000;

type Cursor = {
  v: 1;
  /** Largest message.time_updated read, and the ids read at that time. */
  t: number;
  at: string[];
  /** Largest part rowid seen. */
  part: number;
};

function restore(c: ParserState | null): Cursor {
  return c && c.v === 1 && typeof c.t === 'number' && Array.isArray(c.at) && typeof c.part === 'number'
    ? (c as unknown as Cursor)
    : { v: 1, t: 0, at: [], part: 0 };
}

function columns(db: Database.Database, table: string): Set<string> {
  return new Set((db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).map((c) => c.name));
}

interface MessageRow {
  id: string;
  session_id: string;
  type: string | null;
  updated: number;
  data: string;
}

function readDatabase(path: string, saved: ParserState | null): SourceRead {
  const cursor = restore(saved);
  let db: Database.Database;
  try {
    db = openReadOnly(path, BUSY_MS);
  } catch (err) {
    return { events: [], cursor, records: 0, malformed: 0, unreadable: (err as Error).message };
  }
  try {
    return db.transaction((): SourceRead => {
      const v1 = columns(db, 'message');
      const v2 = columns(db, 'session_message');
      const v1ok = v1.has('id') && v1.has('session_id') && v1.has('data');
      const v2ok = v2.has('id') && v2.has('session_id') && v2.has('type') && v2.has('data');
      if (!v1ok && !v2ok) {
        // Not OpenCode's schema (or a version we do not know): say so, and look again next time.
        return { events: [], cursor, records: 0, malformed: 0, unreadable: 'no OpenCode message table (a version this reader does not know?)' };
      }
      // The newer `session_message` table is read only where `message` holds nothing: whether a
      // version writes both, with the same ids, is not known, and reading both could bill twice.
      const useV2 = v2ok && (!v1ok || db.prepare('SELECT 1 FROM message LIMIT 1').get() === undefined);
      const table = useV2 ? 'session_message' : 'message';
      const msgCols = useV2 ? v2 : v1;
      const hasPart = !useV2 && columns(db, 'part').has('message_id');
      const updated = msgCols.has('time_updated') ? 'time_updated' : msgCols.has('time_created') ? 'time_created' : '0';
      const maxPart = hasPart ? ((db.prepare('SELECT MAX(rowid) FROM part').pluck().get() as number | null) ?? 0) : 0;
      const rows = db
        .prepare(
          `SELECT id, session_id, ${useV2 ? 'type' : 'NULL'} AS type, ${updated} AS updated, data FROM ${table}
           WHERE ${updated} > @t OR (${updated} = @t AND id NOT IN (SELECT value FROM json_each(@at)))
             ${hasPart ? 'OR id IN (SELECT message_id FROM part WHERE rowid > @part)' : ''}
           ORDER BY ${updated}, id`,
        )
        .all({ t: cursor.t, at: JSON.stringify(cursor.at), ...(hasPart ? { part: cursor.part } : {}) }) as MessageRow[];
      const partsOf = hasPart ? db.prepare('SELECT data FROM part WHERE message_id = ? ORDER BY id').pluck() : null;
      const sessionCols = columns(db, 'session');
      const sessionOf = sessionCols.has('id')
        ? db.prepare(`SELECT ${sessionCols.has('parent_id') ? 'parent_id' : 'NULL'} AS parent, ${sessionCols.has('directory') ? 'directory' : 'NULL'} AS directory FROM session WHERE id = ?`)
        : null;
      const sessions = new Map<string, SessionInfo | undefined>();
      const sessionInfo = (id: string): SessionInfo | undefined => {
        if (!sessions.has(id)) {
          const s = sessionOf?.get(id) as { parent: string | null; directory: string | null } | undefined;
          sessions.set(id, s ? { parent: s.parent || null, directory: s.directory || null } : undefined);
        }
        return sessions.get(id);
      };
      const events: EventRecord[] = [];
      let malformed = 0;
      let t = cursor.t;
      let at = cursor.at;
      for (const row of rows) {
        if (typeof row.updated === 'number' && row.updated > t) {
          t = row.updated;
          at = [];
        }
        if (row.updated === t) at.push(row.id);
        let info: unknown;
        try {
          info = JSON.parse(row.data);
        } catch {
          malformed++;
          continue;
        }
        if (useV2) {
          const v = fromSessionMessage(row.type, info);
          if (v) {
            const e = messageEvent(v.info, v.parts, sessionInfo(row.session_id), { id: row.id, session: row.session_id });
            if (e) events.push(e);
            else malformed++;
          } else malformed++;
          continue;
        }
        const parts: Obj[] = [];
        for (const p of (partsOf?.all(row.id) ?? []) as string[]) {
          try {
            const v: unknown = JSON.parse(p);
            if (isObj(v)) parts.push(v);
          } catch {
            /* a part we cannot read only loses its text */
          }
        }
        const e = messageEvent(info, parts, sessionInfo(row.session_id), { id: row.id, session: row.session_id });
        if (e) events.push(e);
        else malformed++;
      }
      return { events, cursor: { v: 1, t, at, part: Math.max(cursor.part, maxPart) }, records: rows.length, malformed };
    })();
  } catch (err) {
    // Busy beyond the wait, or not a database at all.
    return { events: [], cursor, records: 0, malformed: 0, unreadable: (err as Error).message };
  } finally {
    db.close();
  }
}

export function databaseReader(path: string): SourceReader {
  return {
    stamp: () => stampOf([path, path + '-wal']),
    read: (cursor) => readDatabase(path, cursor),
  };
}
