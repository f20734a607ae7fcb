import type { Db } from '../store/db.js';
import { reportContext } from '../query/context.js';
import { activeBlock } from './blocks-report.js';
import { burnRate, DEFAULT_SESSION_HOURS } from './blocks.js';
import { billedEntries, sessionEntries, type BilledEntry } from './entries.js';
import { localDayStartMs } from '../query/timezone.js';
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

function sumCost(entries: BilledEntry[]): number {
  let c = 0;
  for (const e of entries) c += e.cost ?? 0;
  return c;
}

/** What the status line shows, from the store as it is (no ingest, no sync here). */
export function statusFigures(db: Db, opts: { session?: string; now: number; env?: NodeJS.ProcessEnv }): StatusFigures {
  const ctx = reportContext(db, { provider: 'claude' }, opts.env);
  const session = opts.session ? sessionEntries(db, ctx, opts.session) : [];
  const today = billedEntries(db, ctx, { fromMs: localDayStartMs(ctx.timezone, opts.now) });
  const b = activeBlock(db, ctx, opts.now, DEFAULT_SESSION_HOURS);
  return {
    sessionCost: session.length ? sumCost(session) : null,
    todayCost: sumCost(today),
    allDevices: ctx.scope.kind === 'all' && ctx.scope.multiDevice,
    block: b && {
      cost: b.costUSD,
      remainingMinutes: Math.max(0, Math.round((b.endMs - opts.now) / 60_000)),
      costPerHour: burnRate(b)?.costPerHour ?? null,
    },
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
