import type { Provider } from '../model/event.js';
import { getMeta, type Db } from '../store/db.js';
import { dataSpan, EXCESS_1H_SUM, EXCESS_SUMS, type AggRow } from './aggregate.js';
import { type ReportContext } from '../query/context.js';
import { localDaySql, offsetSegments } from '../query/timezone.js';
import { stmt } from '../store/statements.js';

// ---------------------------------------------------------------------------------------------
// The rollup: billed usage summed by SQL to one row per (origin device, local day, project,
// session, provider, model), twice: over each device's own bills (`usage`), and over the
// union's bills (`usage_union`, each attributed to the device of its earliest line; see
// usageTable). Every view of the dashboard (any scope, any range) is a sum of these rows, so a
// switch never goes back to the usage table. It is rebuilt when the store changes (SQLite's
// data_version for other connections, total_changes for this one) or the zone differs.

interface RollRow {
  device: string;
  day: number;
  /** This device's own bills, as one report group (day, project, session, device, provider, model). */
  all: AggRow;
  /** The union's bills attributed to this device; requests = 0 when none is. */
  win: AggRow;
}

interface Rollup {
  key: string;
  rows: RollRow[];
}

const rollups = new WeakMap<Db, Rollup>();

const SUM_COLS = [
  'SUM(u.input_tokens)', 'SUM(u.output_tokens)', 'SUM(u.cache_creation_tokens)', 'SUM(u.cache_read_tokens)', 'SUM(u.reasoning_tokens)',
  EXCESS_SUMS, 'COUNT(*)', 'MIN(u.ts_ms)', 'MAX(u.ts_ms)', 'SUM(u.cache_1h_tokens)', EXCESS_1H_SUM,
].join(', ');

/** One group as a report group: the six key columns, then the sums in SUM_COLS order (zeros when absent). */
function group(k: unknown[], r: unknown[] | undefined): AggRow {
  const n = (i: number) => (r ? (r[6 + i] as number) : 0);
  return {
    day: k[1] as number,
    project: k[2] as string,
    session: k[3] as string,
    device: k[0] as string,
    provider: k[4] as Provider,
    model: k[5] as string | null,
    inputTokens: n(0),
    outputTokens: n(1),
    cacheCreationTokens: n(2),
    cacheReadTokens: n(3),
    reasoningTokens: n(4),
    inputAbove: n(5),
    outputAbove: n(6),
    cacheCreationAbove: n(7),
    cacheReadAbove: n(8),
    requests: n(9),
    firstMs: n(10),
    lastMs: n(11),
    cacheCreation1hTokens: n(12),
    cacheCreation1hAbove: n(13),
  };
}

/** Changes whenever anything is committed to the store, by this connection or another. */
export function changeKey(db: Db): string {
  return `${db.pragma('data_version', { simple: true }) as number}:${stmt(db, 'SELECT total_changes()').pluck().get() as number}`;
}

/** The rollup of the store as it is now, in `timezone`'s local days: built, or the one kept. */
export function rollup(db: Db, timezone: string): Rollup {
  const key = `${changeKey(db)}:${timezone}`;
  const hit = rollups.get(db);
  if (hit && hit.key === key) return hit;
  const span = dataSpan(db);
  const rows: RollRow[] = [];
  if (span) {
    const day = localDaySql('u.ts_ms', offsetSegments(timezone, span.lo, span.hi));
    const sums = (table: string) =>
      db
        .prepare(
          `SELECT u.device_id, ${day} AS day, u.project, u.session_id, u.provider, u.model, ${SUM_COLS}
           FROM ${table} u WHERE u.ts_ms > 0 GROUP BY u.device_id, day, u.project, u.session_id, u.provider, u.model`,
        )
        .raw()
        .all() as unknown[][];
    const keyOf = (r: unknown[]) => r.slice(0, 6).join('\u0000');
    const own = sums('usage');
    // Without a union (one device), the union's bills are the device's own.
    const union = getMeta(db, 'usage_union') === '1' ? new Map(sums('usage_union').map((r) => [keyOf(r), r])) : null;
    const toRow = (r: unknown[], all: unknown[] | undefined, win: unknown[] | undefined): RollRow => ({
      device: r[0] as string,
      day: r[1] as number,
      all: group(r, all),
      win: group(r, win),
    });
    for (const r of own) {
      const k = keyOf(r);
      rows.push(toRow(r, r, union ? union.get(k) : r));
      union?.delete(k);
    }
    // A union bill lands where the earliest line is; the device that has it may bill it elsewhere.
    for (const r of union?.values() ?? []) rows.push(toRow(r, undefined, r));
  }
  const built = { key, rows };
  rollups.set(db, built);
  return built;
}

/**
 * Calls `fn` for each rollup group the scope and range count, with the sums that scope counts:
 * under `all` the union's (the bills the reports read), under one device that device's own.
 */
export function eachScoped(db: Db, ctx: ReportContext, fn: (g: AggRow & { day: number; device: string; project: string; session: string }) => void): void {
  const { rows } = rollup(db, ctx.timezone);
  const device = ctx.scope.kind === 'all' ? null : ctx.scope.deviceId;
  const lo = ctx.sinceDay ?? -Infinity;
  const hi = ctx.untilDay ?? Infinity;
  for (const r of rows) {
    if (device !== null && r.device !== device) continue;
    if (r.day < lo || r.day > hi) continue;
    const g = device === null ? r.win : r.all;
    if (g.requests > 0) fn(g as AggRow & { day: number; device: string; project: string; session: string });
  }
}
