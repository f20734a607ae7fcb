/**
 * Dashboard benchmark: a year of generated activity on three devices merged by the real sync
 * (file:// bucket), served by the real server, rendered by a real browser (Debian's Chromium
 * driven by playwright-core). Measures, inside the page, the first render (navigation start →
 * every panel drawn) and scope and range switches (input event → every panel redrawn).
 *
 *   npx tsx bench/dashboard.ts [--mb 60] [--runs 7] [--days 365] [--store-only]
 *
 * The store is built once per (--mb, --days) under bench/out/ (gitignored) and reused. Results are
 * printed and written to bench/out/results-dashboard.json; append the summary to BENCHMARKS.md by hand
 * (or pass --append).
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from './gen.js';
import { runCli } from '../src/cli/run.js';
import { startServer } from '../src/api/server.js';
import { openDb } from '../src/store/db.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'bench', 'out');
const CHROMIUM = '/usr/bin/chromium';

/** The first render and a switch must stay under these on the 2-core CI machine. */
const TARGET_FIRST_MS = 1000;
const TARGET_SWITCH_MS = 200;

interface Args {
  mb: number;
  days: number;
  runs: number;
  storeOnly: boolean;
  append: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { mb: 60, days: 365, runs: 7, storeOnly: false, append: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--store-only') a.storeOnly = true;
    else if (k === '--append') a.append = true;
    else if (k === '--mb' || k === '--days' || k === '--runs') a[k.slice(2) as 'mb' | 'days' | 'runs'] = Number(argv[++i]);
    else throw new Error(`unknown argument ${k}`);
  }
  return a;
}

interface Machine {
  name: string;
  home: string;
  claude: string;
  codex: string;
  env: NodeJS.ProcessEnv;
}

async function cli(m: Machine, argv: string[]): Promise<string> {
  let out = '';
  let err = '';
  const code = await runCli(argv, { env: m.env, stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) }, isTTY: false });
  if (code !== 0) throw new Error(`${m.name}: stackunderflow ${argv.join(' ')} exited ${code}\n${err}${out}`);
  return out;
}

/**
 * Three devices, each with its own year of logs (different seeds), one project of the first
 * also mounted on the third (a dev container sharing the host's logs: real LWW conflicts).
 * Every device ingests and pushes; the first pulls the other two. Returns the first device's home.
 */
async function buildStore(args: Args): Promise<{ home: string; dir: string }> {
  const dir = join(OUT, `dashboard-${args.mb}mb-${args.days}d`);
  const done = join(dir, 'done');
  const home = join(dir, 'laptop', 'home');
  if (existsSync(done)) return { home, dir };
  // Each finished step leaves a marker, so an interrupted build (it takes minutes) resumes.
  const step = async (name: string, fn: () => Promise<void> | void) => {
    const marker = join(dir, 'steps', name);
    if (existsSync(marker)) return;
    const t0 = performance.now();
    await fn();
    process.stderr.write(`${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    mkdirSync(dirname(marker), { recursive: true });
    writeFileSync(marker, '');
  };
  const bucket = join(dir, 'bucket');
  mkdirSync(bucket, { recursive: true });
  const names = ['laptop', 'desktop', 'devbox'];
  const machines: Machine[] = names.map((name) => {
    const root = join(dir, name);
    const m: Machine = {
      name,
      home: join(root, 'home'),
      claude: join(root, 'logs', 'claude'),
      codex: join(root, 'logs', 'codex'),
      env: {},
    };
    m.env = { PATH: process.env.PATH, HOME: root, TZ: 'UTC', NO_COLOR: '1', STACKUNDERFLOW_HOME: m.home, CLAUDE_CONFIG_DIR: m.claude, CODEX_HOME: m.codex };
    return m;
  });
  for (const [i, m] of machines.entries()) {
    await step(`${m.name}-generate`, () => {
      rmSync(join(dir, m.name, 'logs'), { recursive: true, force: true });
      generate({ seed: 101 + i, outDir: join(dir, m.name, 'logs'), targetBytes: args.mb * 1e6, days: args.days, projects: 8 + 4 * i, endDate: '2026-11-20' });
    });
  }
  // The dev container sees one of the laptop's projects too.
  await step('share-project', () => {
    const laptopProjects = join(machines[0].claude, 'projects');
    const shared = readdirSync(laptopProjects).sort()[0];
    cpSync(join(laptopProjects, shared), join(machines[2].claude, 'projects', shared), { recursive: true });
  });
  const keyFile = join(dir, 'steps', 'key');
  for (const [i, m] of machines.entries()) {
    await step(`${m.name}-ingest`, async () => void (await cli(m, ['ingest'])));
    await step(`${m.name}-init`, async () => {
      if (i > 0) m.env.STACKUNDERFLOW_SYNC_KEY = readFileSync(keyFile, 'utf8').trim();
      await cli(m, ['sync', 'init', '--bucket', `file://${bucket}`, '--device-name', m.name]);
      if (i === 0) writeFileSync(keyFile, (await cli(m, ['sync', 'key', 'export'])).trim() + '\n', { mode: 0o600 });
    });
    await step(`${m.name}-push`, async () => void (await cli(m, ['sync', 'push'])));
  }
  await step('laptop-pull', async () => void (await cli(machines[0], ['sync', 'pull'])));
  // Only the laptop's store is measured: drop the generated logs and the key, keep the stores.
  for (const m of machines) rmSync(join(dir, m.name, 'logs'), { recursive: true, force: true });
  rmSync(keyFile, { force: true });
  writeFileSync(done, new Date().toISOString() + '\n');
  return { home, dir };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const round = (x: number) => Math.round(x);

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const { home } = await buildStore(args);
  const storeFile = join(home, 'store.db');
  const db = openDb(storeFile);
  const stats = {
    events: db.prepare('SELECT COUNT(*) FROM events').pluck().get() as number,
    usage: db.prepare('SELECT COUNT(*) FROM usage').pluck().get() as number,
    sessions: db.prepare('SELECT COUNT(*) FROM sessions').pluck().get() as number,
    devices: db.prepare('SELECT COUNT(DISTINCT device_id) FROM sessions').pluck().get() as number,
    storeMB: Math.round(statSync(storeFile).size / 1e5) / 10,
  };
  process.stderr.write(`store: ${JSON.stringify(stats)}\n`);
  if (args.storeOnly) {
    db.close();
    return;
  }
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: apt-get install -y --no-install-recommends chromium fonts-dejavu-core`);
  // The page must be the built one, as `npm run build` leaves it.
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-web.mjs')], { stdio: 'inherit' });

  const loadavgAtStart = Math.round(loadavg()[0] * 100) / 100;
  const env = { ...process.env, TZ: 'UTC', STACKUNDERFLOW_HOME: home };
  const server = await startServer({ db, port: 0, env });
  const serverStarted = performance.now();
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(String(e)));

    type Measure = { render: number; fetch: number; draw: number; start: number };
    // Every full render of the page, with its two halves (waiting for numbers, drawing them).
    const renders = async (): Promise<Measure[]> =>
      // No named functions inside: tsx would wrap them in a helper the page does not have.
      page.evaluate(() => {
        const f = performance.getEntriesByName('su:fetch');
        const d = performance.getEntriesByName('su:draw');
        return performance.getEntriesByName('su:render').map((e, i) => ({ render: e.duration, start: e.startTime, fetch: f[i]?.duration ?? NaN, draw: d[i]?.duration ?? NaN }));
      });
    const waitRender = async (n: number) => page.waitForFunction((k) => performance.getEntriesByName('su:render').length >= k, n, { timeout: 120_000 });

    // First render: a fresh navigation each run, all-devices scope, whole year. The first run
    // comes as soon as the browser is up (the server warms up in the background from its start).
    const first: number[] = [];
    const openedAfterMs = performance.now() - serverStarted;
    for (let i = 0; i < args.runs; i++) {
      await page.goto(`${server.url}/?scope=all`, { waitUntil: 'load' });
      await waitRender(1);
      const r = (await renders())[0];
      // From navigation start (time origin) to the end of the first full render.
      first.push(r.start + r.render);
    }

    // Switches on the loaded page: each is one input event, measured from the event to redrawn.
    const devices = await page.evaluate(() => [...document.querySelectorAll<HTMLOptionElement>('#scope option')].map((o) => o.value));
    const scopes = ['local', ...devices.filter((d) => d.startsWith('device:')), 'all'];
    const ranges: Array<[string, string]> = [['2026-10-01', '2026-10-31'], ['2026-01-01', '2026-06-30'], ['', '']];
    const scopeSwitch: Measure[] = [];
    const rangeSwitch: Measure[] = [];
    const afterChange: Measure[] = [];
    const selectScope = async (s: string) => {
      const before = (await renders()).length;
      await page.selectOption('#scope', s);
      await waitRender(before + 1);
      return (await renders())[before];
    };
    for (let i = 0; i < args.runs; i++) {
      for (const s of scopes) scopeSwitch.push(await selectScope(s));
      for (const [since, until] of ranges) {
        const before = (await renders()).length;
        await page.evaluate(([a, b]) => {
          const s = document.querySelector<HTMLInputElement>('#since')!;
          const u = document.querySelector<HTMLInputElement>('#until')!;
          s.value = a;
          u.value = b;
          u.dispatchEvent(new Event('change', { bubbles: true }));
        }, [since, until]);
        await waitRender(before + 1);
        rangeSwitch.push((await renders())[before]);
      }
    }
    // A switch right after the store changed (an ingest or a pull by another process): the
    // server rebuilds its rollup during that request. Any commit from a second connection is
    // such a change (SQLite skips a write that changes nothing, so this one changes a value).
    const writer = openDb(storeFile);
    try {
      for (let i = 0; i < Math.min(3, args.runs); i++) {
        writer.prepare("INSERT INTO meta(key, value) VALUES ('bench_touch', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(String(i));
        afterChange.push(await selectScope(i % 2 ? 'all' : 'local'));
      }
      writer.prepare("DELETE FROM meta WHERE key = 'bench_touch'").run();
    } finally {
      writer.close();
    }
    if (errors.length) throw new Error(`console errors during the benchmark:\n${errors.join('\n')}`);

    const stat = (xs: number[]) => ({ median: round(median(xs)), max: round(Math.max(...xs)), runs: xs.map(round) });
    const split = (ms: Measure[]) => ({ ...stat(ms.map((m) => m.render)), fetchMedian: round(median(ms.map((m) => m.fetch))), drawMedian: round(median(ms.map((m) => m.draw))) });
    const result = {
      date: new Date().toISOString().slice(0, 10),
      machine: {
        cpus: cpus().length,
        cpu: cpus()[0]?.model.split(' ').slice(0, 2).join(' '),
        memGB: Math.round(totalmem() / 2 ** 30),
        node: process.version,
        loadavgAtStart,
        loadavgAtEnd: Math.round(loadavg()[0] * 100) / 100,
      },
      input: { mbPerDevice: args.mb, days: args.days, ...stats },
      firstRenderFirstLoadMs: round(first[0]),
      firstLoadAfterServerStartMs: round(openedAfterMs),
      firstRenderWarmMs: stat(first.slice(1)),
      scopeSwitchMs: split(scopeSwitch),
      rangeSwitchMs: split(rangeSwitch),
      switchAfterChangeMs: split(afterChange),
      targets: { firstRenderMs: TARGET_FIRST_MS, switchMs: TARGET_SWITCH_MS },
    };
    mkdirSync(OUT, { recursive: true });
    writeFileSync(join(OUT, 'results-dashboard.json'), JSON.stringify(result, null, 2) + '\n');
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    const verdict = (ms: number, target: number) => (ms <= target ? `under ${target} ms` : `**over** ${target} ms`);
    const row = (name: string, m: ReturnType<typeof split>) =>
      `| ${name} | ${m.median} ms (${m.fetchMedian} + ${m.drawMedian}) | ${m.max} ms | ${verdict(m.median, TARGET_SWITCH_MS)} |`;
    const summary = [
      '',
      `## Dashboard (bench/dashboard.ts, ${result.date})`,
      '',
      `\`npx tsx bench/dashboard.ts --mb ${args.mb} --runs ${args.runs}\`: ${stats.devices} devices merged by the real sync (file:// bucket), ${args.days} days of generated activity ` +
        `(${args.mb} MB of logs per device, one project shared by two devices): ${stats.events.toLocaleString('en-US')} events, ${stats.usage.toLocaleString('en-US')} billed requests, ` +
        `${stats.sessions.toLocaleString('en-US')} device-sessions, store ${stats.storeMB} MB. Chromium ${browser.version()} (headless, 1280×900) against the real server on 127.0.0.1; ` +
        `${result.machine.cpus} cores (${result.machine.cpu}), load average ${result.machine.loadavgAtStart} at start and ${result.machine.loadavgAtEnd} at the end (other work was running). ` +
        `Times are measured in the page with the Performance API, from navigation start (first render) or from the input event (switches) to the frame after every panel was redrawn; ` +
        `switches show median (waiting for the numbers + drawing them).`,
      '',
      '| step | median | max | target |',
      '|---|---:|---:|---|',
      `| first render, scope all, whole year: first load, ${(result.firstLoadAfterServerStartMs / 1000).toFixed(1)} s after the server started | ${result.firstRenderFirstLoadMs} ms | — | ${verdict(result.firstRenderFirstLoadMs, TARGET_FIRST_MS)} |`,
      `| first render, scope all, whole year: ${args.runs - 1} more loads | ${result.firstRenderWarmMs.median} ms | ${result.firstRenderWarmMs.max} ms | ${verdict(result.firstRenderWarmMs.median, TARGET_FIRST_MS)} |`,
      row(`scope switch (${scopes.map((x) => x.replace(/^device:(.{8}).*/, 'device:$1…')).join(' → ')})`, result.scopeSwitchMs),
      row('range switch (a month → half a year → everything)', result.rangeSwitchMs),
      row('scope switch right after another process wrote to the store (the request rebuilds the rollup)', result.switchAfterChangeMs),
      '',
    ].join('\n');
    process.stdout.write(summary + '\n');
    if (args.append) appendFileSync(join(ROOT, 'BENCHMARKS.md'), summary);
  } finally {
    await browser.close();
    await server.close();
    db.close();
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
