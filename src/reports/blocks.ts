import type { BilledEntry } from './entries.js';
import { SYNTHETIC_MODEL } from '../query/synthetic.js';

/**
 * Claude's 5-hour usage windows, grouped exactly as ccusage 20 groups them so the numbers
 * compare: pure functions of billed entries (oldest first) and an injected `now`.
 */

export const HOUR_MS = 3_600_000;
/** Claude's session window. */
export const DEFAULT_SESSION_HOURS = 5;
/** `--token-limit`: above this share of the limit, the projection is a warning. */
const WARNING_SHARE = 0.8;

/** ccusage's names for a block's four token kinds. */
export interface BlockTokenCounts {
  inputTokens: number;
  outputTokens: number;
  cacheCreationInputTokens: number;
  cacheReadInputTokens: number;
}

export interface Block {
  /** The start as ISO, or `gap-<start>` for a gap. */
  id: string;
  startMs: number;
  /** Start plus the session length; a gap ends at the next entry. */
  endMs: number;
  /** The last entry; null for a gap. */
  actualEndMs: number | null;
  isActive: boolean;
  isGap: boolean;
  entries: BilledEntry[];
  tokenCounts: BlockTokenCounts;
  costUSD: number;
  /** Models in order of first use (`<synthetic>` left out). */
  models: string[];
  /** Models with usage but no price: their usage is not in `costUSD`. */
  unpricedModels: string[];
}

export interface BurnRate {
  /** All four token kinds per minute, over first → last entry. */
  tokensPerMinute: number;
  /** Input and output only (what ccusage's indicator colours by). */
  tokensPerMinuteForIndicator: number;
  costPerHour: number;
}

export interface Projection {
  totalTokens: number;
  totalCost: number;
  remainingMinutes: number;
}

export function blockTotalTokens(t: BlockTokenCounts): number {
  return t.inputTokens + t.outputTokens + t.cacheCreationInputTokens + t.cacheReadInputTokens;
}

function floorToUtcHour(ms: number): number {
  return Math.floor(ms / HOUR_MS) * HOUR_MS;
}

function makeBlock(startMs: number, entries: BilledEntry[], now: number, lengthMs: number): Block {
  const endMs = startMs + lengthMs;
  const actualEndMs = entries[entries.length - 1].ms;
  const tokenCounts: BlockTokenCounts = { inputTokens: 0, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 };
  let costUSD = 0;
  const models = new Set<string>();
  const unpriced = new Set<string>();
  for (const e of entries) {
    tokenCounts.inputTokens += e.inputTokens;
    tokenCounts.outputTokens += e.outputTokens;
    tokenCounts.cacheCreationInputTokens += e.cacheCreationTokens;
    tokenCounts.cacheReadInputTokens += e.cacheReadTokens;
    const model = e.model ?? 'unknown';
    if (e.cost === null) unpriced.add(model);
    else costUSD += e.cost;
    if (e.model !== SYNTHETIC_MODEL) models.add(model);
  }
  return {
    id: new Date(startMs).toISOString(),
    startMs,
    endMs,
    actualEndMs,
    isActive: now - actualEndMs < lengthMs && now < endMs,
    isGap: false,
    entries,
    tokenCounts,
    costUSD,
    models: [...models],
    unpricedModels: [...unpriced].sort(),
  };
}

function gapBlock(lastMs: number, nextMs: number, lengthMs: number): Block {
  const startMs = lastMs + lengthMs;
  return {
    id: `gap-${new Date(startMs).toISOString()}`,
    startMs,
    endMs: nextMs,
    actualEndMs: null,
    isActive: false,
    isGap: true,
    entries: [],
    tokenCounts: { inputTokens: 0, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 },
    costUSD: 0,
    models: [],
    unpricedModels: [],
  };
}

/**
 * Groups entries (sorted by time) into blocks. A block starts at its first entry floored to
 * the UTC hour; an entry opens the next block when it lies more than the session length
 * after the block's start or after the previous entry (exactly the length stays in). A
 * pause longer than the length leaves a gap block from last entry + length to the next entry.
 */
export function identifyBlocks(entries: readonly BilledEntry[], opts: { now: number; sessionHours?: number }): Block[] {
  const lengthMs = (opts.sessionHours ?? DEFAULT_SESSION_HOURS) * HOUR_MS;
  const blocks: Block[] = [];
  let start = 0;
  let current: BilledEntry[] = [];
  for (const e of entries) {
    if (current.length === 0) {
      start = floorToUtcHour(e.ms);
      current = [e];
      continue;
    }
    const last = current[current.length - 1].ms;
    const sinceLast = e.ms - last;
    if (e.ms - start > lengthMs || sinceLast > lengthMs) {
      blocks.push(makeBlock(start, current, opts.now, lengthMs));
      if (sinceLast > lengthMs) blocks.push(gapBlock(last, e.ms, lengthMs));
      start = floorToUtcHour(e.ms);
      current = [e];
    } else {
      current.push(e);
    }
  }
  if (current.length > 0) blocks.push(makeBlock(start, current, opts.now, lengthMs));
  return blocks;
}

/** Tokens per minute and cost per hour over the block's first → last entry; null without a span. */
export function burnRate(b: Block): BurnRate | null {
  if (b.isGap || b.entries.length === 0) return null;
  const minutes = (b.entries[b.entries.length - 1].ms - b.entries[0].ms) / 60_000;
  if (minutes <= 0) return null;
  return {
    tokensPerMinute: blockTotalTokens(b.tokenCounts) / minutes,
    tokensPerMinuteForIndicator: (b.tokenCounts.inputTokens + b.tokenCounts.outputTokens) / minutes,
    costPerHour: (b.costUSD / minutes) * 60,
  };
}

/** Tokens and cost at the end of an active block if the burn rate holds (ccusage's rounding). */
export function projectBlock(b: Block, now: number): Projection | null {
  if (!b.isActive || b.isGap) return null;
  const rate = burnRate(b);
  if (!rate) return null;
  const remainingMinutes = Math.max(0, (b.endMs - now) / 60_000);
  return {
    totalTokens: Math.round(blockTotalTokens(b.tokenCounts) + rate.tokensPerMinute * remainingMinutes),
    totalCost: Math.round((b.costUSD + (rate.costPerHour / 60) * remainingMinutes) * 100) / 100,
    remainingMinutes: Math.round(remainingMinutes),
  };
}

/** The largest finished (not active, not gap) block's tokens: what `--token-limit max` means; 0 when none. */
export function largestFinishedBlock(blocks: readonly Block[]): number {
  let max = 0;
  for (const b of blocks) if (!b.isGap && !b.isActive) max = Math.max(max, blockTotalTokens(b.tokenCounts));
  return max;
}

export type TokenLimit = number | 'max';

export interface TokenLimitStatus {
  limit: number;
  projectedUsage: number;
  percentUsed: number;
  status: 'ok' | 'warning' | 'exceeds';
}

/** The projection against a limit: `exceeds` above it, `warning` above 80 % of it, else `ok`. */
export function limitStatus(projected: number, limit: number): TokenLimitStatus {
  const status = projected > limit ? 'exceeds' : projected > limit * WARNING_SHARE ? 'warning' : 'ok';
  return { limit, projectedUsage: projected, percentUsed: (projected / limit) * 100, status };
}

/** A limit as a number of tokens; `max` resolves to the largest finished block (none when there is none). */
export function resolveLimit(limit: TokenLimit | undefined, blocks: readonly Block[]): number | undefined {
  if (limit === undefined) return undefined;
  if (limit !== 'max') return limit;
  const max = largestFinishedBlock(blocks);
  return max > 0 ? max : undefined;
}

/** Blocks that started within `days` of now, or are active (`--recent`). */
export function recentBlocks(blocks: readonly Block[], now: number, days = 3): Block[] {
  const cutoff = now - days * 24 * HOUR_MS;
  return blocks.filter((b) => b.startMs >= cutoff || b.isActive);
}

/**
 * The index of the first entry after the earliest pause longer than the session length, or
 * -1. No block spans such a pause, so the blocks of the entries from there on are the same
 * as those the whole history gives: a reader of recent usage needs no older entries.
 */
export function afterFirstPause(entries: readonly BilledEntry[], lengthMs: number): number {
  for (let i = 1; i < entries.length; i++) if (entries[i].ms - entries[i - 1].ms > lengthMs) return i;
  return -1;
}
