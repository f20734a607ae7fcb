import type { Db } from './db.js';
import { ensureDeviceId, getMeta, hasTable, setMeta } from './db.js';
import type { EventKind, EventRecord, Provider } from '../model/event.js';
import { CONTENT_COLUMNS, EVENT_COLUMNS, EVENT_PLACEHOLDERS, EVENT_SQL_COLUMNS, eventRow, placeholder, rowValues, storedColumn } from './rows.js';

export { EVENT_COLUMNS, EVENT_PLACEHOLDERS, EVENT_SQL_COLUMNS } from './rows.js';
import type { Hlc } from '../model/clock.js';

export interface WriteStats {
  inserted: number;
  updated: number;
  unchanged: number;
}

/**
 * Writes this device's own events. Insert-or-update by (device, uid); an update happens
 * only when what the event says differs (CONTENT_COLUMNS), and takes a new `seq` and `written_at`, so sync
 * ships exactly new and changed events. Call inside a transaction for batching.
 */
export class LocalEventWriter {
  private nextSeq: number;
  /**
   * Leave the new events' full-text indexing to the next search (fts_pending): set by a bulk
   * ingest, whose events are then written ~15 % faster and whose first search indexes them once.
   */
  deferSearch = false;
  private readonly insert;
  private readonly existing;
  private readonly update;

  constructor(
    private readonly db: Db,
    private readonly deviceId: string,
    private readonly hlc: Hlc,
  ) {
    const max = db.prepare('SELECT MAX(seq) FROM events WHERE device_id = ?').pluck().get(deviceId) as number | null;
    this.nextSeq = Math.max(max ?? 0, Number(getMeta(db, 'last_seq') ?? 0)) + 1;
    const lastStamp = getMeta(db, 'last_hlc');
    if (lastStamp) hlc.observe(lastStamp);
    this.existing = db.prepare(`SELECT id, ${CONTENT_COLUMNS.join(', ')} FROM events WHERE device_id = ? AND uid_bytes = unhex(?)`).raw();
    // Positional binds (binding 25 named parameters from an object per row cost ~17 % of an insert),
    // and insert-first: on a cold ingest nearly every event is new, so the lookup runs only on a conflict.
    this.insert = db.prepare(`INSERT INTO events(${EVENT_SQL_COLUMNS}) VALUES (${EVENT_PLACEHOLDERS})
      ON CONFLICT(device_id, uid_bytes) DO NOTHING`);
    this.update = db.prepare(`UPDATE events SET ${EVENT_COLUMNS.filter((c) => c !== 'device_id' && c !== 'uid').map((c) => `${storedColumn(c)} = ${placeholder(c)}`).join(', ')}
      WHERE id = ?`);
  }

  /** `byProvider`, when given, gets the same counts split by the events' provider. */
  write(
    events: EventRecord[],
    stats: WriteStats = { inserted: 0, updated: 0, unchanged: 0 },
    byProvider?: Record<string, WriteStats>,
  ): WriteStats {
    const before = maxEventId(this.db);
    const count = (e: EventRecord, k: keyof WriteStats) => {
      stats[k]++;
      if (byProvider) (byProvider[e.provider] ??= { inserted: 0, updated: 0, unchanged: 0 })[k]++;
    };
    // One row per identity per batch (the last version): derived data of new rows is built
    // after the batch, so a row must not be inserted and then changed within it.
    const latest = new Map<string, number>();
    for (let i = 0; i < events.length; i++) {
      const was = latest.get(events[i].uid);
      if (was !== undefined) count(events[was], 'unchanged');
      latest.set(events[i].uid, i);
    }
    for (const i of latest.values()) {
      const e = events[i];
      const values = rowValues(eventRow(e, this.deviceId, this.nextSeq, this.hlc.tick()));
      if (this.insert.run(values).changes === 1) {
        this.nextSeq++;
        count(e, 'inserted');
        continue;
      }
      const prev = this.existing.get(this.deviceId, e.uid) as unknown[];
      if (sameContent(prev, values)) {
        count(e, 'unchanged');
        continue;
      }
      this.update.run([...values.slice(2), prev[0]]);
      this.nextSeq++;
      count(e, 'updated');
    }
    indexNewEvents(this.db, before, { deferSearch: this.deferSearch });
    return stats;
  }

  /** Persist the counters so seq never goes backwards, even if events are later removed. */
  flush(): void {
    setMeta(this.db, 'last_seq', String(this.nextSeq - 1));
    setMeta(this.db, 'last_hlc', this.hlc.tick());
  }
}

/** Where each of CONTENT_COLUMNS sits in a row's values. */
const CONTENT_AT = CONTENT_COLUMNS.map((c) => EVENT_COLUMNS.indexOf(c));

/** Whether a stored row (id, then CONTENT_COLUMNS) holds the event of these row values. */
function sameContent(stored: unknown[], values: unknown[]): boolean {
  for (let k = 0; k < CONTENT_AT.length; k++) if (stored[k + 1] !== (values[CONTENT_AT[k]] ?? null)) return false;
  return true;
}

/** An event read back, with what its origin device stamped on it. */
type StoredEvent = EventRecord & { seq: number; writtenAt: string };

/** An events row (migrations/001_core.sql; store/rows.ts writes it), uid selected as hex (migration 044). */
export interface EventsRow {
  id: number;
  device_id: string;
  uid: string;
  provider: Provider;
  project: string;
  project_path: string | null;
  session_id: string;
  record_id: string;
  ts: string;
  ts_ms: number;
  kind: EventKind;
  model: string | null;
  sidechain: number;
  agent: string | null;
  usage_key: string | null;
  has_usage: number;
  input_tokens: number;
  output_tokens: number;
  cache_creation_tokens: number;
  cache_read_tokens: number;
  reasoning_tokens: number;
  total_tokens: number;
  text: string | null;
  extra: string | null;
  seq: number;
  written_at: string;
}

/** Reads a device's events with seq in (afterSeq, throughSeq] back as records, in seq order (for sync's push and compaction). */
export function readEventsSince(db: Db, deviceId: string, afterSeq: number, throughSeq: number, limit: number): StoredEvent[] {
  // Only the columns a record needs, as arrays: a first push reads every event, and `SELECT *`
  // as objects cost about twice as much (measured in bench/sync.ts).
  const rows = db
    .prepare(
      `SELECT lower(hex(uid_bytes)), provider, project, project_path, session_id, record_id, ts, kind, model, sidechain, agent, usage_key,
        has_usage, input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens, reasoning_tokens, total_tokens,
        text, extra, seq, written_at
      FROM events WHERE device_id = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?`,
    )
    .raw(true)
    .all(deviceId, afterSeq, throughSeq, limit) as RecordTuple[];
  return rows.map((r) => ({
    uid: r[0],
    provider: r[1],
    project: r[2],
    projectPath: r[3],
    session: r[4],
    record: r[5],
    ts: r[6],
    kind: r[7],
    model: r[8],
    sidechain: r[9] === 1,
    agent: r[10],
    usageKey: r[11],
    usage: r[12]
      ? { inputTokens: r[13], outputTokens: r[14], cacheCreationTokens: r[15], cacheReadTokens: r[16], reasoningTokens: r[17], totalTokens: r[18] }
      : null,
    text: r[19],
    extra: r[20],
    seq: r[21],
    writtenAt: r[22],
  }));
}

/** readEventsSince's columns, in its SELECT's order. */
type RecordTuple = [
  string, Provider, string, string | null, string, string, string, EventKind, string | null, number, string | null, string | null,
  number, number, number, number, number, number, number, string | null, string | null, number, string,
];

/** The highest event row id (0 for an empty store): rows inserted later all have larger ids. */
export function maxEventId(db: Db): number {
  return (db.prepare('SELECT MAX(id) FROM events').pluck().get() as number | null) ?? 0;
}

/**
 * Derived data for the events inserted after row `afterId`: billing facts, session and
 * project aggregates, full-text index. Every writer calls it once per batch, inside the
 * batch's transaction, so readers never see an event without them. Set-based on purpose:
 * per-row triggers doing the same were most of a cold ingest's cost.
 *
 * `deferSearch` leaves the full-text index to the next search (fts_pending, migration 033):
 * for a sync landing of a large backlog.
 *
 * NOT INDEXED pins each statement to the rowid range of the batch: left to choose, SQLite
 * grouped projects by scanning the whole events_session index, a cost that grew with the
 * store on every batch (0.45 s a batch at 1 M events, against ~0 for the range).
 */
export function indexNewEvents(db: Db, afterId: number, opts: { deferSearch?: boolean } = {}): void {
  // Billing (docs/numbers.md, migration 035): each line merges into its device's bill for its
  // key (max per field, earliest line), then, once the store holds other devices, the union
  // row of every key the batch touched is re-derived from the per-device bills.
  // A store older than migration 035 (tests write to one) bills nothing: 035 bills every event when it runs.
  if (hasTable(db, 'usage_union')) {
    db.prepare('INSERT INTO bill_in SELECT * FROM billed_lines WHERE event_id > ?').run(afterId);
    billUnion(db, afterId);
  }
  db.prepare(`INSERT INTO sessions(device_id, provider, session_id, project, first_ts, last_ts, events)
    SELECT device_id, provider, session_id, MIN(project), COALESCE(MIN(NULLIF(ts, '')), ''), MAX(ts), COUNT(*)
    FROM events NOT INDEXED WHERE id > ? GROUP BY device_id, provider, session_id
    ON CONFLICT(device_id, provider, session_id) DO UPDATE SET
      first_ts = CASE WHEN excluded.first_ts <> '' AND (sessions.first_ts = '' OR excluded.first_ts < sessions.first_ts) THEN excluded.first_ts ELSE sessions.first_ts END,
      last_ts  = CASE WHEN excluded.last_ts > sessions.last_ts THEN excluded.last_ts ELSE sessions.last_ts END,
      events   = sessions.events + excluded.events`).run(afterId);
  db.prepare(`INSERT INTO projects(provider, slug, path)
    SELECT provider, project, MAX(project_path) FROM events NOT INDEXED WHERE id > ? GROUP BY provider, project
    ON CONFLICT(provider, slug) DO UPDATE SET path = COALESCE(projects.path, excluded.path)`).run(afterId);
  if (!hasTable(db, 'events_fts')) return;
  if (opts.deferSearch && hasTable(db, 'fts_pending')) db.prepare('INSERT INTO fts_pending(id) SELECT id FROM events NOT INDEXED WHERE id > ?').run(afterId);
  else db.prepare('INSERT INTO events_fts(rowid, text) SELECT id, text FROM events NOT INDEXED WHERE id > ?').run(afterId);
}

/**
 * Keeps `usage_union` (the `all` scope's bills) for the keys of the events after `afterId`.
 * A store of one device has none to keep; the first batch holding another device's events
 * builds it from every bill, and from then on each batch re-derives the keys it touched.
 */
function billUnion(db: Db, afterId: number): void {
  if (getMeta(db, 'usage_union') === '1') {
    db.prepare('INSERT INTO union_in(usage_key) SELECT DISTINCT usage_key FROM billed_lines WHERE event_id > ?').run(afterId);
    return;
  }
  const other = db.prepare('SELECT 1 FROM events NOT INDEXED WHERE id > ? AND device_id <> ? LIMIT 1').get(afterId, ensureDeviceId(db));
  if (other === undefined) return;
  db.exec('INSERT INTO usage_union SELECT * FROM usage_union_rows');
  setMeta(db, 'usage_union', '1');
}

/**
 * Indexes the events a large sync landing left for later (fts_pending, migration 033), in one
 * transaction; returns how many. A no-op costing one lookup when nothing is pending. With
 * `wait: false` (a search), a store busy with another writer (a pull landing) is left as it
 * is: the search answers from the index as it stands, and a later one catches up.
 */
export function catchUpSearchIndex(db: Db, opts: { wait?: boolean } = {}): number {
  if (!hasTable(db, 'fts_pending') || db.prepare('SELECT 1 FROM fts_pending LIMIT 1').get() === undefined) return 0;
  const timeout = db.pragma('busy_timeout', { simple: true }) as number;
  if (opts.wait === false) db.pragma('busy_timeout = 0');
  try {
    return db.transaction(() => {
      const n = db.prepare('INSERT INTO events_fts(rowid, text) SELECT e.id, e.text FROM fts_pending p JOIN events e ON e.id = p.id').run().changes;
      db.exec('DELETE FROM fts_pending');
      return n;
    })();
  } catch (err) {
    if (opts.wait === false && /SQLITE_BUSY|database is locked|readonly/i.test(`${(err as { code?: string }).code} ${(err as Error).message}`)) return 0;
    throw err;
  } finally {
    if (opts.wait === false) db.pragma(`busy_timeout = ${timeout}`);
  }
}

/** How many events the search index still lacks (see catchUpSearchIndex). */
export function pendingSearchIndex(db: Db): number {
  return hasTable(db, 'fts_pending') ? (db.prepare('SELECT COUNT(*) FROM fts_pending').pluck().get() as number) : 0;
}
