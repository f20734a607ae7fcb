import type { Db } from '../store/db.js';
import { reportContext } from '../query/context.js';
import { activeBlockBounds } from './blocks-report.js';
import { costPerHour, DEFAULT_SESSION_HOURS } from './blocks.js';
import { billedSum, sessionSum } from './entries.js';
import { defaultDayStartMs } from '../query/timezone.js';
import { formatMinutes } from './format-blocks.js';

/** The numbers of Claude Code's status line, all in the default scope (every device once synced). */
export interface StatusFigures {
  /** This session's billed cost; null when the store has none of it yet. */
  sessionCost: number | null;
  /** Claude's cost since local midnight. */
  todayCost: number;
  /** Whether today's cost covers other devices too. */
  allDevices: boolean;
  /** The active 5-hour block, if any. */
  block: { cost: number; remainingMinutes: number; costPerHour: number | null } | null;
}

/** What the status line shows, from the store as it is (no ingest, no sync here). */
export function statusFigures(db: Db, opts: { session?: string; now: number; env?: NodeJS.ProcessEnv }): StatusFigures {
  // Nothing here groups by day, and today's start comes from defaultDayStartMs: naming the zone
  // (defaultTimeZone) would cost the hook Intl's start-up, so the context's zone is a placeholder.
  const ctx = reportContext(db, { provider: 'claude', timezone: 'UTC' }, opts.env);
  const session = opts.session ? sessionSum(db, ctx, opts.session) : null;
  const today = billedSum(db, ctx, { fromMs: defaultDayStartMs(opts.env ?? process.env, opts.now) });
  // The active block from its entries' times, then its bills summed in SQL: what activeBlock's entries would add up to.
  const b = activeBlockBounds(db, ctx, opts.now, DEFAULT_SESSION_HOURS);
  let block: StatusFigures['block'] = null;
  if (b) {
    const cost = billedSum(db, ctx, { fromMs: b.firstMs, untilMs: b.lastMs }).cost;
    block = { cost, remainingMinutes: Math.max(0, Math.round((b.endMs - opts.now) / 60_000)), costPerHour: costPerHour(cost, b.firstMs, b.lastMs) };
  }
  return {
    sessionCost: session?.responses ? session.cost : null,
    todayCost: today.cost,
    allDevices: ctx.scope.kind === 'all' && ctx.scope.multiDevice,
    block,
  };
}

function usd(n: number): string {
  return '$' + n.toFixed(2);
}

/** One line, ccusage's layout: model | costs (session / today / block, time left) | burn rate. */
export function statusLine(model: string | null, f: StatusFigures): string {
  const parts: string[] = [];
  if (model) parts.push(`🤖 ${model}`);
  const costs = [
    `${f.sessionCost === null ? 'N/A' : usd(f.sessionCost)} session`,
    `${usd(f.todayCost)} today${f.allDevices ? ' (all devices)' : ''}`,
    f.block ? `${usd(f.block.cost)} block (${formatMinutes(f.block.remainingMinutes)} left)` : 'no active block',
  ];
  parts.push(`💰 ${costs.join(' / ')}`);
  if (f.block?.costPerHour != null) parts.push(`🔥 ${usd(f.block.costPerHour)}/hr`);
  return parts.join(' | ');
}
