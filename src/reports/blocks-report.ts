import type { Db } from '../store/db.js';
import { contextMeta, reportContext, type ReportContext, type ReportMeta } from '../query/context.js';
import {
  afterFirstPause,
  blockTotalTokens,
  burnRate,
  DEFAULT_SESSION_HOURS,
  HOUR_MS,
  identifyBlocks,
  limitStatus,
  projectBlock,
  recentBlocks,
  resolveLimit,
  type Block,
  type BlockTokenCounts,
  type BurnRate,
  type Projection,
  type TokenLimit,
  type TokenLimitStatus,
} from './blocks.js';
import { billedEntries, latestEntryBefore, type BilledEntry } from './entries.js';
import { SuError } from '../errors.js';
import { parseReportOptions, type RawReportOptions, type ReportOptions } from '../query/options.js';
import { formatScope, knownDevices } from '../query/scope.js';
import { localDate } from '../query/timezone.js';

export interface BlocksOptions extends ReportOptions {
  /** Hours per block (default 5). */
  sessionHours?: number;
  tokenLimit?: TokenLimit;
  /** Only the active block. */
  active?: boolean;
  /** Blocks that started in the last 3 days, and the active one. */
  recent?: boolean;
  /** The current instant (epoch ms); default the wall clock. */
  now?: number;
}

/** One device's share of a block (with `byDevice`). */
interface BlockDeviceShare {
  deviceId: string;
  deviceName: string | null;
  entries: number;
  tokenCounts: BlockTokenCounts;
  totalTokens: number;
  costUSD: number;
}

/** A block as `ccusage claude blocks --json` prints it, our extras after. */
export interface BlockEntry {
  id: string;
  startTime: string;
  endTime: string;
  actualEndTime: string | null;
  isActive: boolean;
  isGap: boolean;
  entries: number;
  tokenCounts: BlockTokenCounts;
  totalTokens: number;
  costUSD: number;
  models: string[];
  burnRate: BurnRate | null;
  projection: Projection | null;
  tokenLimitStatus?: TokenLimitStatus;
  /** Minutes until the active block ends; null for others. */
  remainingMinutes: number | null;
  unpricedModels: string[];
  devices?: BlockDeviceShare[];
}

export interface BlocksReport {
  blocks: BlockEntry[];
  /** What the report covered, as every report says it (no provider: blocks are Claude's). */
  meta: Omit<ReportMeta, 'provider'> & {
    sessionHours: number;
    tokenLimit: number | null;
    now: string;
  };
}

function deviceShares(entries: BilledEntry[], names: Map<string, string | null>): BlockDeviceShare[] {
  const by = new Map<string, BlockDeviceShare>();
  for (const e of entries) {
    let d = by.get(e.device);
    if (!d) {
      d = {
        deviceId: e.device,
        deviceName: names.get(e.device) ?? null,
        entries: 0,
        tokenCounts: { inputTokens: 0, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 },
        totalTokens: 0,
        costUSD: 0,
      };
      by.set(e.device, d);
    }
    d.entries++;
    d.tokenCounts.inputTokens += e.inputTokens;
    d.tokenCounts.outputTokens += e.outputTokens;
    d.tokenCounts.cacheCreationInputTokens += e.cacheCreationTokens;
    d.tokenCounts.cacheReadInputTokens += e.cacheReadTokens;
    d.costUSD += e.cost ?? 0;
  }
  for (const d of by.values()) d.totalTokens = blockTotalTokens(d.tokenCounts);
  return [...by.values()].sort((a, b) => a.deviceId.localeCompare(b.deviceId));
}

/** A block in the report's JSON shape. */
function blockEntry(b: Block, now: number, limit: number | undefined, names: Map<string, string | null> | null): BlockEntry {
  const projection = projectBlock(b, now);
  const out: BlockEntry = {
    id: b.id,
    startTime: new Date(b.startMs).toISOString(),
    endTime: new Date(b.endMs).toISOString(),
    actualEndTime: b.actualEndMs === null ? null : new Date(b.actualEndMs).toISOString(),
    isActive: b.isActive,
    isGap: b.isGap,
    entries: b.entries.length,
    tokenCounts: { ...b.tokenCounts },
    totalTokens: blockTotalTokens(b.tokenCounts),
    costUSD: b.costUSD,
    models: b.models,
    burnRate: b.isActive ? burnRate(b) : null,
    projection,
    remainingMinutes: b.isActive ? Math.max(0, Math.round((b.endMs - now) / 60_000)) : null,
    unpricedModels: b.unpricedModels,
  };
  if (projection && limit !== undefined) out.tokenLimitStatus = limitStatus(projection.totalTokens, limit);
  if (names && !b.isGap) out.devices = deviceShares(b.entries, names);
  return out;
}

function withoutProvider({ provider: _p, ...rest }: ReportMeta): Omit<ReportMeta, 'provider'> {
  return rest;
}

/** Claude is the only agent with 5-hour windows. */
function claudeContext(db: Db, opts: ReportOptions, env?: NodeJS.ProcessEnv): ReportContext {
  return reportContext(db, { ...opts, provider: 'claude' }, env);
}

/**
 * Claude usage in 5-hour blocks, oldest first, in the report's scope: under `all`, every
 * device's responses together (one subscription's window spans the machines it runs on).
 * `since`/`until` select blocks by the local date of their start.
 */
export function blocksReport(db: Db, opts: BlocksOptions = {}, env?: NodeJS.ProcessEnv): BlocksReport {
  const ctx = claudeContext(db, opts, env);
  const now = opts.now ?? Date.now();
  const sessionHours = opts.sessionHours ?? DEFAULT_SESSION_HOURS;
  // By start, as ccusage lists them: a gap may start after the block that follows it (whose start is floored to the hour).
  let blocks = identifyBlocks(billedEntries(db, ctx), { now, sessionHours }).sort((a, b) => a.startMs - b.startMs);
  if (ctx.since || ctx.until) {
    blocks = blocks.filter((b) => {
      const day = localDate(ctx.timezone, b.startMs);
      return (!ctx.since || day >= ctx.since) && (!ctx.until || day <= ctx.until);
    });
  }
  // `max` is the largest finished block of the selected dates, before --recent/--active narrow them.
  const limit = resolveLimit(opts.tokenLimit, blocks);
  if (opts.recent) blocks = recentBlocks(blocks, now);
  if (opts.active) blocks = blocks.filter((b) => b.isActive);
  let names: Map<string, string | null> | null = null;
  if (ctx.byDevice) names = new Map(knownDevices(db).map((d) => [d.deviceId, d.name]));
  return {
    blocks: blocks.map((b) => blockEntry(b, now, limit, names)),
    meta: {
      ...withoutProvider(contextMeta(ctx)),
      sessionHours,
      tokenLimit: limit ?? null,
      now: new Date(now).toISOString(),
    },
  };
}

/**
 * The block holding `now`, if one is active, read from recent entries only: entries back to
 * a pause longer than the session length give the same recent blocks as the whole history.
 * For the status line and the dashboard, which run often and need only this one block.
 */
export function activeBlock(db: Db, ctx: ReportContext, now: number, sessionHours = DEFAULT_SESSION_HOURS): Block | null {
  const lengthMs = sessionHours * HOUR_MS;
  for (let back = lengthMs; ; back *= 4) {
    const entries = billedEntries(db, ctx, { fromMs: now - back });
    // An active block has an entry within the last session length.
    if (entries.length === 0) return null;
    let cut = afterFirstPause(entries, lengthMs);
    if (cut < 0) {
      // No pause inside the window: its first entry starts a chain when the one before it is far enough back.
      const before = latestEntryBefore(db, ctx, entries[0].ms);
      if (before === null || entries[0].ms - before > lengthMs) cut = 0;
      else continue;
    }
    return identifyBlocks(entries.slice(cut), { now, sessionHours }).find((b) => b.isActive) ?? null;
  }
}

/** The current 5-hour window, for the dashboard: the active block (null when none) in the scope asked. */
export interface CurrentWindow {
  meta: { scope: string; timezone: string; sessionHours: number; now: string };
  block: BlockEntry | null;
}

export function currentWindow(db: Db, opts: ReportOptions, env?: NodeJS.ProcessEnv, now: number = Date.now()): CurrentWindow {
  const ctx = claudeContext(db, { ...opts, since: undefined, until: undefined }, env);
  const b = activeBlock(db, ctx, now);
  return {
    meta: { scope: formatScope(ctx.scope), timezone: ctx.timezone, sessionHours: DEFAULT_SESSION_HOURS, now: new Date(now).toISOString() },
    block: b && blockEntry(b, now, undefined, null),
  };
}

/** Untyped blocks flags, beside the shared ones. */
export interface RawBlocksOptions extends RawReportOptions {
  active?: boolean | string;
  recent?: boolean | string;
  tokenLimit?: string;
  sessionLength?: string;
}

/** Options of the blocks report: the shared filters plus the window's own switches. */
export function parseBlocksOptions(raw: RawBlocksOptions): BlocksOptions {
  const out: BlocksOptions = parseReportOptions(raw);
  if (out.provider && out.provider !== 'claude') {
    throw new SuError('USAGE', `blocks are Claude's 5-hour windows; --provider ${out.provider} has none`, { hint: 'leave out --provider' });
  }
  const flag = (v: boolean | string | undefined) => v === true || v === 'true' || v === '1';
  if (flag(raw.active)) out.active = true;
  if (flag(raw.recent)) out.recent = true;
  if (raw.tokenLimit !== undefined && raw.tokenLimit !== '') {
    const v = raw.tokenLimit.trim().toLowerCase();
    if (v === 'max') out.tokenLimit = 'max';
    else if (/^\d{1,12}$/.test(v) && Number(v) > 0) out.tokenLimit = Number(v);
    else throw new SuError('USAGE', `--token-limit wants a number of tokens or 'max', got '${raw.tokenLimit}'`, { hint: 'e.g. --token-limit 500000, or --token-limit max for your largest past block' });
  }
  if (raw.sessionLength !== undefined && raw.sessionLength !== '') {
    const h = Number(raw.sessionLength);
    if (!/^\d+(\.\d+)?$/.test(raw.sessionLength.trim()) || !(h > 0) || h > 24 * 7) {
      throw new SuError('USAGE', `--session-length wants hours (more than 0, at most 168), got '${raw.sessionLength}'`, { hint: 'e.g. --session-length 5' });
    }
    out.sessionHours = h;
  }
  return out;
}
