import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { claudeAdapter } from '../src/adapters/claude/index.js';
import { openDb, type Db } from '../src/store/db.js';
import { ingest } from '../src/ingest/index.js';
import { dailyReport } from '../src/reports/index.js';
import { copyFixture, tempDir } from './helpers/fixtures.js';
import { ccusageDaily, storeDaily, type DayTokens } from './helpers/ccusage.js';
import { generateClaudeLogs } from './helpers/claudeGen.js';
import { ruleDaily } from './helpers/rule.js';

/**
 * Our numbers against the billing rule (docs/numbers.md): per UTC day, all four token kinds,
 * exactly. The oracle is the rule: the generator's own ground truth, and for the fixtures a
 * plain reference reading of the rule (helpers/rule.ts). Compared twice: through the daily
 * report (what users see) and straight from the store's bills (so a mismatch says whether
 * ingest or the report is at fault). ccusage 18.0.11 is a documented comparison, at the end.
 */
function reportDaily(db: Db): DayTokens[] {
  return dailyReport(db, { timezone: 'UTC', provider: 'claude' }).daily.map((d) => ({
    date: d.date,
    inputTokens: d.inputTokens,
    outputTokens: d.outputTokens,
    cacheCreationTokens: d.cacheCreationTokens,
    cacheReadTokens: d.cacheReadTokens,
  }));
}

async function ingestRoots(roots: string[], db = openDb(join(tempDir(), 'store.db'))): Promise<Db> {
  await ingest(db, { adapters: [claudeAdapter], env: { CLAUDE_CONFIG_DIR: roots.join(',') } });
  return db;
}

function expectRule(db: Db, truth: DayTokens[]): void {
  expect(truth.length).toBeGreaterThan(0);
  expect(storeDaily(db)).toEqual(truth);
  expect(reportDaily(db)).toEqual(truth);
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

/** Default seeds run on every `npm test`; SU_PARITY_SEEDS=1,2,3… (or a count, e.g. 50) runs more. */
function seeds(): number[] {
  const v = process.env.SU_PARITY_SEEDS;
  if (!v) return [1, 7, 2024];
  if (/^\d+$/.test(v)) return Array.from({ length: Number(v) }, (_, i) => i + 1);
  return v.split(',').map(Number);
}

const total = (days: DayTokens[]) =>
  days.reduce((t, d) => [t[0] + d.inputTokens, t[1] + d.outputTokens, t[2] + d.cacheCreationTokens, t[3] + d.cacheReadTokens], [0, 0, 0, 0]);

describe('the billing rule, per UTC day (daily --json -z UTC)', () => {
  it('on the fixtures, against the reference reading of the rule', async () => {
    const root = copyFixture('claude');
    const db = await ingestRoots([root]);
    const truth = ruleDaily([root]);
    expectRule(db, truth);
    expect(truth.length).toBeGreaterThanOrEqual(20);
  });

  it.each(seeds())('on generated logs, seed %i, against the generator\'s ground truth', async (seed) => {
    const root = join(tempDir(), 'claude');
    const gen = generateClaudeLogs(root, { seed, projects: 3, sessionsPerProject: 4, turnsPerSession: 14, days: 6 });
    const db = await ingestRoots([root]);
    expectRule(db, gen.daily);
    expect(ruleDaily([root])).toEqual(gen.daily);
    // The logs really exercise the rule: several lines per response, and lines that are malformed.
    expect(gen.usageLines).toBeGreaterThan(gen.responses * 1.3);
    expect(db.prepare('SELECT COUNT(*) FROM usage').pluck().get()).toBe(gen.responses);
    expect(gen.malformedLines).toBeGreaterThan(0);
  });

  it('on generated logs ingested in two steps, cut mid-line', async () => {
    const root = join(tempDir(), 'claude');
    const gen = generateClaudeLogs(root, { seed: 99, projects: 2, sessionsPerProject: 4, turnsPerSession: 14 });
    const full = new Map(walk(join(root, 'projects')).map((p) => [p, readFileSync(p)]));
    for (const [p, buf] of full) writeFileSync(p, buf.subarray(0, Math.floor(buf.length / 2)));
    const db = await ingestRoots([root]);
    for (const [p, buf] of full) writeFileSync(p, buf);
    await ingestRoots([root], db);
    expectRule(db, gen.daily);
  });

  it('with several roots in CLAUDE_CONFIG_DIR', async () => {
    const a = copyFixture('claude');
    const b = join(tempDir(), 'claude');
    generateClaudeLogs(b, { seed: 5, projects: 2, sessionsPerProject: 2, turnsPerSession: 10, startDate: '2025-06-08', days: 3 });
    const db = await ingestRoots([a, b]);
    expectRule(db, ruleDaily([a, b]));
  });
});

// Measured differences, recorded in docs/numbers.md ("Where we differ from ccusage"). If one of
// these numbers changes, the table there changes with it.
describe('comparison with ccusage 18.0.11 (documented, not the oracle)', () => {
  it('on the fixtures: the totals of all four kinds, ours and theirs', async () => {
    const root = copyFixture('claude');
    const db = await ingestRoots([root]);
    const ours = total(reportDaily(db));
    const theirs = total(ccusageDaily([root]));
    expect({ ours, theirs }).toEqual({
      ours: [24_149, 149_194, 1_338_668, 26_382_066],
      theirs: [23_328, 87_708, 1_322_715, 26_296_378],
    });
  });

  it('on generated logs, seed 1: ccusage bills early partial output and counts replays and lines without requestId again', () => {
    const root = join(tempDir(), 'claude');
    const gen = generateClaudeLogs(root, { seed: 1, projects: 3, sessionsPerProject: 4, turnsPerSession: 14, days: 6 });
    const ours = total(gen.daily);
    const theirs = total(ccusageDaily([root]));
    // The impossible count (2^60 input) is malformed here; ccusage sums it.
    expect({ ours, theirs }).toEqual({
      ours: [9_306, 681_918, 3_884_612, 44_359_894],
      theirs: [3_458_764_513_820_548_000, 601_801, 4_259_829, 50_932_390],
    });
  });

  it('the smallest case: a streamed reply, its subagent replay, and a reply without requestId', async () => {
    const root = join(tempDir(), 'claude');
    const line = (uuid: string, id: string, req: string | null, output: number, ts: string, sidechain = false) =>
      JSON.stringify({
        parentUuid: null, isSidechain: sidechain, userType: 'external', cwd: '/w', sessionId: 's1', version: '2.0.14', type: 'assistant', uuid, timestamp: ts,
        ...(req ? { requestId: req } : {}),
        message: { id, type: 'message', role: 'assistant', model: 'claude-sonnet-4-5-20250929', content: [{ type: 'text', text: 'x' }], usage: { input_tokens: 10, output_tokens: output, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 } },
      });
    mkdirSync(join(root, 'projects', '-w', 's1', 'subagents'), { recursive: true });
    writeFileSync(join(root, 'projects', '-w', 's1.jsonl'), [
      line('u1', 'msg_A', 'req_1', 8, '2025-07-01T10:00:00.000Z'), line('u2', 'msg_A', 'req_1', 436, '2025-07-01T10:00:01.000Z'),
      line('u3', 'msg_B', null, 5, '2025-07-01T10:01:00.000Z'), line('u4', 'msg_B', null, 7, '2025-07-01T10:01:01.000Z'),
    ].join('\n') + '\n');
    writeFileSync(join(root, 'projects', '-w', 's1', 'subagents', 'agent-x.jsonl'), line('u9', 'msg_A', 'req_9', 436, '2025-07-01T10:05:00.000Z', true) + '\n');
    const db = await ingestRoots([root]);
    expect(total(reportDaily(db)).slice(0, 2)).toEqual([20, 443]);
    expect(total(ccusageDaily([root])).slice(0, 2)).toEqual([40, 456]);
  });
});
