import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { claudeAdapter } from '../src/adapters/claude/index.js';
import { openDb, type Db } from '../src/store/db.js';
import { ingest } from '../src/ingest/index.js';
import { dailyReport } from '../src/reports/index.js';
import { copyFixture, tempDir } from './helpers/fixtures.js';
import { ccusageDaily, storeDaily, type DayTokens } from './helpers/ccusage.js';
import { generateClaudeLogs } from './helpers/claudeGen.js';

/**
 * Parity with ccusage 18.0.11: per UTC day, all four token kinds equal, exactly. Compared twice:
 * through our daily report (what users see) and straight from the store's usage table (so a
 * mismatch says whether ingest or the report is at fault).
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

function expectParity(db: Db, roots: string[]): DayTokens[] {
  const theirs = ccusageDaily(roots);
  expect(theirs.length).toBeGreaterThan(0);
  expect(storeDaily(db)).toEqual(theirs);
  expect(reportDaily(db)).toEqual(theirs);
  return theirs;
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

describe('parity with ccusage 18.0.11 (daily --json --offline -z UTC)', () => {
  it('on the fixtures', async () => {
    const root = copyFixture('claude');
    const db = await ingestRoots([root]);
    const days = expectParity(db, [root]);
    expect(days.length).toBeGreaterThanOrEqual(20);
  });

  it.each(seeds())('on generated logs, seed %i', async (seed) => {
    const root = join(tempDir(), 'claude');
    const gen = generateClaudeLogs(root, { seed, projects: 3, sessionsPerProject: 4, turnsPerSession: 14, days: 6 });
    const db = await ingestRoots([root]);
    expectParity(db, [root]);
    // The logs really exercise deduplication: summing every usage-carrying event overcounts.
    const naive = db.prepare('SELECT SUM(output_tokens) FROM events WHERE has_usage = 1').pluck().get() as number;
    const billed = db.prepare('SELECT SUM(output_tokens) FROM usage').pluck().get() as number;
    expect(naive).toBeGreaterThan(billed);
    expect(gen.malformedLines).toBeGreaterThan(0);
  });

  it('on generated logs ingested in two steps, cut mid-line', async () => {
    const root = join(tempDir(), 'claude');
    generateClaudeLogs(root, { seed: 99, projects: 2, sessionsPerProject: 4, turnsPerSession: 14 });
    const full = new Map(walk(join(root, 'projects')).map((p) => [p, readFileSync(p)]));
    for (const [p, buf] of full) writeFileSync(p, buf.subarray(0, Math.floor(buf.length / 2)));
    const db = await ingestRoots([root]);
    for (const [p, buf] of full) writeFileSync(p, buf);
    await ingestRoots([root], db);
    expectParity(db, [root]);
  });

  it('with several roots in CLAUDE_CONFIG_DIR', async () => {
    const a = copyFixture('claude');
    const b = join(tempDir(), 'claude');
    generateClaudeLogs(b, { seed: 5, projects: 2, sessionsPerProject: 2, turnsPerSession: 10, startDate: '2025-06-08', days: 3 });
    const db = await ingestRoots([a, b]);
    expectParity(db, [a, b]);
  });
});
