import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Db } from '../../src/store/db.js';
import { tempDir } from './fixtures.js';

/** Per-day token totals, in ccusage's field names. */
export interface DayTokens {
  date: string;
  inputTokens: number;
  outputTokens: number;
  cacheCreationTokens: number;
  cacheReadTokens: number;
}

function ccusageBin(): string {
  const pkgPath = createRequire(import.meta.url).resolve('ccusage/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { version: string; bin: Record<string, string> };
  if (pkg.version !== '18.0.11') throw new Error(`parity is pinned to ccusage 18.0.11, found ${pkg.version}`);
  return join(dirname(pkgPath), pkg.bin.ccusage);
}

/**
 * Runs the pinned ccusage (`daily --json --offline -z UTC`) over the given Claude config dir(s),
 * with HOME, XDG dirs and cwd in a fresh temp dir so nothing of the real user leaks in.
 */
export function ccusageDaily(claudeDirs: string | string[]): DayTokens[] {
  const home = tempDir('su-cchome-');
  const out = execFileSync(process.execPath, [ccusageBin(), 'daily', '--json', '--offline', '-z', 'UTC'], {
    cwd: home,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: home,
      XDG_CONFIG_HOME: join(home, '.config'),
      CLAUDE_CONFIG_DIR: Array.isArray(claudeDirs) ? claudeDirs.join(',') : claudeDirs,
      NO_COLOR: '1',
    },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const parsed = JSON.parse(out) as { daily: DayTokens[] } | [];
  const daily = Array.isArray(parsed) ? [] : parsed.daily;
  return daily
    .map((d) => ({
      date: d.date,
      inputTokens: d.inputTokens,
      outputTokens: d.outputTokens,
      cacheCreationTokens: d.cacheCreationTokens,
      cacheReadTokens: d.cacheReadTokens,
    }))
    .sort((a, b) => a.date.localeCompare(b.date));
}

/** Per-UTC-day sums over the store's billing facts (one row per usage key) for one provider. */
export function storeDaily(db: Db, provider = 'claude'): DayTokens[] {
  return db
    .prepare(
      `SELECT substr(ts, 1, 10) AS date, SUM(input_tokens) AS inputTokens, SUM(output_tokens) AS outputTokens,
         SUM(cache_creation_tokens) AS cacheCreationTokens, SUM(cache_read_tokens) AS cacheReadTokens
       FROM usage WHERE provider = ? GROUP BY date ORDER BY date`,
    )
    .all(provider) as DayTokens[];
}
