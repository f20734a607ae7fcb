import { beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../src/cli/run.js';
import { LocalEventWriter } from '../../src/store/events.js';
import { Hlc, fixedClock } from '../../src/model/clock.js';
import { Device, fileBucket, setupSync } from '../helpers/devices.js';
import { copyFixture, FIXTURES_DIR, tempDir } from '../helpers/fixtures.js';
import { usageEvent } from '../reports/helpers.js';
import { generate, genEnv } from '../../bench/gen.js';
import { THREAD_BYTES } from '../../src/ingest/reader.js';

/**
 * The bundled bin (scripts/build-cli.mjs → dist/bin/) is what `npx stackunderflow` runs,
 * while every other test runs the sources. It must find what it finds relative to the
 * package (migrations, samples, the dashboard, the decoder worker) and behave the same.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// Where package.json's bin points: what npm links and `npx stackunderflow` runs.
const BIN = join(ROOT, (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin.stackunderflow);
const HOOK = join(ROOT, 'test', 'helpers', 'module-log.mjs');
const exec = promisify(execFile);

function env(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home,
    TZ: 'UTC',
    NO_COLOR: '1',
    STACKUNDERFLOW_HOME: join(home, 'su'),
    CLAUDE_CONFIG_DIR: join(FIXTURES_DIR, 'claude'),
    CODEX_HOME: join(FIXTURES_DIR, 'codex'),
    ...extra,
  };
}

const bin = (argv: string[], e: NodeJS.ProcessEnv, nodeArgs: string[] = []) => exec(process.execPath, [...nodeArgs, BIN, ...argv], { env: e, timeout: 120_000, maxBuffer: 64 << 20 });

/** The same command in this process, from the sources. */
async function inProcess(argv: string[], e: NodeJS.ProcessEnv): Promise<string> {
  let stdout = '';
  const code = await runCli(argv, { env: e, stdout: { write: (s: string) => (stdout += s) }, stderr: { write: () => true }, isTTY: false });
  expect(code).toBe(0);
  return stdout;
}

describe('the bundled bin', () => {
  beforeAll(async () => {
    // Built from the sources under test, not whatever an earlier `npm run build` left.
    await exec(process.execPath, [join(ROOT, 'scripts', 'build-cli.mjs')], { cwd: ROOT, timeout: 120_000 });
  }, 180_000);

  it('is a launcher beside one CommonJS bundle, and prints the package version', async () => {
    expect(BIN).toBe(join(ROOT, 'dist', 'bin', 'stackunderflow.js'));
    expect(readFileSync(BIN, 'utf8').startsWith('#!/usr/bin/env node')).toBe(true);
    expect(readdirSync(join(ROOT, 'dist', 'bin')).filter((f) => !f.endsWith('.map')).sort()).toEqual(['cli.cjs', 'cli.cjs.cache', 'decoder-worker.cjs', 'package.json', 'read-worker.cjs', 'stackunderflow.js', 'statusline.cjs', 'statusline.cjs.cache']);
    const { stdout } = await bin(['--version'], env(tempDir()));
    expect(stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
  });

  it('starts from code caches that this Node accepts', async () => {
    // Compiled in a fresh process, as the bin compiles it: V8 checks its own version and flags.
    for (const bundle of ['cli.cjs', 'statusline.cjs']) {
      const probe = `const { compileCli } = require(${JSON.stringify(BIN)}); const { cached, rejected } = compileCli(${JSON.stringify(bundle)}); console.log(JSON.stringify({ cached, rejected }));`;
      const { stdout } = await exec(process.execPath, ['-e', probe], { env: env(tempDir()) });
      expect(JSON.parse(stdout), bundle).toEqual({ cached: true, rejected: false });
    }
  });

  it("runs Claude Code's status-line hook from its own bundle and cache: the same line, without commander or child_process", () => {
    // Only exactly `statusline`: its help, and anything else, is cli.cjs's.
    const argvs = [['statusline'], ['statusline', '--help'], ['statusline', '--'], ['report', 'daily'], []];
    const probe = `const { bundleFor } = require(${JSON.stringify(BIN)}); console.log(JSON.stringify(${JSON.stringify(argvs)}.map(bundleFor)));`;
    const picked = spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8' }).stdout;
    expect(JSON.parse(picked)).toEqual(['statusline.cjs', 'cli.cjs', 'cli.cjs', 'cli.cjs', 'cli.cjs']);
    // What it holds (esbuild names each bundled module by its path): the hook's own code, no other
    // command's. (src/reports/reports.ts is in it, unrun: io.ts imports it lazily for the reports;
    // so is every adapter: ingest's reader looks parsers up in the registry.)
    const bundled = new Set(readFileSync(join(ROOT, 'dist', 'bin', 'statusline.cjs'), 'utf8').match(/"(src|node_modules)\/[^"]+\.(ts|js)"/g));
    expect([...bundled]).toEqual(expect.arrayContaining(['"src/store/db.ts"', '"src/reports/statusline.ts"', '"src/ingest/transcript.ts"', '"src/adapters/claude/parser.ts"']));
    expect([...bundled].filter((m) => /commander|src\/(sync|api|search)\/|src\/reports\/(dashboard|rollup|sessions|devices)\.ts|src\/cli\/(run|commands)/.test(m))).toEqual([]);

    // The same payload, store and transcript twice: once through the hook's bundle, once through cli.cjs.
    const run = (argv: string[], extra: NodeJS.ProcessEnv = {}) => {
      const claude = copyFixture('claude');
      const transcript = join(claude, 'projects', '-Users-test-dev-ai-music', 'ba79134d-b6e9-4867-af0c-6941038c9e4b.jsonl');
      const payload = readFileSync(join(FIXTURES_DIR, 'statusline', 'hook.json'), 'utf8').replace('TRANSCRIPT', transcript);
      const preload = join(tempDir(), 'builtins.cjs');
      const log = join(tempDir(), 'builtins.txt');
      writeFileSync(preload, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(log)}, process.moduleLoadList.join('\\n')));`);
      const r = spawnSync(process.execPath, ['--require', preload, BIN, ...argv], { env: env(tempDir(), { CLAUDE_CONFIG_DIR: claude, ...extra }), input: payload, encoding: 'utf8', timeout: 60_000 });
      return { code: r.status, out: r.stdout, builtins: readFileSync(log, 'utf8').split('\n') };
    };
    const own = run(['statusline']);
    const full = run(['statusline', '--']);
    expect(own.code).toBe(0);
    expect(own.out).toMatch(/^🤖 Sonnet 4 \| 💰 \$\d+\.\d\d session \/ \$\d+\.\d\d today \/ (no active block|.* left\))/);
    expect(own.out).not.toMatch(/unavailable/);
    expect(own.out).toBe(full.out);
    expect(own.builtins).not.toContain('NativeModule child_process');

    // Whatever breaks, the prompt gets a line and the exit code is 0: here a store that is not SQLite.
    const home = tempDir();
    writeFileSync(join(home, 'store.db'), 'this is not a SQLite database, just bytes '.repeat(200));
    expect(run(['statusline'], { STACKUNDERFLOW_HOME: home })).toMatchObject({ code: 0, out: '🤖 Sonnet 4 | 💰 usage unavailable (stackunderflow)\n' });
  });

  it("writes a report to a pipe or a file straight to the descriptor: no stream, net or child_process module; a reader gone early is exit 0", async () => {
    const e = env(tempDir());
    await bin(['ingest'], e);
    const preload = join(tempDir(), 'builtins.cjs');
    const log = join(tempDir(), 'builtins.txt');
    writeFileSync(preload, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(log)}, process.moduleLoadList.join('\\n')));`);
    const expected = await inProcess(['report', 'daily', '--json'], e);
    const toPipe = await bin(['report', 'daily', '--json'], e, ['--require', preload]);
    expect(toPipe.stdout).toBe(expected);
    expect(readFileSync(log, 'utf8').split('\n').filter((m) => /^NativeModule (child_process|net|stream|tty)$/.test(m))).toEqual([]);
    const file = join(tempDir(), 'report.json');
    const toFile = spawnSync('sh', ['-c', `"$0" "$@" > ${JSON.stringify(file)}`, process.execPath, BIN, 'report', 'daily', '--json'], { env: e, encoding: 'utf8' });
    expect([toFile.status, toFile.stderr, readFileSync(file, 'utf8')]).toEqual([0, '', expected]);
    // The reader closes its end before the report is written: EPIPE, which is not an error.
    const gone = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [BIN, 'report', 'daily', '--json'], { env: e, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.destroy();
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stderr }));
    });
    expect(gone).toEqual({ code: 0, stderr: '' });
  });

  it('runs the same without its code cache or with a damaged one', async () => {
    // A copy of the installed package: what a Node of another version, or a damaged file, meets.
    const pkg = tempDir();
    mkdirSync(join(pkg, 'dist'));
    cpSync(join(ROOT, 'dist', 'bin'), join(pkg, 'dist', 'bin'), { recursive: true });
    for (const f of ['package.json', 'migrations', 'node_modules']) symlinkSync(join(ROOT, f), join(pkg, f));
    const copy = join(pkg, 'dist', 'bin', 'stackunderflow.js');
    const cache = join(pkg, 'dist', 'bin', 'cli.cjs.cache');
    const e = env(tempDir());
    await bin(['ingest'], e);
    const expected = (await bin(['report', 'daily', '--json', '--timezone', 'UTC'], e)).stdout;
    const report = () => exec(process.execPath, [copy, 'report', 'daily', '--json', '--timezone', 'UTC'], { env: e });
    writeFileSync(cache, randomBytes(4096));
    expect((await report()).stdout).toBe(expected);
    rmSync(cache);
    expect((await report()).stdout).toBe(expected);
  });

  it('ingests and reports exactly as the sources do, and a report loads no sync dependency', async () => {
    const e = env(tempDir());
    await bin(['ingest'], e);
    const log = join(tempDir(), 'modules.txt');
    const { stdout } = await bin(['report', 'daily', '--json', '--timezone', 'UTC'], { ...e, SU_MODULE_LOG: log }, ['--import', HOOK]);
    expect(JSON.parse(stdout).daily.length).toBeGreaterThan(5);
    expect(stdout).toBe(await inProcess(['report', 'daily', '--json', '--timezone', 'UTC'], e));
    const loaded = readFileSync(log, 'utf8');
    expect(loaded).toMatch(/node_modules\/better-sqlite3\//);
    for (const pkg of ['@aws-sdk', 'age-encryption', 'chokidar', 'hono', 'proper-lockfile']) expect(loaded).not.toContain(`node_modules/${pkg}/`);
  });

  it('reads a big first ingest on its reader threads (dist/bin/read-worker.cjs) and stores what the sources store', async () => {
    const logs = tempDir('su-gen-');
    // Over THREAD_BYTES (src/ingest/reader.ts), with every agent's logs: the readers find each parser by provider.
    const made = generate({ seed: 11, outDir: logs, targetBytes: THREAD_BYTES + 1_000_000, days: 6, projects: 3, otherShare: 0.2 });
    expect(made.bytes).toBeGreaterThan(THREAD_BYTES);
    const e = { ...env(tempDir()), ...genEnv(logs) };
    const viaBin = JSON.parse((await bin(['ingest', '--json'], e)).stdout);
    const e2 = { ...e, STACKUNDERFLOW_HOME: join(tempDir(), 'su') };
    const inSource = JSON.parse(await inProcess(['ingest', '--json'], e2));
    for (const r of [viaBin, inSource]) delete r.store;
    expect(viaBin.events.inserted).toBeGreaterThan(5000);
    expect(viaBin).toEqual(inSource);
    const daily = ['report', 'daily', '--json', '--timezone', 'UTC', '--scope', 'local'];
    expect((await bin(daily, e)).stdout).toBe(await inProcess(daily, e2));
  });

  it('runs the demo: bundled samples and migrations found from dist/bin', async () => {
    const home = tempDir();
    const { stdout } = await bin(['demo'], { ...env(home), TMPDIR: home });
    expect(stdout).toMatch(/That was the demo/);
    expect(stdout).toMatch(/Total/);
  });

  it('serves the dashboard page and the API', async () => {
    const e = env(tempDir());
    await bin(['ingest'], e);
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0'], { env: e });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d) => {
          out += d;
          const m = /http:\/\/127\.0\.0\.1:\d+/.exec(out);
          if (m) resolve(m[0]);
        });
        child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
      });
      const page = await fetch(url + '/');
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<html/i);
      const health = await fetch(url + '/api/health');
      expect(health.status).toBe(200);
    } finally {
      child.kill();
    }
  });

  it('runs the sync loop, watching the log folders with chokidar (an ES module loaded by import())', async () => {
    const a = new Device('bin-loop');
    await setupSync(['--bucket', fileBucket().url], a);
    const child = spawn(process.execPath, [BIN, 'sync', 'daemon'], { env: a.env });
    try {
      const started = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d) => {
          out += d;
          const line = /.*sync loop started.*/.exec(out);
          if (line) resolve(out);
        });
        child.on('exit', (code) => reject(new Error(`sync daemon exited ${code}: ${out}`)));
      });
      expect(started).toContain(`watching ${a.claudeDir}`);
      expect(started).not.toMatch(/cannot watch/);
    } finally {
      child.kill();
    }
  });

  it('pulls a large backlog through its decoder worker', async () => {
    const a = new Device('bin-a');
    const b = new Device('bin-b');
    const bucket = fileBucket();
    await setupSync(['--bucket', bucket.url], a, b);
    // Over WORKER_LANDING (src/sync/pull.ts): the pull decrypts and decodes on dist/bin/decoder-worker.cjs.
    const events = Array.from({ length: 20_500 }, (_, i) => usageEvent({ ts: new Date(Date.parse('2026-03-01T00:00:00Z') + i * 60_000).toISOString(), record: `big-${i}`, input: i % 1000 }));
    a.withDb((db) => {
      const w = new LocalEventWriter(db, a.id, new Hlc(fixedClock(1_800_000_000_000, 1)));
      db.transaction(() => w.write(events))();
      w.flush();
    });
    await a.ok(['sync', 'push']);
    const { stdout } = await bin(['sync', 'pull', '--json'], b.env);
    expect(JSON.parse(stdout).landedEvents).toBe(20_500);
    const count = (d: Device) => d.withDb((db) => db.prepare('SELECT COUNT(*) FROM events WHERE device_id = ?').pluck().get(a.id));
    expect(count(b)).toBe(20_500);
    expect(count(a)).toBe(20_500);
  }, 120_000);
});
