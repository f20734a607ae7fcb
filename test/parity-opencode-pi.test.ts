import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { opencodeAdapter, piAdapter } from '../src/adapters/index.js';
import { ingest } from '../src/ingest/index.js';
import { openDb } from '../src/store/db.js';
import { dailyReport } from '../src/reports/index.js';
import { writeAgentLogs } from './helpers/agentLogs.js';
import { tempDir } from './helpers/fixtures.js';
import { ccusage20AgentDaily, ccusage20ForTests, type Ccusage20Day } from './helpers/ccusage20.js';

/**
 * OpenCode and pi against ccusage 20.0.24 (native), per UTC day, on the fixtures. Where
 * ccusage's rule is right the numbers are equal; where it is not (docs/numbers.md, "Other
 * agents") the difference is exactly what the rule predicts. The binary is installed on demand
 * into a cached temp folder (test/helpers/ccusage20.ts).
 */
const { bin: BIN, skip } = ccusage20ForTests();

type Day = Ccusage20Day;
const pick = (d: Day): Day => ({
  date: d.date, inputTokens: d.inputTokens, outputTokens: d.outputTokens, cacheCreationTokens: d.cacheCreationTokens, cacheReadTokens: d.cacheReadTokens, totalTokens: d.totalTokens,
});
const ccusage = (agent: 'pi' | 'opencode', env: NodeJS.ProcessEnv): Day[] => ccusage20AgentDaily(BIN, agent, env);

async function ours(env: NodeJS.ProcessEnv, provider: 'pi' | 'opencode') {
  const db = openDb(join(tempDir(), 'store.db'));
  await ingest(db, { adapters: [opencodeAdapter, piAdapter], env });
  return dailyReport(db, { timezone: 'UTC', provider }).daily;
}

describe.skipIf(skip !== null)(`parity with ccusage 20.0.24 ${skip ? `(skipped: ${skip})` : ''}`, () => {
  it('pi: equal every day, except a reply copied into a branched session, which ccusage bills twice', async () => {
    const env = writeAgentLogs(tempDir(), { pi: true });
    const theirs = ccusage('pi', env);
    const mine = (await ours(env, 'pi')).map(pick);
    const branched = { inputTokens: 12, outputTokens: 140, cacheCreationTokens: 5200, cacheReadTokens: 0, totalTokens: 5352 };
    expect(theirs.map((d) => d.date)).toEqual(mine.map((d) => d.date));
    for (const [i, d] of theirs.entries()) {
      if (d.date !== '2026-01-02') expect(mine[i]).toEqual(d);
      else for (const k of Object.keys(branched) as Array<keyof typeof branched>) expect(d[k] - mine[i][k]).toBe(branched[k]);
    }
  });

  it('OpenCode: equal every day, except output, where we count reasoning (billed as output) and ccusage does not', async () => {
    const env = writeAgentLogs(tempDir(), { opencode: true });
    const theirs = ccusage('opencode', env);
    const mine = await ours(env, 'opencode');
    expect(theirs.map((d) => d.date)).toEqual(mine.map((d) => d.date));
    for (const [i, d] of theirs.entries()) {
      const m = pick(mine[i]);
      expect({ ...m, outputTokens: m.outputTokens - mine[i].reasoningTokens }).toEqual(d);
    }
  });
});
