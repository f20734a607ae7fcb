/**
 * Benchmark: `stackunderflow statusline` as Claude Code runs it, once per prompt, on a store
 * ingested from generated logs. Each run is its own process (the bundled bin) fed a hook payload
 * on stdin; it reports p50/p95 wall time for three cases, beside an empty Node process (the floor
 * no command goes below):
 *
 *   - unchanged: the largest historical session, its transcript unchanged since the last call;
 *   - grown: a session going on now, one response appended before every call (now-dated, so
 *     today's cost and an active block are non-empty): the incremental ingest is on the path;
 *   - no usage: a transcript with no usage yet (session N/A).
 *
 *   npx tsx bench/statusline.ts [--size tiny|small|medium|large] [--seed N] [--runs N] [--against BIN]
 *
 * `--against` runs another build's bin (e.g. a worktree of main: `…/dist/bin/stackunderflow.js`)
 * on the same store, interleaved call by call with this one: on a shared, noisy machine only such
 * back-to-back comparisons mean much. Besides wall time, each row gives the CPU time per call
 * (user + system of the child, from /proc on Linux), which load disturbs less, and the load
 * average at start and end is printed.
 *
 * NODE_EXTRA_CA_CERTS is removed from the children's environment: Node reads and parses that
 * bundle at start-up (tens of ms on this VM), which no user's prompt pays.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { SizePreset } from './gen.js';
import { arg, cachedDataset, CLI, OUT } from './cached.js';

const size = arg('size', 'medium') as SizePreset;
const seed = Number(arg('seed', '1'));
const runs = Number(arg('runs', '40'));
const against = arg('against', '');

function walk(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.name.endsWith('.jsonl')) out.push(p);
  }
  return out;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

/** CPU ms (user + system) of this process's waited-for children so far; NaN off Linux. */
function childrenCpuMs(): number {
  try {
    const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    return (Number(f[13]) + Number(f[14])) * 10; // fields 16 and 17, cutime and cstime: ticks of 10 ms
  } catch {
    return NaN;
  }
}

/** One series of calls: wall times, and CPU time summed (ticks are too coarse for one call). */
interface Series {
  ms: number[];
  cpuMs: number;
}
const series = (): Series => ({ ms: [], cpuMs: 0 });

function timeRun(into: Series, file: string, args: string[], env: NodeJS.ProcessEnv, input: string): string {
  const c0 = childrenCpuMs();
  const t0 = performance.now();
  const r = spawnSync(file, args, { env, input, encoding: 'utf8' });
  into.ms.push(performance.now() - t0);
  into.cpuMs += childrenCpuMs() - c0;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout.trim();
}

function main(): void {
  if (!existsSync(CLI)) throw new Error('no dist/bin: run `npm run build` first');
  const data = cachedDataset(size, seed);
  const home = join(OUT, `statusline-${size}-seed${seed}`);
  const claude = join(data, 'claude');
  const { NODE_EXTRA_CA_CERTS: _dropped, ...base } = process.env;
  const env: NodeJS.ProcessEnv = { ...base, STACKUNDERFLOW_HOME: home, CLAUDE_CONFIG_DIR: claude, CODEX_HOME: join(data, 'codex'), TZ: 'UTC' };
  if (!existsSync(join(home, 'store.db'))) {
    process.stderr.write('ingesting the whole store once ...\n');
    const r = spawnSync(process.execPath, [CLI, 'ingest'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) throw new Error('ingest failed');
  }
  const storeMb = statSync(join(home, 'store.db')).size / 1e6;

  // The largest transcript: its session's cost is the most expensive one to sum.
  const files = walk(join(claude, 'projects')).filter((f) => !f.includes(`${'/'}subagents${'/'}`));
  const original = files.reduce((a, b) => (statSync(a).size >= statSync(b).size ? a : b));
  const session = basename(original, '.jsonl');
  // Appended to below: a private copy under its own Claude root, so the generated logs stay as
  // generated (run.ts checks them against their manifest). Its events are the ingested ones
  // (same identities), so the first, unmeasured call bills nothing twice.
  const transcript = join(home, 'claude', 'projects', basename(dirname(original)), basename(original));
  mkdirSync(dirname(transcript), { recursive: true });
  copyFileSync(original, transcript);
  const payload = JSON.stringify({
    hook_event_name: 'Status',
    session_id: session,
    transcript_path: transcript,
    cwd: '/home/dev/app',
    model: { id: 'claude-sonnet-4-5-20250929', display_name: 'Sonnet 4.5' },
    workspace: { current_dir: '/home/dev/app', project_dir: '/home/dev/app' },
    version: '2.0.14',
    cost: { total_cost_usd: 0.5, total_duration_ms: 60000 },
  });
  const empty = join(dirname(transcript), 'bench-statusline-empty.jsonl');
  writeFileSync(empty, '');
  const idlePayload = payload.replace(JSON.stringify(transcript), JSON.stringify(empty)).replace(session, 'bench-statusline-empty');
  const liveSession = `bench-live-${Date.now()}`;
  const live = join(dirname(transcript), `${liveSession}.jsonl`);
  writeFileSync(live, '');
  const livePayload = payload.replace(JSON.stringify(transcript), JSON.stringify(live)).replace(session, liveSession);

  const bins = against ? [CLI, against] : [CLI];
  const node = series();
  const cases = bins.map(() => ({ unchanged: series(), grown: series(), idle: series() }));
  let line = '';
  const load0 = loadavg();
  // Warm the OS cache and the transcript's file row first.
  for (const bin of bins) timeRun(series(), process.execPath, [bin, 'statusline'], env, payload);
  for (let i = 0; i < runs; i++) {
    timeRun(node, process.execPath, ['-e', '0'], env, '');
    bins.forEach((bin, b) => {
      const cmd = [bin, 'statusline'];
      timeRun(cases[b].unchanged, process.execPath, cmd, env, payload);
      const now = new Date().toISOString();
      const id = `${Date.now()}_${i}_${b}`;
      appendFileSync(
        live,
        JSON.stringify({
          type: 'assistant', sessionId: liveSession, uuid: `bench-sl-${id}`, timestamp: now, requestId: `req_bench_${id}`,
          message: { id: `msg_bench_${id}`, role: 'assistant', model: 'claude-sonnet-4-5-20250929', content: [{ type: 'text', text: 'ok' }],
            usage: { input_tokens: 1200, output_tokens: 300, cache_creation_input_tokens: 2000, cache_read_input_tokens: 40000 } },
        }) + '\n',
      );
      const out = timeRun(cases[b].grown, process.execPath, cmd, env, livePayload);
      if (b === 0) line = out;
      timeRun(cases[b].idle, process.execPath, cmd, env, idlePayload);
    });
  }
  const load1 = loadavg();
  const round = (xs: number[]) => xs.map((x) => Number(x.toFixed(2)));
  const stats = (x: Series) => ({ p50: pct(x.ms, 50), p95: pct(x.ms, 95), cpuMs: x.cpuMs / x.ms.length });
  const row = (name: string, x: Series) => {
    const st = stats(x);
    return `${name.padEnd(44)} p50 ${st.p50.toFixed(1).padStart(6)} ms   p95 ${st.p95.toFixed(1).padStart(6)} ms   cpu ${st.cpuMs.toFixed(1).padStart(5)} ms`;
  };
  const result = {
    size, seed, runs, storeMb: Number(storeMb.toFixed(1)), transcriptMb: Number((statSync(transcript).size / 1e6).toFixed(2)),
    loadavg: { start: round(load0), end: round(load1) }, cpus: cpus().length, node: process.version,
    node0: stats(node),
    bins: bins.map((bin, b) => ({ bin, unchanged: stats(cases[b].unchanged), grown: stats(cases[b].grown), idle: stats(cases[b].idle) })),
    line,
  };
  const label = (b: number) => (bins.length > 1 ? (b === 0 ? ' [this]' : ' [against]') : '');
  process.stdout.write(
    [
      `statusline on the ${size} store (${result.storeMb} MB; transcript ${result.transcriptMb} MB), ${runs} runs each, load average ${round(load0).join(' ')} at start, ${round(load1).join(' ')} at end, ${result.cpus} CPUs`,
      ...(against ? [`against: ${against}`] : []),
      row('empty node process (the floor)', node),
      ...bins.flatMap((_, b) => [
        row(`big old session, unchanged${label(b)}`, cases[b].unchanged),
        row(`live session, +1 response${label(b)}`, cases[b].grown),
        row(`session without usage${label(b)}`, cases[b].idle),
      ]),
      `last line: ${line}`,
    ].join('\n') + '\n',
  );
  writeFileSync(join(OUT, `statusline-${size}-seed${seed}.json`), JSON.stringify(result, null, 2) + '\n');
  rmSync(empty, { force: true });
  rmSync(live, { force: true });
}

main();
