import { describe, expect, it } from 'vitest';
import {
  burnRate,
  identifyBlocks,
  largestFinishedBlock,
  limitStatus,
  projectBlock,
  recentBlocks,
  resolveLimit,
  afterFirstPause,
} from '../../src/reports/blocks.js';
import type { BilledEntry } from '../../src/reports/entries.js';
import { activeBlock, blocksReport, currentWindow, parseBlocksOptions } from '../../src/reports/blocks-report.js';
import { reportContext } from '../../src/query/context.js';
import { tempStore, write as writeEvents, usageEvent } from './helpers.js';

const H = 3_600_000;
const MIN = 60_000;
const t = (iso: string) => Date.parse(iso);

function entry(iso: string, tokens = 100, cost: number | null = 1, model = 'claude-sonnet-4-5-20250929', device = 'dev-a'): BilledEntry {
  return { ms: t(iso), model, device, session: 's', inputTokens: tokens, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0, cacheCreation1hTokens: 0, cost };
}

const LATER = t('2030-01-01T00:00:00Z');

describe('identifyBlocks: the edges of a 5-hour block', () => {
  it('starts at the first entry floored to the UTC hour and ends 5 hours later', () => {
    const [b] = identifyBlocks([entry('2026-03-01T08:47:12Z')], { now: LATER });
    expect(b.id).toBe('2026-03-01T08:00:00.000Z');
    expect(b.startMs).toBe(t('2026-03-01T08:00:00Z'));
    expect(b.endMs).toBe(t('2026-03-01T13:00:00Z'));
    expect(b.actualEndMs).toBe(t('2026-03-01T08:47:12Z'));
    expect(b.isActive).toBe(false);
  });

  it('keeps an entry exactly at start + 5 h in the block; one millisecond later opens the next', () => {
    const same = identifyBlocks([entry('2026-03-01T08:00:00Z'), entry('2026-03-01T10:30:00Z'), entry('2026-03-01T13:00:00Z')], { now: LATER });
    expect(same).toHaveLength(1);
    expect(same[0].entries).toHaveLength(3);
    const next = identifyBlocks([entry('2026-03-01T08:00:00Z'), entry('2026-03-01T10:30:00Z'), entry('2026-03-01T13:00:00.001Z')], { now: LATER });
    expect(next.map((b) => b.id)).toEqual(['2026-03-01T08:00:00.000Z', '2026-03-01T13:00:00.000Z']);
    expect(next.some((b) => b.isGap)).toBe(false);
  });

  it('opens a new block after the start + 5 h even when entries never pause', () => {
    const es = [0, 1, 2, 3, 4, 5, 6].map((h) => entry(new Date(t('2026-03-01T08:30:00Z') + h * H).toISOString()));
    const blocks = identifyBlocks(es, { now: LATER });
    expect(blocks.map((b) => [b.id, b.entries.length])).toEqual([
      ['2026-03-01T08:00:00.000Z', 5],
      ['2026-03-01T13:00:00.000Z', 2],
    ]);
  });

  it('puts a gap block from last entry + 5 h to the next entry when the pause is longer than 5 h', () => {
    const blocks = identifyBlocks([entry('2026-03-01T08:10:00Z'), entry('2026-03-01T13:10:00.001Z')], { now: LATER });
    expect(blocks.map((b) => b.id)).toEqual(['2026-03-01T08:00:00.000Z', 'gap-2026-03-01T13:10:00.000Z', '2026-03-01T13:00:00.000Z']);
    const gap = blocks[1];
    expect(gap).toMatchObject({ isGap: true, isActive: false, actualEndMs: null, costUSD: 0, models: [], entries: [] });
    expect(gap.startMs).toBe(t('2026-03-01T13:10:00Z'));
    expect(gap.endMs).toBe(t('2026-03-01T13:10:00.001Z'));
    expect(gap.tokenCounts).toEqual({ inputTokens: 0, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 });
  });

  it('a pause of exactly 5 h is no gap (but the entry is past start + 5 h: a new block)', () => {
    const blocks = identifyBlocks([entry('2026-03-01T08:10:00Z'), entry('2026-03-01T13:10:00Z')], { now: LATER });
    expect(blocks.map((b) => b.id)).toEqual(['2026-03-01T08:00:00.000Z', '2026-03-01T13:00:00.000Z']);
  });

  it('honours another session length', () => {
    const es = [entry('2026-03-01T08:10:00Z'), entry('2026-03-01T10:05:00Z'), entry('2026-03-01T10:20:00Z')];
    expect(identifyBlocks(es, { now: LATER, sessionHours: 2 }).map((b) => b.id)).toEqual(['2026-03-01T08:00:00.000Z', '2026-03-01T10:00:00.000Z']);
    expect(identifyBlocks(es, { now: LATER, sessionHours: 3 })).toHaveLength(1);
  });

  it('floors to the UTC hour, not the local one, in a half-hour zone (Asia/Kolkata, +5:30)', () => {
    // 14:20 in Kolkata is 08:50 UTC: the block starts at 08:00 UTC = 13:30 local, not 14:00 local.
    const [b] = identifyBlocks([entry('2026-03-01T08:50:00Z')], { now: LATER });
    expect(b.id).toBe('2026-03-01T08:00:00.000Z');
  });

  it('sums tokens and cost, lists models by first use without <synthetic>, and names unpriced models', () => {
    const [b] = identifyBlocks(
      [entry('2026-03-01T08:00:00Z', 10, 0.5, 'claude-opus-4-1-20250805'), entry('2026-03-01T08:01:00Z', 0, 0, '<synthetic>'), entry('2026-03-01T08:02:00Z', 5, null, 'mystery-model'), entry('2026-03-01T08:03:00Z', 7, 0.25)],
      { now: LATER },
    );
    expect(b.tokenCounts.inputTokens).toBe(22);
    expect(b.costUSD).toBe(0.75);
    expect(b.models).toEqual(['claude-opus-4-1-20250805', 'mystery-model', 'claude-sonnet-4-5-20250929']);
    expect(b.unpricedModels).toEqual(['mystery-model']);
    expect(b.entries).toHaveLength(4);
  });
});

describe('the active block, with a fake clock', () => {
  const es = [entry('2026-03-01T08:10:00Z', 1000, 2), entry('2026-03-01T09:10:00Z', 2000, 4)];

  it('is active while now is less than 5 h after the last entry and before the end', () => {
    expect(identifyBlocks(es, { now: t('2026-03-01T10:00:00Z') })[0].isActive).toBe(true);
    expect(identifyBlocks(es, { now: t('2026-03-01T12:59:59.999Z') })[0].isActive).toBe(true);
    expect(identifyBlocks(es, { now: t('2026-03-01T13:00:00Z') })[0].isActive).toBe(false);
  });

  it('has a burn rate over first → last entry and a projection to the block end', () => {
    const now = t('2026-03-01T10:00:00Z');
    const [b] = identifyBlocks(es, { now });
    const rate = burnRate(b)!;
    expect(rate.tokensPerMinute).toBeCloseTo(3000 / 60, 9);
    expect(rate.tokensPerMinuteForIndicator).toBeCloseTo(3000 / 60, 9);
    expect(rate.costPerHour).toBeCloseTo(6, 9);
    // 180 minutes left at 50 tokens/min and $6/h.
    expect(projectBlock(b, now)).toEqual({ totalTokens: 3000 + 9000, totalCost: 6 + 18, remainingMinutes: 180 });
  });

  it('has no burn rate with a single entry, and no projection once finished', () => {
    const [one] = identifyBlocks([es[0]], { now: t('2026-03-01T09:00:00Z') });
    expect(one.isActive).toBe(true);
    expect(burnRate(one)).toBeNull();
    expect(projectBlock(one, t('2026-03-01T09:00:00Z'))).toBeNull();
    const [done] = identifyBlocks(es, { now: LATER });
    expect(projectBlock(done, LATER)).toBeNull();
  });

  it('--recent keeps blocks started in the last 3 days and the active one', () => {
    const blocks = identifyBlocks([entry('2026-02-20T08:00:00Z'), entry('2026-02-27T08:00:00Z'), entry('2026-03-01T08:00:00Z')], { now: t('2026-03-01T09:00:00Z') });
    expect(recentBlocks(blocks, t('2026-03-01T09:00:00Z')).filter((b) => !b.isGap).map((b) => b.id)).toEqual(['2026-02-27T08:00:00.000Z', '2026-03-01T08:00:00.000Z']);
  });
});

describe('--token-limit', () => {
  const now = t('2026-03-02T08:30:00Z');
  const blocks = identifyBlocks(
    [entry('2026-03-01T00:00:00Z', 500), entry('2026-03-01T08:00:00Z', 900), entry('2026-03-01T14:00:00Z', 700), entry('2026-03-02T08:00:00Z', 10_000), entry('2026-03-02T08:20:00Z', 10_000)],
    { now },
  );

  it('max is the largest finished block: never the active one, never a gap', () => {
    expect(blocks.find((b) => b.isActive)?.tokenCounts.inputTokens).toBe(20_000);
    expect(largestFinishedBlock(blocks)).toBe(900);
    expect(resolveLimit('max', blocks)).toBe(900);
    expect(resolveLimit(5000, blocks)).toBe(5000);
    expect(resolveLimit(undefined, blocks)).toBeUndefined();
  });

  it('max without any finished block means no limit', () => {
    const only = identifyBlocks([entry('2026-03-02T08:00:00Z')], { now });
    expect(resolveLimit('max', only)).toBeUndefined();
  });

  it('status: ok up to 80 %, warning above, exceeds above the limit', () => {
    expect(limitStatus(800, 1000).status).toBe('ok');
    expect(limitStatus(801, 1000).status).toBe('warning');
    expect(limitStatus(1000, 1000).status).toBe('warning');
    expect(limitStatus(1001, 1000)).toEqual({ limit: 1000, projectedUsage: 1001, percentUsed: 100.1, status: 'exceeds' });
  });

  it('parses N or max, and rejects anything else as a usage error', () => {
    expect(parseBlocksOptions({ tokenLimit: 'max' }).tokenLimit).toBe('max');
    expect(parseBlocksOptions({ tokenLimit: '500000' }).tokenLimit).toBe(500000);
    expect(() => parseBlocksOptions({ tokenLimit: 'lots' })).toThrow(/--token-limit/);
    expect(() => parseBlocksOptions({ sessionLength: '0' })).toThrow(/--session-length/);
    expect(() => parseBlocksOptions({ provider: 'codex' })).toThrow(/Claude/);
  });
});

describe('afterFirstPause: recent entries give the recent blocks of the whole history', () => {
  it('finds the first entry after a pause longer than the session length', () => {
    const es = [entry('2026-03-01T08:00:00Z'), entry('2026-03-01T12:00:00Z'), entry('2026-03-01T17:00:00.001Z'), entry('2026-03-01T18:00:00Z')];
    expect(afterFirstPause(es, 5 * H)).toBe(2);
    expect(afterFirstPause(es.slice(0, 2), 5 * H)).toBe(-1);
  });
});

describe('blocksReport on a store', () => {
  it('matches the whole-history blocks when reading only recent entries (activeBlock)', () => {
    const { db } = tempStore();
    // Continuous activity every 50 minutes for two days, so blocks chain without a pause.
    const start = t('2026-03-01T00:17:00Z');
    const evs = Array.from({ length: 60 }, (_, i) => usageEvent({ ts: new Date(start + i * 50 * MIN).toISOString(), input: 100 + i }));
    writeEvents(db, evs);
    const now = start + 59 * 50 * MIN + 10 * MIN;
    const full = blocksReport(db, { now, scope: { kind: 'local' } }).blocks.find((b) => b.isActive)!;
    const ctx = reportContext(db, { provider: 'claude', scope: { kind: 'local' } });
    const fast = activeBlock(db, ctx, now)!;
    expect(fast.id).toBe(full.id);
    expect(fast.entries.length).toBe(full.entries);
    expect(fast.costUSD).toBeCloseTo(full.costUSD, 12);
    expect(activeBlock(db, ctx, now + 6 * H)).toBeNull();
    // The dashboard's window is the same block, in the report's JSON shape.
    const w = currentWindow(db, { scope: { kind: 'local' } }, undefined, now);
    expect(w.block).toEqual({ ...full, devices: undefined, tokenLimitStatus: undefined });
    expect(currentWindow(db, { scope: { kind: 'local' } }, undefined, now + 6 * H).block).toBeNull();
  });

  it('activeBlock after a long pause reads only the recent window', () => {
    const { db } = tempStore();
    const now = t('2026-06-01T12:00:00Z');
    const old = Array.from({ length: 50 }, (_, i) => usageEvent({ ts: new Date(t('2026-01-01T00:00:00Z') + i * 40 * MIN).toISOString() }));
    const recent = [0, 20, 45, 70].map((m) => usageEvent({ ts: new Date(now - 3 * H + m * MIN).toISOString(), input: 1000 }));
    writeEvents(db, [...old, ...recent]);
    const ctx = reportContext(db, { provider: 'claude', scope: { kind: 'local' } });
    const b = activeBlock(db, ctx, now)!;
    expect(b.id).toBe('2026-06-01T09:00:00.000Z');
    expect(b.entries.map((e) => e.inputTokens)).toEqual([1000, 1000, 1000, 1000]);
    expect(b.id).toBe(blocksReport(db, { now, scope: { kind: 'local' } }).blocks.find((x) => x.isActive)!.id);
  });

  it('selects blocks by the local date of their start (--since/--until, --timezone)', () => {
    const { db } = tempStore();
    // 20:10 UTC on 1 March is 01:40 on 2 March in Kolkata.
    writeEvents(db, [usageEvent({ ts: '2026-03-01T20:10:00Z' })]);
    const base = { now: LATER, scope: { kind: 'local' as const } };
    expect(blocksReport(db, { ...base, timezone: 'UTC', since: '2026-03-02' }).blocks).toHaveLength(0);
    expect(blocksReport(db, { ...base, timezone: 'Asia/Kolkata', since: '2026-03-02' }).blocks).toHaveLength(1);
    expect(blocksReport(db, { ...base, timezone: 'Asia/Kolkata', until: '2026-03-01' }).blocks).toHaveLength(0);
  });
});
