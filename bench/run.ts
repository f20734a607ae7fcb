/**
 * Benchmark: cold ingest, warm re-ingest, `report daily` and the first search against ccusage on
 * the same generated logs: 20.0.24, the native binary users run today (installed into
 * bench/out/ccusage20 on first use), and 18.0.11, the JavaScript one (a devDependency). Every measured step runs as its own child process so wall time and peak RSS
 * are those of a user running the command.
 *
 *   npm run bench -- [--size tiny|small|hundred|medium|large] [--seed N] [--skip-ccusage] [--no-claude-only]
 *                    [--report-runs N] [--cpu-prof]
 *
 * Logs are generated once per seed+size under bench/out/ (gitignored) and reused.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generate, presetOptions, PRESETS, type GenerateResult, type SizePreset } from './gen.js';
import { CCUSAGE20, installCcusage20 } from '../test/helpers/ccusage20.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'bench', 'out');
const CLI = join(ROOT, 'dist', 'bin', 'stackunderflow.js');
const CCUSAGE = join(ROOT, 'node_modules', 'ccusage', 'dist', 'index.js');
const TIME = '/usr/bin/time';

interface Measure {
  wallMs: number;
  /** Peak resident set of the measured process, KiB. */
  peakRssKb: number;
  /** User + system CPU time, ms (less sensitive than wall time to other load on the machine); NaN without GNU time. */
  cpuMs: number;
  stdout: string;
  stderr: string;
  code: number;
}

/**
 * Runs a command and measures it. Peak RSS comes from GNU time when present, else from
 * polling /proc/<pid>/status VmHWM (the high-water mark survives until the process exits).
 */
async function measure(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Measure> {
  const useTime = existsSync(TIME);
  const timeOut = useTime ? join(mkdtempSync(join(tmpdir(), 'su-time-')), 'time.txt') : '';
  const [file, argv] = useTime ? [TIME, ['-f', '%M %U %S', '-o', timeOut, cmd, ...args]] : [cmd, args];
  const t0 = performance.now();
  const child = spawn(file, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  let hwm = 0;
  let cpuMs = NaN;
  const poll = useTime
    ? null
    : setInterval(() => {
        try {
          const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
          if (m) hwm = Math.max(hwm, Number(m[1]));
        } catch {
          /* exited between polls */
        }
      }, 20);
  const code = await new Promise<number>((res) => child.on('close', (c) => res(c ?? 1)));
  const wallMs = performance.now() - t0;
  if (poll) clearInterval(poll);
  if (useTime) {
    const lines = readFileSync(timeOut, 'utf8').trim().split('\n');
    const [rss, user, sys] = lines[lines.length - 1].split(' ').map(Number);
    hwm = rss || 0;
    cpuMs = (user + sys) * 1000;
    rmSync(dirname(timeOut), { recursive: true, force: true });
  }
  return { wallMs, peakRssKb: hwm, cpuMs, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), code };
}

function must(step: string, m: Measure): Measure {
  if (m.code !== 0) {
    process.stderr.write(`${step} failed (exit ${m.code})\n${m.stderr.slice(-4000)}\n`);
    process.exit(1);
  }
  return m;
}

/** Generated logs for seed+size, created once; a manifest.json marks a finished tree. */
function dataset(size: SizePreset, seed: number): { dir: string; manifest: GenerateResult } {
  const dir = join(OUT, `data-seed${seed}-${size}`);
  if (existsSync(join(dir, 'manifest.json'))) {
    return { dir, manifest: JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as GenerateResult };
  }
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  process.stderr.write(`generating ${size} logs (seed ${seed}) into ${dir} ...\n`);
  const t0 = performance.now();
  const manifest = generate(presetOptions(size, seed, tmp));
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  process.stderr.write(`  ${manifest.files} files, ${(manifest.bytes / 1e6).toFixed(1)} MB, ${manifest.lines} lines in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  return { dir, manifest };
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * How our steps are run: the built CLI when src/cli exists (rebuilt if stale), otherwise this
 * file in child mode driving ingest()/dailyReport() through tsx (adds tsx's start-up cost).
 */
function ourCommand(): { mode: 'cli' | 'tsx'; cmd: (nodeArgs: string[], args: string[]) => [string, string[]] } {
  if (existsSync(join(ROOT, 'src', 'cli', 'main.ts'))) {
    if (!existsSync(CLI) || statSync(CLI).mtimeMs < newestMtime(join(ROOT, 'src'))) {
      process.stderr.write('building dist/ (npm run build) ...\n');
      const b = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
      if (b.status !== 0) process.stderr.write(`build failed, falling back to tsx:\n${b.stderr.toString().slice(-2000)}\n`);
    }
    if (existsSync(CLI) && spawnSync(process.execPath, [CLI, '--help'], { stdio: 'ignore' }).status === 0) {
      return { mode: 'cli', cmd: (nodeArgs, args) => [process.execPath, [...nodeArgs, CLI, ...args]] };
    }
  }
  const self = fileURLToPath(import.meta.url);
  return { mode: 'tsx', cmd: (nodeArgs, args) => [process.execPath, [...nodeArgs, '--import', 'tsx', self, '--child', ...args]] };
}

/** Child mode (no CLI yet): the same work the CLI commands do, through the library. */
async function child(args: string[]): Promise<void> {
  const { openDb } = await import('../src/store/db.js');
  const { storePath } = await import('../src/paths.js');
  const db = openDb(storePath(process.env));
  if (args[0] === 'ingest') {
    const { ingest } = await import('../src/ingest/index.js');
    const { ADAPTERS } = await import('../src/adapters/index.js');
    const r = await ingest(db, { adapters: [...ADAPTERS], env: process.env });
    process.stdout.write(JSON.stringify(r) + '\n');
  } else if (args[0] === 'report') {
    const { dailyReport } = await import('../src/reports/reports.js');
    const provider = args[args.indexOf('--provider') + 1];
    const rep = dailyReport(db, { timezone: 'UTC', ...(args.includes('--provider') ? { provider: provider as 'claude' | 'codex' } : {}) }, process.env);
    process.stdout.write(JSON.stringify(rep) + '\n');
  } else {
    throw new Error(`unknown child step ${args[0]}`);
  }
  db.close();
}

interface DayTokens {
  inputTokens: number;
  outputTokens: number;
  cacheCreationTokens: number;
  cacheReadTokens: number;
}
const KINDS: Array<keyof DayTokens> = ['inputTokens', 'outputTokens', 'cacheCreationTokens', 'cacheReadTokens'];

/** Per-day differences between two daily reports over the four token kinds; empty when equal. */
function compareDays(a: Record<string, DayTokens>, b: Record<string, DayTokens>): string[] {
  const diffs: string[] = [];
  for (const day of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    for (const k of KINDS) {
      const x = a[day]?.[k] ?? 0;
      const y = b[day]?.[k] ?? 0;
      if (x !== y) diffs.push(`${day} ${k}: ${x} vs ${y} (${x > y ? '+' : ''}${x - y})`);
    }
  }
  return diffs;
}

function byDay(report: { daily: Array<{ date: string } & DayTokens> }): Record<string, DayTokens> {
  return Object.fromEntries(report.daily.map((d) => [d.date, { inputTokens: d.inputTokens, outputTokens: d.outputTokens, cacheCreationTokens: d.cacheCreationTokens, cacheReadTokens: d.cacheReadTokens }]));
}


const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const cpu = (m: Measure) => (Number.isNaN(m.cpuMs) ? '' : ` (cpu ${(m.cpuMs / 1000).toFixed(2)} s)`);
const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') return child(argv.slice(1));
  const flag = (name: string) => argv.includes(name);
  const opt = (name: string, dflt: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : dflt);
  const size = opt('--size', 'small') as SizePreset;
  if (!(size in PRESETS)) throw new Error(`--size must be one of ${Object.keys(PRESETS).join(', ')}`);
  const seed = Number(opt('--seed', '1'));
  const reportRuns = Number(opt('--report-runs', '5'));
  const skipCcusage = flag('--skip-ccusage');
  const claudeOnly = !flag('--no-claude-only');
  const profDir = join(OUT, 'prof');
  const nodeArgs = flag('--cpu-prof') ? ['--cpu-prof', '--cpu-prof-dir', profDir] : [];

  // Other work on the machine skews every number: record how busy it was.
  const loadAtStart = +loadavg()[0].toFixed(2);
  const { dir, manifest } = dataset(size, seed);
  const ours = ourCommand();
  const home = mkdtempSync(join(tmpdir(), 'su-bench-home-'));
  const homeClaudeOnly = mkdtempSync(join(tmpdir(), 'su-bench-home-'));
  const emptyCodex = mkdtempSync(join(tmpdir(), 'su-bench-nocodex-'));
  const baseEnv = { ...process.env, NO_COLOR: '1', TZ: 'UTC' };
  const env = { ...baseEnv, STACKUNDERFLOW_HOME: home, CLAUDE_CONFIG_DIR: join(dir, 'claude'), CODEX_HOME: join(dir, 'codex') };
  const run = (e: NodeJS.ProcessEnv, args: string[], profile = true) => {
    const [c, a] = ours.cmd(profile ? nodeArgs : [], args);
    return measure(c, a, e);
  };
  const reportArgs = ours.mode === 'cli' ? ['report', 'daily', '--json', '--timezone', 'UTC'] : ['report'];

  process.stderr.write(`running (${ours.mode}) ...\n`);
  // The floor under any Node CLI here, ccusage's and ours: an empty Node process (median of 5).
  const bare: Measure[] = [];
  for (let i = 0; i < 5; i++) bare.push(must('node -e 0', await measure(process.execPath, ['-e', '0'], baseEnv)));
  const nodeStart = bare.sort((x, y) => x.wallMs - y.wallMs)[2];
  const startup = ours.mode === 'cli' ? must('startup', await run(env, ['--version'], false)) : null;
  const cold = must('cold ingest', await run(env, ['ingest']));
  const warm = must('warm ingest', await run(env, ['ingest']));
  const reports: Measure[] = [];
  for (let i = 0; i < reportRuns; i++) reports.push(must('report', await run(env, reportArgs, i === 0)));
  const report = reports.slice().sort((a, b) => a.wallMs - b.wallMs)[Math.floor(reports.length / 2)];
  const claudeReport = must('report --provider claude', await run(env, [...reportArgs, '--provider', 'claude'], false));
  const codexReport = must('report --provider codex', await run(env, [...reportArgs, '--provider', 'codex'], false));
  // ccusage reads only Claude logs: a Claude-only cold ingest is the like-for-like comparison.
  const claudeEnv = { ...env, STACKUNDERFLOW_HOME: homeClaudeOnly, CODEX_HOME: emptyCodex };
  const coldClaude = claudeOnly ? must('cold ingest (claude only)', await run(claudeEnv, ['ingest'], false)) : null;
  const reportClaudeOnly = claudeOnly ? must('report (claude-only home)', await run(claudeEnv, reportArgs, false)) : null;

  // The first search after a cold ingest indexes what the bulk run left to it (once): its cost belongs to the ingest.
  const firstSearch = ours.mode === 'cli' ? must('first search', await run(env, ['search', 'buffer', '--json'], false)) : null;
  const secondSearch = ours.mode === 'cli' ? must('second search', await run(env, ['search', 'buffer', '--json'], false)) : null;
  // Store size with the search index built (after the first search).
  const Database = (await import('better-sqlite3')).default;
  const db = new Database(join(home, 'store.db'), { readonly: true });
  const events = db.prepare('SELECT count(*) FROM events').pluck().get() as number;
  const skippedLines = db.prepare('SELECT coalesce(sum(skipped), 0) FROM source_files').pluck().get() as number;
  db.close();
  const storeBytes = readdirSync(home).filter((f) => f.startsWith('store.db')).reduce((a, f) => a + statSync(join(home, f)).size, 0);


  let cc: Measure | null = null;
  let cc20: Measure | null = null;
  let cc20Skip: string | null = null;
  const cc20Runs: Measure[] = [];
  if (!skipCcusage) {
    process.stderr.write('running ccusage ...\n');
    const ccEnv = { ...baseEnv, CLAUDE_CONFIG_DIR: join(dir, 'claude') };
    cc = must('ccusage', await measure(process.execPath, [CCUSAGE, 'daily', '--offline', '--json', '-z', 'UTC'], ccEnv));
    const native = installCcusage20(join(OUT, `ccusage-${CCUSAGE20}`));
    if ('bin' in native) {
      const ccHome = mkdtempSync(join(tmpdir(), 'su-bench-cchome-'));
      // Median of as many runs as our report gets: one run of it varied 0.39-0.59 s at ~100 MB here.
      for (let i = 0; i < reportRuns; i++) cc20Runs.push(must('ccusage 20', await measure(native.bin, ['claude', 'daily', '--offline', '--json', '-z', 'UTC'], { ...ccEnv, HOME: ccHome, XDG_CONFIG_HOME: join(ccHome, '.config') })));
      cc20 = cc20Runs.slice().sort((a, b) => a.wallMs - b.wallMs)[Math.floor(cc20Runs.length / 2)];
      rmSync(ccHome, { recursive: true, force: true });
    } else cc20Skip = native.reason;
  }

  // Correctness beside speed: per-day Claude tokens vs ccusage and vs the generator's ground truth.
  const ourClaude = byDay(JSON.parse(claudeReport.stdout));
  const ourCodex = JSON.parse(codexReport.stdout) as { daily: Array<{ date: string } & DayTokens> };
  const expectClaude = manifest.expected.claude;
  const expectCodex = Object.fromEntries(Object.entries(manifest.expected.codex).map(([d, e]) => [d, { inputTokens: e.inputTokens, outputTokens: e.outputTokens, cacheCreationTokens: 0, cacheReadTokens: e.cacheReadTokens }]));
  const diffVsTruth = compareDays(ourClaude, expectClaude);
  const diffCodex = compareDays(byDay(ourCodex), expectCodex);
  const diffVsCcusage = cc ? compareDays(ourClaude, byDay(JSON.parse(cc.stdout))) : null;
  const ccVsTruth = cc ? compareDays(byDay(JSON.parse(cc.stdout)), expectClaude) : null;
  const cc20VsTruth = cc20 ? compareDays(byDay(JSON.parse(cc20.stdout)), expectClaude) : null;

  const inMB = manifest.bytes / 1e6;
  const claudeMB = manifest.claude.bytes / 1e6;
  const r = {
    date: new Date().toISOString().slice(0, 10),
    machine: {
      cpus: cpus().length, cpu: cpus()[0]?.model ?? '?', memGB: Math.round(totalmem() / 2 ** 30), node: process.version, loadavgAtStart: loadAtStart,
      // Node reads this CA bundle at every start (~40 ms on the 2-core VM where BENCHMARKS.md was measured): both tools pay it.
      nodeExtraCaCerts: Boolean(process.env.NODE_EXTRA_CA_CERTS),
      nodeStartMs: Math.round(nodeStart.wallMs),
    },
    mode: ours.mode,
    // The tree changes under active development: record what was measured.
    git: gitState(),
    size, seed,
    input: {
      files: manifest.files, MB: +inMB.toFixed(1), lines: manifest.lines, claudeMB: +claudeMB.toFixed(1), codexMB: +(manifest.codex.bytes / 1e6).toFixed(1), events,
      storeMB: +(storeBytes / 1e6).toFixed(1), storeOverSource: +(storeBytes / manifest.bytes).toFixed(2),
    },
    startup: startup ? { ms: Math.round(startup.wallMs), cpuMs: Math.round(startup.cpuMs) } : null,
    coldIngest: { ms: Math.round(cold.wallMs), cpuMs: Math.round(cold.cpuMs), MBps: +(inMB / (cold.wallMs / 1000)).toFixed(1), eventsPerSec: Math.round(events / (cold.wallMs / 1000)), peakRssMB: Math.round(cold.peakRssKb / 1024) },
    coldIngestClaudeOnly: coldClaude ? { ms: Math.round(coldClaude.wallMs), cpuMs: Math.round(coldClaude.cpuMs), MBps: +(claudeMB / (coldClaude.wallMs / 1000)).toFixed(1), peakRssMB: Math.round(coldClaude.peakRssKb / 1024) } : null,
    warmIngest: { ms: Math.round(warm.wallMs), cpuMs: Math.round(warm.cpuMs), peakRssMB: Math.round(warm.peakRssKb / 1024) },
    reportDaily: { ms: Math.round(report.wallMs), cpuMs: Math.round(report.cpuMs), runsMs: reports.map((m) => Math.round(m.wallMs)), peakRssMB: Math.round(report.peakRssKb / 1024) },
    reportDailyClaudeOnlyStore: reportClaudeOnly ? { ms: Math.round(reportClaudeOnly.wallMs), cpuMs: Math.round(reportClaudeOnly.cpuMs) } : null,
    firstSearch: firstSearch ? { ms: Math.round(firstSearch.wallMs), cpuMs: Math.round(firstSearch.cpuMs), secondMs: Math.round(secondSearch!.wallMs) } : null,
    ccusage: cc ? { ms: Math.round(cc.wallMs), cpuMs: Math.round(cc.cpuMs), peakRssMB: Math.round(cc.peakRssKb / 1024) } : null,
    ccusage20: cc20 ? { ms: Math.round(cc20.wallMs), cpuMs: Math.round(cc20.cpuMs), runsMs: cc20Runs.map((m) => Math.round(m.wallMs)), peakRssMB: Math.round(cc20.peakRssKb / 1024) } : cc20Skip,
    ratios20:
      cc20 && coldClaude && reportClaudeOnly
        ? {
            // Issue targets against the native ccusage: ≤ 2×, and the warm report ≥ 10× (~100 MB) / 30× (~1 GB).
            claudeOnlyColdIngestPlusReportOverCcusage20: +((coldClaude.wallMs + reportClaudeOnly.wallMs) / cc20.wallMs).toFixed(2),
            coldIngestPlusReportOverCcusage20: +((cold.wallMs + report.wallMs) / cc20.wallMs).toFixed(2),
            ccusage20OverReport: +(cc20.wallMs / report.wallMs).toFixed(1),
            ccusage20OverEmptyNode: +(cc20.wallMs / nodeStart.wallMs).toFixed(1),
          }
        : null,
    ratios: cc
      ? {
          ccusageOverReport: +(cc.wallMs / report.wallMs).toFixed(1),
          // The most any Node CLI could reach: a report that took no longer than an empty process.
          ccusageOverEmptyNode: +(cc.wallMs / nodeStart.wallMs).toFixed(1),
          coldIngestPlusReportOverCcusage: +((cold.wallMs + report.wallMs) / cc.wallMs).toFixed(2),
          cpu: {
            ccusageOverReport: +(cc.cpuMs / report.cpuMs).toFixed(1),
            coldIngestPlusReportOverCcusage: +((cold.cpuMs + report.cpuMs) / cc.cpuMs).toFixed(2),
          },
          claudeOnlyColdIngestPlusReportOverCcusage: coldClaude && reportClaudeOnly ? +((coldClaude.wallMs + reportClaudeOnly.wallMs) / cc.wallMs).toFixed(2) : null,
        }
      : null,
    parity: {
      claudeDays: Object.keys(expectClaude).length,
      oursVsCcusage: diffVsCcusage === null ? 'skipped' : diffVsCcusage.length === 0 ? 'equal' : diffVsCcusage.slice(0, 20),
      oursVsGenerator: diffVsTruth.length === 0 ? 'equal' : diffVsTruth.slice(0, 20),
      ccusageVsGenerator: ccVsTruth === null ? 'skipped' : ccVsTruth.length === 0 ? 'equal' : ccVsTruth.slice(0, 20),
      ccusage20VsGenerator: cc20VsTruth === null ? 'skipped' : cc20VsTruth.length === 0 ? 'equal' : cc20VsTruth.slice(0, 20),
      codexOursVsGenerator: diffCodex.length === 0 ? 'equal' : diffCodex.slice(0, 20),
      malformedLines: { written: manifest.malformedLines, skippedByIngest: skippedLines },
    },
  };
  mkdirSync(OUT, { recursive: true });
  const resultFile = join(OUT, `results-${size}-seed${seed}.json`);
  writeFileSync(resultFile, JSON.stringify(r, null, 2) + '\n');

  const p = (s: string) => process.stdout.write(s + '\n');
  p(`\nstackunderflow bench — ${size}, seed ${seed}, ${r.machine.cpus} cores, load ${loadAtStart}, ${r.machine.node}, ${ours.mode === 'cli' ? 'built CLI' : 'library via tsx (no CLI yet)'}`);
  p(`input: ${manifest.files} files, ${inMB.toFixed(1)} MB (${claudeMB.toFixed(1)} MB Claude), ${manifest.lines} lines → ${events} events, store ${r.input.storeMB} MB (${r.input.storeOverSource}× the logs; target ≤ 1.0×)`);
  p(`empty node process (node -e 0) ${sec(nodeStart.wallMs)}${cpu(nodeStart)}${process.env.NODE_EXTRA_CA_CERTS ? '  (NODE_EXTRA_CA_CERTS is set: every Node start reads it)' : ''}`);
  if (startup) p(`process start (--version)     ${sec(startup.wallMs)}${cpu(startup)}`);
  p(`cold ingest                   ${sec(cold.wallMs)}${cpu(cold)}  ${r.coldIngest.MBps} MB/s  ${r.coldIngest.eventsPerSec} events/s  peak RSS ${mb(cold.peakRssKb)}`);
  if (coldClaude) p(`cold ingest (Claude only)     ${sec(coldClaude.wallMs)}${cpu(coldClaude)}  ${r.coldIngestClaudeOnly!.MBps} MB/s  peak RSS ${mb(coldClaude.peakRssKb)}`);
  p(`warm re-ingest                ${sec(warm.wallMs)}${cpu(warm)}  peak RSS ${mb(warm.peakRssKb)}`);
  p(`report daily --json           ${sec(report.wallMs)}${cpu(report)}  (median of ${reports.length}: ${r.reportDaily.runsMs.join(', ')} ms)  peak RSS ${mb(report.peakRssKb)}`);
  if (firstSearch) p(`first search (indexes once)   ${sec(firstSearch.wallMs)}${cpu(firstSearch)}  then ${sec(secondSearch!.wallMs)}`);
  if (cc) {
    p(`ccusage daily --offline --json ${sec(cc.wallMs)}${cpu(cc)}  peak RSS ${mb(cc.peakRssKb)}`);
    const a = r.ratios!;
    p(`ratio ccusage / report                         ${a.ccusageOverReport}×   (target ≥ 50×: ${a.ccusageOverReport >= 50 ? 'met' : 'MISSED'}; an empty Node process would be ${a.ccusageOverEmptyNode}×)`);
    p(`ratio (cold ingest + report) / ccusage         ${a.coldIngestPlusReportOverCcusage}×  (target ≤ 1.5×: ${a.coldIngestPlusReportOverCcusage <= 1.5 ? 'met' : 'MISSED'})`);
    if (!Number.isNaN(cc.cpuMs)) p(`  by CPU time: ccusage / report ${a.cpu.ccusageOverReport}×, (cold ingest + report) / ccusage ${a.cpu.coldIngestPlusReportOverCcusage}×`);
    if (a.claudeOnlyColdIngestPlusReportOverCcusage !== null) p(`  same, Claude logs only (ccusage's input)     ${a.claudeOnlyColdIngestPlusReportOverCcusage}×`);
  }
  if (cc20) {
    const a = r.ratios20!;
    p(`ccusage ${CCUSAGE20} (native) claude daily ${sec(cc20.wallMs)}${cpu(cc20)}  (median of ${cc20Runs.length}: ${cc20Runs.map((m) => Math.round(m.wallMs)).join(', ')} ms)  peak RSS ${mb(cc20.peakRssKb)}`);
    p(`ratio (cold ingest + report) / ccusage 20, Claude logs only  ${a.claudeOnlyColdIngestPlusReportOverCcusage20}×  (target ≤ 2×: ${a.claudeOnlyColdIngestPlusReportOverCcusage20 <= 2 ? 'met' : 'MISSED'}); all agents' logs ${a.coldIngestPlusReportOverCcusage20}×`);
    p(`ratio ccusage 20 / report                      ${a.ccusage20OverReport}×  (an empty Node process would be ${a.ccusage20OverEmptyNode}×)`);
  } else if (cc20Skip) p(`ccusage ${CCUSAGE20} (native): skipped: ${cc20Skip}`);
  p(`peak RSS of the cold ingest ${mb(cold.peakRssKb)} (target ≤ 500 MB at ~1 GB); warm re-ingest ${sec(warm.wallMs)} for ${manifest.files} files (target ≤ 0.5 s at ~30k)`);
  p(`parity, per-day Claude tokens (${r.parity.claudeDays} days): ours vs ccusage: ${fmtParity(r.parity.oursVsCcusage)}; ours vs generator: ${fmtParity(r.parity.oursVsGenerator)}; ccusage vs generator: ${fmtParity(r.parity.ccusageVsGenerator)}; ccusage 20 vs generator: ${fmtParity(r.parity.ccusage20VsGenerator)}`);
  p(`parity, per-day Codex tokens vs generator: ${fmtParity(r.parity.codexOursVsGenerator)}; malformed lines written ${manifest.malformedLines}, skipped by ingest ${skippedLines}`);
  p(`results: ${resultFile}`);

  for (const d of [home, homeClaudeOnly, emptyCodex]) rmSync(d, { recursive: true, force: true });
}

function gitState(): string {
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim();
  const dirty = spawnSync('git', ['status', '--porcelain', '--', 'src', 'migrations'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim() !== '';
  return head ? `${head}${dirty ? '+uncommitted src' : ''}` : 'unknown';
}

function fmtParity(v: string | string[]): string {
  return typeof v === 'string' ? v : `${v.length}+ DIFFERENCES, e.g. ${v[0]}`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  });
}
