/**
 * Full-text search over every event's text (prompts, replies, tool calls and results), on
 * the FTS5 index of migrations/030_search.sql, under the same scope and filters as reports.
 * Shared by `stackunderflow search` and `GET /api/search`: both print `SearchResult` as is.
 */
import type { Db } from '../store/db.js';
import type { EventKind, Provider } from '../model/event.js';
import { SuError, messageOf } from '../errors.js';
import { contextMeta, filterTerms, reportContext, type ReportMeta } from '../query/context.js';
import { eventsScopeSql, knownDevices } from '../query/scope.js';
import type { ReportOptions } from '../query/options.js';
import { dateToDay, dayStartMs } from '../query/timezone.js';
import { parseQuery, type ParsedQuery } from './query.js';
import { parseSearchLimit } from './limits.js';
import { catchUpSearchIndex } from '../store/events.js';
import { hasTable } from '../store/db.js';
import { parseExtra, roleOf, type Role } from './roles.js';

export { parseQuery, type ParsedQuery } from './query.js';
export { showSession, type Conversation } from './show.js';
export { renderSearch, renderConversation } from './render.js';

// The limits live apart so the CLI can describe --limit without loading search itself.
export { parseSearchLimit } from './limits.js';
export { catchUpSearchIndex, pendingSearchIndex } from '../store/events.js';

export interface SearchOptions extends Omit<ReportOptions, 'byDevice'> {
  /** At most this many results (1..MAX_LIMIT, default DEFAULT_LIMIT). */
  limit?: number;
}

/** One matching event. */
interface SearchHit {
  sessionId: string;
  provider: Provider;
  project: string;
  /** Origin device of the event (under `all`, the device whose copy won). */
  deviceId: string;
  deviceName: string | null;
  /** ISO-8601 UTC ('' when the record had no time). */
  timestamp: string;
  /** The stored event kind. */
  kind: EventKind;
  /** How it reads in the conversation (`tool_call`, `tool_result` for Claude's tool records). */
  role: Role;
  model: string | null;
  eventUid: string;
  /** Relevance, higher is better (FTS5's bm25, negated). Comparable within one search only. */
  score: number;
  /** Plain text around the matches, whitespace collapsed, `…` where it was cut. */
  snippet: string;
  /** Matched ranges in `snippet` as [start, end) offsets in UTF-16 code units (JavaScript string indices). */
  highlights: Array<[number, number]>;
}

/** What a search returns, by CLI `--json` and `GET /api/search` alike. */
export interface SearchResult {
  query: { text: string; match: string };
  results: SearchHit[];
  /** More events matched than `limit`. */
  more: boolean;
  meta: ReportMeta & { limit: number };
}

// Private-use characters mark matches inside snippet(): they cannot come from the tokenizer's
// output and are stripped from the text before offsets are computed.
const OPEN = '\uE000';
const CLOSE = '\uE001';
const SNIPPET_TOKENS = 24;

/** Turns FTS5's marked snippet into plain text plus match offsets; whitespace runs become one space. */
function parseSnippet(marked: string): { snippet: string; highlights: Array<[number, number]> } {
  const s = marked.replace(/\s+/g, ' ').trim();
  let out = '';
  const highlights: Array<[number, number]> = [];
  let open = -1;
  for (const ch of s) {
    if (ch === OPEN) {
      if (open < 0) open = out.length;
    } else if (ch === CLOSE) {
      if (open >= 0 && out.length > open) highlights.push([open, out.length]);
      open = -1;
    } else out += ch;
  }
  return { snippet: out, highlights };
}

interface HitRow {
  uid: string;
  device_id: string;
  provider: Provider;
  project: string;
  session_id: string;
  ts: string;
  kind: EventKind;
  model: string | null;
  extra: string | null;
  rank: number;
  snip: string;
}

/** SQLite's own words must not reach the user: a broken index gets a repair hint, anything else is ours. */
function indexError(err: unknown): never {
  const msg = messageOf(err);
  if (/malformed|corrupt|fts5/i.test(msg)) {
    throw new SuError('STORE', 'the search index is damaged or out of step with the store', {
      hint: 'rebuild it with `stackunderflow search --reindex`',
      cause: err,
    });
  }
  throw new SuError('INTERNAL', `search failed: ${msg}`, { cause: err });
}

/**
 * Ranked full-text search (bm25, best first; ties newest first). Under `all`, an event
 * present on several devices is one hit (last write wins, as everywhere else). `since` and
 * `until` are local days in the report time zone; `project`, `provider` and `scope` mean
 * what they mean in reports.
 */
export function search(db: Db, query: string | ParsedQuery, opts: SearchOptions = {}, env?: NodeJS.ProcessEnv): SearchResult {
  catchUpSearchIndex(db, { wait: false });
  const q = typeof query === 'string' ? parseQuery(query) : query;
  const limit = parseSearchLimit(opts.limit);
  const ctx = reportContext(db, opts, env);
  const where: string[] = ['events_fts MATCH ?'];
  const params: unknown[] = [q.match];
  const scope = eventsScopeSql(ctx.scope, 'u');
  where.push(scope.sql);
  params.push(...scope.params);
  filterTerms(ctx, where, params);
  if (ctx.since || ctx.until) where.push('u.ts_ms > 0'); // an event without a time is on no day
  if (ctx.since) {
    where.push('u.ts_ms >= ?');
    params.push(dayStartMs(ctx.timezone, dateToDay(ctx.since)));
  }
  if (ctx.until) {
    where.push('u.ts_ms < ?');
    params.push(dayStartMs(ctx.timezone, dateToDay(ctx.until) + 1));
  }
  const sql = `SELECT lower(hex(u.uid_bytes)) AS uid, u.device_id, u.provider, u.project, u.session_id, u.ts, u.kind, u.model, u.extra,
      bm25(events_fts) AS rank, snippet(events_fts, 0, '${OPEN}', '${CLOSE}', '…', ${SNIPPET_TOKENS}) AS snip
    FROM events_fts JOIN events u ON u.id = events_fts.rowid
    WHERE ${where.join(' AND ')}
    ORDER BY rank, u.ts DESC, u.id
    LIMIT ?`;
  let rows: HitRow[];
  try {
    rows = db.prepare(sql).all(...params, limit + 1) as HitRow[];
  } catch (err) {
    indexError(err);
  }
  const more = rows.length > limit;
  if (more) rows = rows.slice(0, limit);
  const names = new Map(knownDevices(db).map((d) => [d.deviceId, d.name] as const));
  const results = rows.map((r): SearchHit => {
    const { snippet, highlights } = parseSnippet(r.snip ?? '');
    return {
      sessionId: r.session_id,
      provider: r.provider,
      project: r.project,
      deviceId: r.device_id,
      deviceName: names.get(r.device_id) ?? null,
      timestamp: r.ts,
      kind: r.kind,
      role: roleOf(r.kind, parseExtra(r.extra)),
      model: r.model,
      eventUid: r.uid,
      // bm25 is negative, smaller is better; rounding keeps JSON stable across platforms.
      score: Math.round(-r.rank * 1e6) / 1e6,
      snippet,
      highlights,
    };
  });
  return {
    query: { text: q.text, match: q.match },
    results,
    more,
    meta: { ...contextMeta(ctx), limit },
  };
}

/** What a rebuild did. */
export interface ReindexResult {
  /** Events in the store (each has an index row). */
  events: number;
  /** Of those, events with searchable text. */
  withText: number;
  ms: number;
}

/**
 * Rebuilds the search index from the events table, in one transaction. The index is kept
 * current by triggers, so this is a repair tool (a damaged index, or one edited by hand).
 */
export function reindex(db: Db, now: () => number = Date.now): ReindexResult {
  const t0 = now();
  db.transaction(() => {
    db.exec(`INSERT INTO events_fts(events_fts) VALUES ('rebuild')`);
    if (hasTable(db, 'fts_pending')) db.exec('DELETE FROM fts_pending');
  })();
  const events = db.prepare('SELECT COUNT(*) FROM events').pluck().get() as number;
  const withText = db.prepare('SELECT COUNT(*) FROM events WHERE text IS NOT NULL').pluck().get() as number;
  return { events, withText, ms: now() - t0 };
}
