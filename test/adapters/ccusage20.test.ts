/**
 * The three agents' per-day tokens against ccusage 20.0.24 (native), on the same fixtures.
 * Equal where its rules are right; where they are not, the test pins the difference the
 * docs describe (docs/numbers.md, "Other agents"), so a change on either side shows.
 *
 * ccusage 20 is a platform binary that npm does not install with the package: it is
 * installed on demand into a cached temp folder (test/helpers/ccusage20.ts); where no binary
 * is published the comparison is skipped, and says why.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { copilotAdapter } from '../../src/adapters/copilot/index.js';
import { geminiAdapter } from '../../src/adapters/gemini/index.js';
import { qwenAdapter } from '../../src/adapters/qwen/index.js';
import type { Adapter } from '../../src/adapters/types.js';
import { agentStore, billedByDay } from '../helpers/agents.js';
import { FIXTURES_DIR } from '../helpers/fixtures.js';
import { ccusage20AgentDaily, ccusage20ForTests, type Ccusage20Day } from '../helpers/ccusage20.js';

const { bin: BIN, skip: SKIP } = ccusage20ForTests();
const HAVE = SKIP === null;

type Day = Ccusage20Day;
const ccusage = (agent: string, env: Record<string, string>): Day[] => ccusage20AgentDaily(BIN, agent, env);

async function ours(adapter: Adapter, env: Record<string, string>): Promise<Array<Day & { reasoning: number }>> {
  const { db, run } = agentStore(adapter, env);
  await run();
  return billedByDay(db, adapter.provider).map((d) => ({
    date: d.date as string, inputTokens: d.input as number, outputTokens: d.output as number, cacheCreationTokens: d.cacheCreation as number,
    cacheReadTokens: d.cacheRead as number, totalTokens: d.total as number, reasoning: d.reasoning as number,
  }));
}

describe.skipIf(!HAVE)(`per day against ccusage 20.0.24${HAVE ? '' : ` (skipped: ${SKIP})`}`, () => {
  it('Copilot: equal on every day ccusage reports; ccusage drops the shutdown after a counter reset', async () => {
    const env = { COPILOT_HOME: join(FIXTURES_DIR, 'copilot') };
    const mine = await ours(copilotAdapter, env);
    const theirs = ccusage('copilot', env);
    expect(mine.map(({ reasoning: _, ...d }) => d).slice(0, theirs.length)).toEqual(theirs);
    // the resumed session's reset snapshot (2026-05-03): billed whole here, absent from ccusage
    expect(theirs.map((d) => d.date)).not.toContain('2026-05-03');
    expect(mine.at(-1)).toMatchObject({ date: '2026-05-03', totalTokens: 5200 });
  });

  it('Gemini: equal input, cache and totals; ccusage leaves thoughts out of output (it adds them to the total only)', async () => {
    const env = { GEMINI_DATA_DIR: join(FIXTURES_DIR, 'gemini', '.gemini') };
    const mine = await ours(geminiAdapter, env);
    const theirs = ccusage('gemini', env);
    expect(mine.map(({ reasoning, ...d }) => ({ ...d, outputTokens: d.outputTokens - reasoning }))).toEqual(theirs);
  });

  it('Qwen: ccusage counts cached tokens twice (in input and as cache reads) and drops thoughts that Gemini-API backends log beside the output', async () => {
    const env = { QWEN_DATA_DIR: join(FIXTURES_DIR, 'qwen') };
    const mine = await ours(qwenAdapter, env);
    const theirs = ccusage('qwen', env);
    expect(theirs.map((d) => d.date)).toEqual(mine.map((d) => d.date));
    for (const [i, t] of theirs.entries()) {
      const m = mine[i];
      expect(t.cacheReadTokens).toBe(m.cacheReadTokens);
      expect(t.inputTokens).toBe(m.inputTokens + m.cacheReadTokens);
    }
    // 2026-05-06: reasoning inside the candidates (OpenAI-style), both count output alike
    expect(theirs[0].outputTokens).toBe(mine[0].outputTokens);
    // 2026-05-07: 200 thought tokens beside the candidates, billed as output here only
    expect(mine[1].outputTokens - theirs[1].outputTokens).toBe(200);
  });
});
