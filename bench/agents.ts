/**
 * Ingest throughput per agent: for each agent, a generated tree of that agent's logs only
 * (bench/gen.ts, `only`), a cold ingest into a fresh store, then a re-ingest with nothing new.
 * Prints MB/s, lines/s and events/s per agent, and checks that the billed per-day totals of
 * Copilot, Gemini, Qwen, OpenCode and pi equal the generator's (a fast wrong ingest is not a
 * result). OpenCode's logs are one SQLite database: its MB is the file's size, its "lines" are
 * message and part rows.
 *
 *   npx tsx bench/agents.ts [--mb 20] [--seed 1] [--out bench/out/agents]
 *
 * In-process (ingest() directly), so the numbers are ingest alone, without process start.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ADAPTERS } from '../src/adapters/index.js';
import { ingest } from '../src/ingest/index.js';
import { openDb } from '../src/store/db.js';
import { generate, genEnv, OTHER_AGENTS, type GenAgent, type OtherAgent } from './gen.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
}

const MB = Number(arg('mb', '20'));
const SEED = Number(arg('seed', '1'));
const OUT = resolve(arg('out', join('bench', 'out', 'agents')));
const AGENTS: GenAgent[] = ['claude', 'codex', ...OTHER_AGENTS];

interface Row {
  agent: string;
  mb: number;
  files: number;
  lines: number;
  events: number;
  coldS: number;
  warmMs: number;
  check: string;
}

async function one(agent: GenAgent): Promise<Row> {
  const dir = join(OUT, `${agent}-${MB}mb-seed${SEED}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const gen = generate({ seed: SEED, outDir: join(dir, 'logs'), targetBytes: MB * 1e6, days: 14, projects: 6, only: agent });
  const env = { ...genEnv(join(dir, 'logs')), HOME: dir };
  const adapter = ADAPTERS.find((a) => a.provider === agent)!;
  const db = openDb(join(dir, 'store.db'));
  const t0 = performance.now();
  const cold = await ingest(db, { adapters: [adapter], env });
  const coldS = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const warm = await ingest(db, { adapters: [adapter], env });
  const warmMs = performance.now() - t1;
  if (warm.filesRead !== 0) throw new Error(`${agent}: the re-ingest read ${warm.filesRead} files`);
  let check = 'n/a';
  if ((OTHER_AGENTS as readonly string[]).includes(agent)) {
    const got = db
      .prepare(`SELECT substr(ts, 1, 10) AS d, SUM(input_tokens) AS i, SUM(output_tokens) AS o, SUM(cache_creation_tokens) AS c, SUM(cache_read_tokens) AS r, SUM(total_tokens) AS t FROM usage WHERE provider = ? GROUP BY 1 ORDER BY 1`)
      .all(agent) as Array<{ d: string; i: number; o: number; c: number; r: number; t: number }>;
    const want = gen.expected[agent as OtherAgent];
    const ok = got.length === Object.keys(want).length && got.every((g) => want[g.d] && want[g.d].inputTokens === g.i && want[g.d].outputTokens === g.o && want[g.d].cacheCreationTokens === g.c && want[g.d].cacheReadTokens === g.r && want[g.d].totalTokens === g.t);
    if (!ok) throw new Error(`${agent}: billed per-day totals differ from the generator's`);
    check = 'equal';
  }
  db.close();
  return { agent, mb: gen[agent].bytes / 1e6, files: gen.files, lines: gen.lines, events: cold.events.inserted, coldS, warmMs, check };
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  for (const a of AGENTS) {
    rows.push(await one(a));
    process.stderr.write(`${a} done\n`);
  }
  const f = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const lines = [
    `Ingest throughput per agent (seed ${SEED}, ~${MB} MB of each agent's logs; Node ${process.version}; in-process ingest())`,
    '',
    '| agent | MB | files | lines | events | cold ingest s | MB/s | lines/s | events/s | re-ingest, nothing new (ms) | billed = generator |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...rows.map((r) => `| ${r.agent} | ${f(r.mb, 1)} | ${f(r.files)} | ${f(r.lines)} | ${f(r.events)} | ${f(r.coldS, 2)} | ${f(r.mb / r.coldS, 1)} | ${f(r.lines / r.coldS)} | ${f(r.events / r.coldS)} | ${f(r.warmMs, 0)} | ${r.check} |`),
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((err) => {
  process.stderr.write(String(err?.stack ?? err) + '\n');
  process.exit(1);
});
