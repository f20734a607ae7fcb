import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { runCli } from '../../src/cli/run.js';
import { tempDir } from '../helpers/fixtures.js';
import { writeResponseLogs } from '../helpers/responses.js';
import { CCUSAGE20, ccusage20ForTests, ccusage20Json } from '../helpers/ccusage20.js';

/**
 * Blocks and weeks equal to ccusage 20's, on logs where the two billing rules agree (one line
 * per response, each with a requestId): block ids, times, flags, entries, token counts and
 * models exactly; costs to a billionth of a dollar (the same price table, summed in another order).
 */
const { bin, skip } = ccusage20ForTests();

async function ours(env: NodeJS.ProcessEnv, argv: string[]): Promise<any> {
  let out = '';
  let err = '';
  const code = await runCli(argv, { env, stdout: { write: (s: string) => ((out += s), true) }, stderr: { write: (s: string) => ((err += s), true) } });
  expect(err).toBe('');
  expect(code).toBe(0);
  return JSON.parse(out);
}

async function setup(seed: number, extra: { endAt?: number } = {}) {
  const dir = tempDir('su-cc20-');
  const claude = join(dir, 'claude');
  writeResponseLogs(claude, { seed, start: '2026-02-25T07:43:00Z', responses: 600, ...extra });
  const env: NodeJS.ProcessEnv = { STACKUNDERFLOW_HOME: join(dir, 'su'), HOME: dir, CLAUDE_CONFIG_DIR: claude, CODEX_HOME: join(dir, 'codex'), TZ: 'UTC' };
  await ours(env, ['ingest', '--json']);
  return { env, claude };
}

const EXACT = ['id', 'startTime', 'endTime', 'actualEndTime', 'isActive', 'isGap', 'entries', 'tokenCounts', 'totalTokens', 'models'] as const;

function expectSameBlocks(mine: any[], theirs: any[]) {
  expect(theirs.length).toBeGreaterThan(0);
  expect(mine.map((b) => b.id)).toEqual(theirs.map((b) => b.id));
  for (let i = 0; i < theirs.length; i++) {
    for (const k of EXACT) expect(mine[i][k], `${theirs[i].id} ${k}`).toEqual(theirs[i][k]);
    expect(mine[i].costUSD).toBeCloseTo(theirs[i].costUSD, 9);
  }
}

describe.skipIf(skip !== null)(`blocks and weeks equal ccusage ${CCUSAGE20}'s${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('blocks, every one, with gaps', async () => {
    for (const seed of [7, 11]) {
      const { env, claude } = await setup(seed);
      const theirs = (ccusage20Json(bin, claude, ['blocks', '-z', 'UTC']) as any).blocks;
      expect(theirs.some((b: any) => b.isGap)).toBe(true);
      expectSameBlocks((await ours(env, ['report', 'blocks', '--json', '-z', 'UTC'])).blocks, theirs);
    }
  }, 120_000);

  it('blocks with another session length, and a date range in a half-hour zone', async () => {
    const { env, claude } = await setup(5);
    expectSameBlocks(
      (await ours(env, ['report', 'blocks', '--json', '-z', 'UTC', '--session-length', '3'])).blocks,
      (ccusage20Json(bin, claude, ['blocks', '-z', 'UTC', '--session-length', '3']) as any).blocks,
    );
    expectSameBlocks(
      (await ours(env, ['report', 'blocks', '--json', '-z', 'Asia/Kolkata', '--since', '2026-03-02', '--until', '2026-03-05'])).blocks,
      (ccusage20Json(bin, claude, ['blocks', '-z', 'Asia/Kolkata', '--since', '20260302', '--until', '20260305']) as any).blocks,
    );
  }, 120_000);

  it('the active block: burn rate, projection and token limit status', async () => {
    // The last response twenty minutes ago: both tools see the same block active, each with its own clock.
    const { env, claude } = await setup(3, { endAt: Date.now() - 20 * 60_000 });
    const theirs = (ccusage20Json(bin, claude, ['blocks', '--active', '--token-limit', '500000', '-z', 'UTC']) as any).blocks;
    const mine = (await ours(env, ['report', 'blocks', '--json', '--active', '--token-limit', '500000', '-z', 'UTC'])).blocks;
    expect(theirs).toHaveLength(1);
    expectSameBlocks(mine, theirs);
    expect(mine[0].burnRate.tokensPerMinute).toBeCloseTo(theirs[0].burnRate.tokensPerMinute, 6);
    expect(mine[0].burnRate.tokensPerMinuteForIndicator).toBeCloseTo(theirs[0].burnRate.tokensPerMinuteForIndicator, 6);
    expect(mine[0].burnRate.costPerHour).toBeCloseTo(theirs[0].burnRate.costPerHour, 6);
    // The projections run to the block's end from two instants a few seconds apart.
    expect(Math.abs(mine[0].projection.remainingMinutes - theirs[0].projection.remainingMinutes)).toBeLessThanOrEqual(1);
    expect(Math.abs(mine[0].projection.totalTokens / theirs[0].projection.totalTokens - 1)).toBeLessThan(0.01);
    expect(mine[0].tokenLimitStatus.limit).toBe(500000);
    expect(mine[0].tokenLimitStatus.status).toBe(theirs[0].tokenLimitStatus.status);

    // `max`: the largest finished block. Over the whole list both agree; ccusage 20 takes it from
    // the blocks left after --active/--recent (so `--active --token-limit max` has no limit there),
    // we from every block of the selected dates.
    const all = (ccusage20Json(bin, claude, ['blocks', '--token-limit', 'max', '-z', 'UTC']) as any).blocks;
    const allMine = (await ours(env, ['report', 'blocks', '--json', '--token-limit', 'max', '-z', 'UTC'])).blocks;
    const act = (l: any[]) => l.find((b) => b.isActive);
    expect(act(allMine).tokenLimitStatus.limit).toBe(act(all).tokenLimitStatus.limit);
    expect(act(allMine).tokenLimitStatus.status).toBe(act(all).tokenLimitStatus.status);
    const activeMax = (await ours(env, ['report', 'blocks', '--json', '--active', '--token-limit', 'max', '-z', 'UTC'])).blocks;
    expect(activeMax[0].tokenLimitStatus.limit).toBe(act(all).tokenLimitStatus.limit);
  }, 120_000);

  it('weekly, from Sunday and from Monday', async () => {
    const { env, claude } = await setup(9);
    for (const start of ['sunday', 'monday']) {
      const theirs = ccusage20Json(bin, claude, ['weekly', '-z', 'UTC', '--start-of-week', start]) as any;
      const mine = await ours(env, ['report', 'weekly', '--json', '-z', 'UTC', '--start-of-week', start]);
      expect(mine.weekly.map((w: any) => w.week)).toEqual(theirs.weekly.map((w: any) => w.week));
      for (let i = 0; i < theirs.weekly.length; i++) {
        const [m, t] = [mine.weekly[i], theirs.weekly[i]];
        for (const k of ['inputTokens', 'outputTokens', 'cacheCreationTokens', 'cacheReadTokens', 'totalTokens']) expect(m[k], `${t.week} ${k}`).toBe(t[k]);
        expect(m.totalCost).toBeCloseTo(t.totalCost, 9);
        expect([...m.modelsUsed].sort()).toEqual([...t.modelsUsed].sort());
        expect(m.modelBreakdowns.map((b: any) => [b.modelName, b.inputTokens, b.outputTokens, b.cacheCreationTokens, b.cacheReadTokens]).sort())
          .toEqual(t.modelBreakdowns.map((b: any) => [b.modelName, b.inputTokens, b.outputTokens, b.cacheCreationTokens, b.cacheReadTokens]).sort());
      }
      for (const k of ['inputTokens', 'outputTokens', 'cacheCreationTokens', 'cacheReadTokens', 'totalTokens']) expect(mine.totals[k]).toBe(theirs.totals[k]);
    }
  }, 120_000);
});
