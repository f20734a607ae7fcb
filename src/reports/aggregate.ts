import { hasTable, type Db } from '../store/db.js';
import type { Provider } from '../model/event.js';
import { filterTerms, type ReportContext } from '../query/context.js';
import { slotsTable, usageScopeSql, usageTable } from '../query/scope.js';
import { coarseRange, localDaySql, offsetSegments, type OffsetSegments } from '../query/timezone.js';
import { LONG_CONTEXT_THRESHOLD, priceFor } from '../query/pricing.js';

export type GroupKey = 'day' | 'project' | 'session' | 'device';

/** One SQL group: tokens summed per (requested keys, provider, model). */
export interface AggRow {
  day: number | null;
  project: string | null;
  session: string | null;
  device: string | null;
  provider: Provider;
  model: string | null;
  inputTokens: number;
  outputTokens: number;
  cacheCreationTokens: number;
  cacheReadTokens: number;
  /** The 1-hour part of cacheCreationTokens (priced at 2x input instead of 1.25x). */
  cacheCreation1hTokens: number;
  reasoningTokens: number;
  inputAbove: number;
  outputAbove: number;
  cacheCreationAbove: number;
  cacheReadAbove: number;
  cacheCreation1hAbove: number;
  requests: number;
  /** First and last request, epoch ms (made ISO strings only where a report prints them). */
  firstMs: number;
  lastMs: number;
}

/** The data's time span (two index probes), or null when there is no usage. */
export function dataSpan(db: Db, table: 'usage' | 'usage_union' = 'usage'): { lo: number; hi: number } | null {
  const lo = db.prepare(`SELECT ts_ms FROM ${table} WHERE ts_ms > 0 ORDER BY ts_ms LIMIT 1`).pluck().get() as number | undefined;
  const hi = db.prepare(`SELECT ts_ms FROM ${table} ORDER BY ts_ms DESC LIMIT 1`).pluck().get() as number | undefined;
  return lo === undefined || hi === undefined ? null : { lo, hi };
}

/**
 * WHERE clauses shared by every usage query, except the local-day filter. Index use is
 * chosen here rather than left to SQLite (the store keeps no statistics): walking an index
 * costs a table lookup per row, about three times a plain scan, so the ts_ms index is used
 * only when the date range covers a small part of the data, and the device index never
 * (`+col` hides a column from the planner).
 */
export function baseWhere(ctx: ReportContext, span: { lo: number; hi: number }): { clauses: string[]; params: unknown[] } {
  const clauses: string[] = ['+u.ts_ms > 0']; // usage without a timestamp cannot be placed on a day (ccusage drops it too)
  const params: unknown[] = [];
  const scope = usageScopeSql(ctx.scope, 'u');
  clauses.push(scope.sql.replace(/^u\.device_id = \?$/, '+u.device_id = ?'));
  params.push(...scope.params);
  filterTerms(ctx, clauses, params);
  const { from, to } = coarseRange(ctx.sinceDay, ctx.untilDay);
  const covered = (Math.min(to ?? span.hi, span.hi) - Math.max(from ?? span.lo, span.lo)) / Math.max(1, span.hi - span.lo);
  const col = covered < 0.25 ? 'u.ts_ms' : '+u.ts_ms';
  if (from !== undefined) {
    clauses.push(`${col} >= ?`);
    params.push(from);
  }
  if (to !== undefined) {
    clauses.push(`${col} < ?`);
    params.push(to);
  }
  return { clauses, params };
}

/** The zone's offsets over the instants the query can touch. */
function segmentsFor(ctx: ReportContext, span: { lo: number; hi: number }): OffsetSegments {
  const { from, to } = coarseRange(ctx.sinceDay, ctx.untilDay);
  return offsetSegments(ctx.timezone, Math.max(span.lo, from ?? span.lo), Math.min(span.hi, to ?? span.hi));
}

/** A usage row `u` is a long-context request (pricing.ts isLongContext, in SQL). */
const LONG = `u.input_tokens + u.cache_creation_tokens + u.cache_read_tokens > ${LONG_CONTEXT_THRESHOLD}`;

/** Per group, each kind's tokens over its long-context requests only (input, output, cache creation, cache read). */
export const EXCESS_SUMS = ['input_tokens', 'output_tokens', 'cache_creation_tokens', 'cache_read_tokens'].map((c) => `SUM(CASE WHEN ${LONG} THEN u.${c} ELSE 0 END)`).join(', ');
/** The same for the 1-hour cache writes (2× the long-context input rate). */
export const EXCESS_1H_SUM = `SUM(CASE WHEN ${LONG} THEN u.cache_1h_tokens ELSE 0 END)`;

/**
 * Sums usage per group in SQL (never row by row in JS). Groups always include provider and
 * model (prices are per model); `keys` adds local day, project, session, device.
 *
 * From the 15-minute slots (migration 034) when they can answer exactly, else from the
 * usage rows. `from` forces one source (tests compare the two).
 */
export function aggregate(db: Db, ctx: ReportContext, keys: GroupKey[], from?: 'slots' | 'usage'): AggRow[] {
  const span = dataSpan(db, usageTable(ctx.scope));
  if (!span) return [];
  const seg = segmentsFor(ctx, span);
  const viaSlots = from === 'slots' || (from === undefined && slotsAnswer(db, ctx, keys, seg));
  return viaSlots ? fromSlots(db, ctx, keys, seg) : fromUsage(db, ctx, keys, span, seg);
}

/**
 * Whether the slots hold what this query needs: groups of day, device, provider and model
 * only, no project filter, a zone whose offsets and changes fall on slot boundaries (so a
 * whole slot lies on one local day). Every scope has slots: per device, and the union's.
 */
export function slotsAnswer(db: Db, ctx: ReportContext, keys: GroupKey[], seg: OffsetSegments): boolean {
  if (!hasTable(db, 'usage_slots')) return false;
  if (keys.some((k) => k !== 'day' && k !== 'device') || ctx.projectFilter) return false;
  if (!seg.offsets.every((o) => o % SLOT_MS === 0) || !seg.starts.slice(1).every((t) => t % SLOT_MS === 0)) return false;
  return true;
}

/** The slot length of the slot tables (migrations 034, 035). */
const SLOT_MS = 900_000;

/** The day filter and the SQL of the day of `column` (epoch ms), when the query needs days. */
function dayTerms(ctx: ReportContext, keys: GroupKey[], seg: OffsetSegments, column: string, clauses: string[], params: unknown[]): string {
  const needDay = keys.includes('day') || ctx.sinceDay !== undefined || ctx.untilDay !== undefined;
  if (!needDay) return 'NULL';
  const dayExpr = localDaySql(column, seg);
  if (ctx.sinceDay !== undefined) {
    clauses.push(`${dayExpr} >= ?`);
    params.push(ctx.sinceDay);
  }
  if (ctx.untilDay !== undefined) {
    clauses.push(`${dayExpr} <= ?`);
    params.push(ctx.untilDay);
  }
  return keys.includes('day') ? dayExpr : 'NULL';
}

/** A report's sums from usage_slots: one small scan, long-context excess included. */
function fromSlots(db: Db, ctx: ReportContext, keys: GroupKey[], seg: OffsetSegments): AggRow[] {
  const clauses: string[] = [];
  const params: unknown[] = [];
  if (ctx.scope.kind !== 'all' && (ctx.scope.kind === 'device' || ctx.scope.multiDevice)) {
    clauses.push('s.device_id = ?');
    params.push(ctx.scope.deviceId);
  }
  if (ctx.provider) {
    clauses.push('s.provider = ?');
    params.push(ctx.provider);
  }
  const { from, to } = coarseRange(ctx.sinceDay, ctx.untilDay);
  if (from !== undefined) {
    clauses.push('s.slot_ms > ?');
    params.push(from - SLOT_MS);
  }
  if (to !== undefined) {
    clauses.push('s.slot_ms < ?');
    params.push(to);
  }
  const day = dayTerms(ctx, keys, seg, 's.slot_ms', clauses, params);
  const device = keys.includes('device') ? 's.device_id' : 'NULL';
  const groupBy = [...keys, 'provider', 's.model_key'].join(', ');
  const rows = db
    .prepare(
      `SELECT ${day} AS day, NULL AS project, NULL AS session, ${device} AS device, s.provider AS provider, CASE WHEN s.model_key = '' THEN NULL ELSE substr(s.model_key, 2) END,
        SUM(s.input_tokens), SUM(s.output_tokens), SUM(s.cache_creation_tokens), SUM(s.cache_read_tokens), SUM(s.reasoning_tokens),
        SUM(s.requests), MIN(s.first_ms), MAX(s.last_ms),
        SUM(s.input_above), SUM(s.output_above), SUM(s.cache_creation_above), SUM(s.cache_read_above), SUM(s.cache_1h_tokens), SUM(s.cache_1h_above)
      FROM ${slotsTable(ctx.scope)} s WHERE ${clauses.length ? clauses.join(' AND ') : '1'} GROUP BY ${groupBy}`,
    )
    .raw()
    .all(...params) as RawAgg[];
  // As from the usage rows: excess only where a long-context rate can bill it.
  const tiered = new Map<string | null, boolean>();
  const hasTier = (m: string | null) => tiered.get(m) ?? tiered.set(m, m !== null && priceFor(m)?.above !== undefined).get(m)!;
  return rows.map((r) => aggRow(r, hasTier(r[5]) ? r : undefined));
}

/**
 * The same sums from the usage rows: any grouping, any filter, any scope.
 *
 * SQLite aggregates by sorting, and the sort dominates the cost, so the main query sorts
 * narrow records (integers, no timestamps as text). Long-context excess is summed by a
 * second query over only the rare requests that have any (a filtered scan, a tiny sort).
 */
function fromUsage(db: Db, ctx: ReportContext, keys: GroupKey[], span: { lo: number; hi: number }, seg: OffsetSegments): AggRow[] {
  const { clauses, params } = baseWhere(ctx, span);
  const table = usageTable(ctx.scope);
  const dayExpr = dayTerms(ctx, keys, seg, 'u.ts_ms', clauses, params);
  const cols = [
    `${dayExpr} AS day`,
    `${keys.includes('project') ? 'u.project' : 'NULL'} AS project`,
    `${keys.includes('session') ? 'u.session_id' : 'NULL'} AS session`,
    `${keys.includes('device') ? 'u.device_id' : 'NULL'} AS device`,
    'u.provider AS provider',
    'u.model AS model',
  ].join(', ');
  // Most distinct keys first: the sort behind GROUP BY then settles most comparisons on the first (integer) column.
  const groupBy = [...keys, 'provider', 'model'].join(', ');
  const where = clauses.join(' AND ');
  const rows = db
    .prepare(
      `SELECT ${cols},
        SUM(u.input_tokens), SUM(u.output_tokens), SUM(u.cache_creation_tokens), SUM(u.cache_read_tokens), SUM(u.reasoning_tokens),
        COUNT(*), MIN(u.ts_ms), MAX(u.ts_ms), NULL, NULL, NULL, NULL, SUM(u.cache_1h_tokens)
      FROM ${table} u WHERE ${where} GROUP BY ${groupBy}`,
    )
    .raw()
    .all(...params) as RawAgg[];

  // Only models with long-context rates need the excess; most stores have none of them.
  const tiered = [...new Set(rows.map((r) => r[5]))].filter((m): m is string => m !== null && priceFor(m)?.above !== undefined);
  const above = tiered.length === 0 ? [] : db
    .prepare(
      `SELECT ${cols},
        NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
        ${EXCESS_SUMS}, NULL, ${EXCESS_1H_SUM}
      FROM ${table} u WHERE ${where} AND u.model IN (${tiered.map(() => '?').join(', ')}) AND ${LONG}
      GROUP BY ${groupBy}`,
    )
    .raw()
    .all(...params, ...tiered) as RawAgg[];
  const keyOf = (r: RawAgg) => r.slice(0, 6).join('\u0000');
  const excess = new Map(above.map((r) => [keyOf(r), r]));

  return rows.map((r) => aggRow(r, excess.get(keyOf(r))));
}

/**
 * One group as SQL returns it, by position: day, project, session, device, provider, model,
 * input, output, cache creation, cache read, reasoning, requests, first and last ms, then
 * the long-context requests' input, output, cache creation, cache read, then the 1-hour cache writes, and the
 * long-context requests' 1-hour cache writes. Rows come as arrays
 * (better-sqlite3's `raw`): the addon building an 18-key object per row took twice as long as
 * the query itself (the 320 groups of a daily report on the 200 MB bench store: 5.2 ms as
 * objects, 2.2 ms as arrays, 1.6 ms of it the query).
 */
type RawAgg = [
  day: number | null, project: string | null, session: string | null, device: string | null, provider: Provider, model: string | null,
  input: number, output: number, cacheCreation: number, cacheRead: number, reasoning: number, requests: number, firstMs: number, lastMs: number,
  inputAbove?: number | null, outputAbove?: number | null, cacheCreationAbove?: number | null, cacheReadAbove?: number | null, cache1h?: number,
  cache1hAbove?: number | null,
];

/**
 * Built field by field: object rest/spread of these 14-field rows cost ~15 ms per report
 * in a fresh process (V8's generic copy path), more than the rest of the JS work together.
 * `x` holds the long-context sums (positions 14-17 and 19), when the model has a long-context rate.
 */
function aggRow(r: RawAgg, x: RawAgg | undefined): AggRow {
  return {
    day: r[0],
    project: r[1],
    session: r[2],
    device: r[3],
    provider: r[4],
    model: r[5],
    inputTokens: r[6],
    outputTokens: r[7],
    cacheCreationTokens: r[8],
    cacheReadTokens: r[9],
    cacheCreation1hTokens: r[18] ?? 0,
    reasoningTokens: r[10],
    inputAbove: x?.[14] ?? 0,
    outputAbove: x?.[15] ?? 0,
    cacheCreationAbove: x?.[16] ?? 0,
    cacheReadAbove: x?.[17] ?? 0,
    cacheCreation1hAbove: x?.[19] ?? 0,
    requests: r[11],
    firstMs: r[12],
    lastMs: r[13],
  };
}
