import type { Db } from '../store/db.js';
import { baseWhere, dataSpan } from './aggregate.js';
import type { ReportContext } from '../query/context.js';
import { responseCost } from '../query/pricing.js';
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
}

type RawEntry = [ms: number, model: string | null, device: string, session: string, input: number, output: number, cc: number, cr: number, cc1h: number];

/**
 * Billed responses in the context's scope, provider and project, oldest first. The date
 * filters of the context are not applied (blocks filter on their own start, not on entries).
 */
export function billedEntries(db: Db, ctx: ReportContext, range: EntryRange = {}): BilledEntry[] {
  // Under the all scope of several devices, the union's bills: a response held by two devices is one.
  const table = usageTable(ctx.scope);
  const span = dataSpan(db, table);
  if (!span) return [];
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
    clauses.push('u.session_id = ?');
    params.push(range.session);
  }
  const rows = db
    .prepare(
      `SELECT u.ts_ms, u.model, u.device_id, u.session_id, u.input_tokens, u.output_tokens, u.cache_creation_tokens, u.cache_read_tokens, u.cache_1h_tokens
      FROM ${table} u WHERE ${clauses.join(' AND ')} ORDER BY u.ts_ms, u.usage_key`,
    )
    .raw()
    .all(...params) as RawEntry[];
  return rows.map((r) => {
    const t = { inputTokens: r[4], outputTokens: r[5], cacheCreationTokens: r[6], cacheReadTokens: r[7], cacheCreation1hTokens: r[8] };
    return { ms: r[0], model: r[1], device: r[2], session: r[3], ...t, cost: responseCost(r[1], t) };
  });
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

/**
 * A session's billed responses. The usage table has no index by session, so the scan is
 * bounded by the session's first and last event (the small sessions table knows them), which
 * the time index reaches directly.
 */
export function sessionEntries(db: Db, ctx: ReportContext, session: string): BilledEntry[] {
  const span = db
    .prepare(`SELECT MIN(first_ts), MAX(last_ts) FROM sessions WHERE session_id = ? AND provider = ? AND first_ts <> ''`)
    .raw()
    .get(session, ctx.provider ?? 'claude') as [string | null, string | null];
  const from = span[0] ? Date.parse(span[0]) : NaN;
  const until = span[1] ? Date.parse(span[1]) : NaN;
  if (Number.isNaN(from) || Number.isNaN(until)) return [];
  return billedEntries(db, ctx, { session, fromMs: from, untilMs: until });
}
