/**
 * Benchmark: `report blocks --json` and `report weekly --json` against ccusage 20.0.24 (native)
 * on generated logs: wall time of each (one process per run, median of N), and how many blocks
 * and weeks agree (ids, times, entries and the four token kinds exactly; cost to a millionth).
 * The generated logs include what the billing rules treat differently (lines without requestId,
 * resumed sessions), so a few rows may differ there; the exact comparison on logs where the rules
 * agree is test/reports/ccusage20.test.ts.
 *
 *   npx tsx bench/blocks.ts [--size tiny|small|medium|large] [--seed N] [--runs N]
 *
 * Reuses bench/out/data-seed<N>-<size> and the store bench/statusline.ts ingested, when present
 * (that store also holds the status-line bench's own now-dated responses: both tools stop at
 * 2026-11-30, long after the generated logs end).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { SizePreset } from './gen.js';
import { arg, cachedDataset, CLI, OUT } from './cached.js';
import { installCcusage20 } from '../test/helpers/ccusage20.js';

const size = arg('size', 'medium') as SizePreset;
const seed = Number(arg('seed', '1'));
const runs = Number(arg('runs', '5'));

function run(file: string, args: string[], env: NodeJS.ProcessEnv): { ms: number; out: string } {
  const t0 = performance.now();
  const r = spawnSync(file, args, { env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${file} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { ms, out: r.stdout };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function main(): void {
  const cc = installCcusage20();
  if ('reason' in cc) throw new Error(cc.reason);
  const data = cachedDataset(size, seed);
  const home = join(OUT, `statusline-${size}-seed${seed}`);
  const { NODE_EXTRA_CA_CERTS: _dropped, ...base } = process.env;
  const env: NodeJS.ProcessEnv = { ...base, STACKUNDERFLOW_HOME: home, CLAUDE_CONFIG_DIR: join(data, 'claude'), CODEX_HOME: join(data, 'codex'), TZ: 'UTC', HOME: home };
  if (!existsSync(join(home, 'store.db'))) run(process.execPath, [CLI, 'ingest'], env);
  const lines: string[] = [`${size} logs, seed ${seed}, ${runs} runs each, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`];
  for (const [name, ours, theirs, key] of [
    ['blocks', ['report', 'blocks', '--json', '-z', 'UTC', '--scope', 'local', '--until', '2026-11-30'], ['claude', 'blocks', '--json', '--offline', '-z', 'UTC', '--until', '20261130'], 'blocks'],
    ['weekly', ['report', 'weekly', '--json', '-z', 'UTC', '--provider', 'claude', '--scope', 'local', '--until', '2026-11-30'], ['claude', 'weekly', '--json', '--offline', '-z', 'UTC', '--until', '20261130'], 'weekly'],
  ] as const) {
    const o: number[] = [];
    const t: number[] = [];
    let mine: any[] = [];
    let cc20: any[] = [];
    for (let i = 0; i < runs; i++) {
      const a = run(process.execPath, [CLI, ...ours], env);
      o.push(a.ms);
      mine = JSON.parse(a.out)[key];
      const b = run(cc.bin, [...theirs], env);
      t.push(b.ms);
      cc20 = JSON.parse(b.out)[key];
    }
    const id = (r: any) => r.id ?? r.week;
    const theirsById = new Map(cc20.map((r) => [id(r), r]));
    const tokens = (r: any) => {
      const t = r.tokenCounts;
      return JSON.stringify(t ? [t.inputTokens, t.outputTokens, t.cacheCreationInputTokens, t.cacheReadInputTokens] : [r.inputTokens, r.outputTokens, r.cacheCreationTokens, r.cacheReadTokens]);
    };
    const cost = (v: any) => v.costUSD ?? v.totalCost;
    const differ = mine.filter((r) => {
      const x = theirsById.get(id(r));
      return !(x && tokens(x) === tokens(r) && (r.entries === undefined || r.entries === x.entries) && Math.abs(cost(x) - cost(r)) < 1e-6);
    });
    const same = mine.length - differ.length;
    if (differ[0]) {
      const x = theirsById.get(id(differ[0]));
      lines.push(`  first difference, ${id(differ[0])}: ours ${tokens(differ[0])} ${cost(differ[0])}, theirs ${x ? `${tokens(x)} ${cost(x)}` : 'none'}`);
    }
    lines.push(
      `${name.padEnd(7)} ours p50 ${median(o).toFixed(0)} ms, ccusage ${'20.0.24'} p50 ${median(t).toFixed(0)} ms (${(median(t) / median(o)).toFixed(1)}x); ` +
        `${same} of ${cc20.length} rows identical (ours: ${mine.length})`,
    );
  }
  process.stdout.write(lines.join('\n') + '\n');
}

main();
