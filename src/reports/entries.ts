import type { Db } from '../store/db.js';
import { baseWhere, dataSpan, EXCESS_1H_SUM, EXCESS_SUMS } from './aggregate.js';
import type { ReportContext } from '../query/context.js';
import { groupCost, responseCost } from '../query/pricing.js';
import { usageTable } from '../query/scope.js';

/**
 * One billed response, as every report bills it: the store's `usage` rows (one per usage
 * key, the billing rule already applied at ingest) under the report's scope and filters.
 * Reports that need single responses rather than sums (5-hour blocks, the status line) read
 * these, so a change of the billing rule reaches them the same way it reaches the daily report.
 */
export interface BilledEntry {
  /** Epoch ms of the response (its first line). */
  ms: number;
  model: string | null;
  device: string;
  session: string;
  inputTokens: number;
  outputTokens: number;
  cacheCreationTokens: number;
  cacheReadTokens: number;
  /** The 1-hour part of cacheCreationTokens (billed at 2x input instead of 1.25x). */
  cacheCreation1hTokens: number;
  /** USD; null when the model has no price (and the response has tokens). */
  cost: number | null;
}

export interface EntryRange {
  /** First instant included (epoch ms). */
  fromMs?: number;
  /** Last instant included (epoch ms). */
  untilMs?: number;
  /** Only this session. */
  session?: string;
  /**
   * Leave `device` and `session` empty: every column then read is in the time index
   * (usage_day, union_day), so a window is one range of that index and no table row is
   * looked up (the table is keyed by usage key: its rows of one hour lie on many pages).
   * Blocks need neither.
   */
  lean?: boolean;
}

type RawEntry = [ms: number, model: string | null, device: string, session: string, input: number, output: number, cc: number, cr: number, cc1h: number];

/**
 * Billed responses in the context's scope, provider and project, oldest first. The date
 * filters of the context are not applied (blocks filter on their own start, not on entries).
 */
/** The table and WHERE of the bills in a range, or null when the store has no usage. */
function rangeQuery(db: Db, ctx: ReportContext, range: EntryRange): { table: 'usage' | 'usage_union'; where: string; params: unknown[] } | null {
  // Under the all scope of several devices, the union's bills: a response held by two devices is one.
  const table = usageTable(ctx.scope);
  const span = dataSpan(db, table);
  if (!span) return null;
  const { clauses, params } = baseWhere({ ...ctx, sinceDay: undefined, untilDay: undefined }, span);
  if (range.fromMs !== undefined) {
    clauses.push('u.ts_ms >= ?');
    params.push(range.fromMs);
  }
  if (range.untilMs !== undefined) {
    clauses.push('u.ts_ms <= ?');
    params.push(range.untilMs);
  }
  if (range.session !== undefined) {
    // The session index (migration 042) serves only a query that states its condition, ts_ms > 0
    // (baseWhere's `+u.ts_ms > 0` does not count).
    clauses.push('u.session_id = ?', 'u.ts_ms > 0');
    params.push(range.session);
  }
  return { table, where: clauses.join(' AND '), params };
}

export function billedEntries(db: Db, ctx: ReportContext, range: EntryRange = {}): BilledEntry[] {
  const q = rangeQuery(db, ctx, range);
  if (!q) return [];
  const who = range.lean ? "'', ''" : 'u.device_id, u.session_id';
  const rows = db
    .prepare(
      `SELECT u.ts_ms, u.model, ${who}, u.input_tokens, u.output_tokens, u.cache_creation_tokens, u.cache_read_tokens, u.cache_1h_tokens
      FROM ${q.table} u WHERE ${q.where} ORDER BY u.ts_ms, u.usage_key`,
    )
    .raw()
    .all(...q.params) as RawEntry[];
  return rows.map((r) => {
    const t = { inputTokens: r[4], outputTokens: r[5], cacheCreationTokens: r[6], cacheReadTokens: r[7], cacheCreation1hTokens: r[8] };
    return { ms: r[0], model: r[1], device: r[2], session: r[3], ...t, cost: responseCost(r[1], t) };
  });
}

/** The times of the billed responses from `fromMs` on, oldest first: one range of the time index, one number each. */
export function billedTimes(db: Db, ctx: ReportContext, fromMs: number): number[] {
  const q = rangeQuery(db, ctx, { fromMs });
  if (!q) return [];
  return db.prepare(`SELECT u.ts_ms FROM ${q.table} u WHERE ${q.where} ORDER BY u.ts_ms, u.usage_key`).pluck().all(...q.params) as number[];
}

/** The time of the latest billed response before `ms` in the context's scope, or null: one index probe. */
export function latestEntryBefore(db: Db, ctx: ReportContext, ms: number): number | null {
  const table = usageTable(ctx.scope);
  const span = dataSpan(db, table);
  if (!span) return null;
  const { clauses, params } = baseWhere({ ...ctx, sinceDay: undefined, untilDay: undefined }, span);
  const v = db
    .prepare(`SELECT u.ts_ms FROM ${table} u WHERE ${clauses.join(' AND ')} AND u.ts_ms < ? ORDER BY u.ts_ms DESC LIMIT 1`)
    .pluck()
    .get(...params, ms) as number | undefined;
  return v ?? null;
}

/** The cost of some billed responses and how many there were. */
export interface BilledSum {
  /** USD; responses of a model without a price count 0, as in {@link BilledEntry}'s sums. */
  cost: number;
  responses: number;
}

type RawSum = [
  model: string | null, responses: number, input: number, output: number, cc: number, cr: number, cc1h: number,
  inputAbove: number, outputAbove: number, ccAbove: number, crAbove: number, cc1hAbove: number,
];

/**
 * What the billed responses in a range cost, summed in SQL per model (prices are linear in
 * tokens, and the long-context requests are summed apart): the sum of their
 * {@link billedEntries}' costs without a row reaching JS. `lean` does not apply.
 */
export function billedSum(db: Db, ctx: ReportContext, range: EntryRange = {}): BilledSum {
  const q = rangeQuery(db, ctx, range);
  if (!q) return { cost: 0, responses: 0 };
  const rows = db
    .prepare(
      `SELECT u.model, COUNT(*), SUM(u.input_tokens), SUM(u.output_tokens), SUM(u.cache_creation_tokens), SUM(u.cache_read_tokens), SUM(u.cache_1h_tokens), ${EXCESS_SUMS}, ${EXCESS_1H_SUM}
      FROM ${q.table} u WHERE ${q.where} GROUP BY u.model`,
    )
    .raw()
    .all(...q.params) as RawSum[];
  let cost = 0;
  let responses = 0;
  for (const r of rows) {
    responses += r[1];
    cost +=
      groupCost({
        model: r[0], inputTokens: r[2], outputTokens: r[3], cacheCreationTokens: r[4], cacheReadTokens: r[5], cacheCreation1hTokens: r[6],
        inputAbove: r[7], outputAbove: r[8], cacheCreationAbove: r[9], cacheReadAbove: r[10], cacheCreation1hAbove: r[11],
      }) ?? 0;
  }
  return { cost, responses };
}

/**
 * What a session's billed responses cost: one range of the session index (migration 042), which
 * holds everything the sum reads, so the cost grows with the session's own responses, not with
 * the store or with the other sessions of its hours.
 */
export function sessionSum(db: Db, ctx: ReportContext, session: string): BilledSum {
  return billedSum(db, ctx, { session });
}
