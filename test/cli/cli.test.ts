import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { runCli } from '../../src/cli/run.js';
import { fixedClock } from '../../src/model/clock.js';
import { asBefore044 } from '../helpers/old-store.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FIXTURES = join(ROOT, 'test', 'fixtures');

function capture() {
  let out = '';
  let err = '';
  return {
    stdout: { write: (s: string) => ((out += s), true) },
    stderr: { write: (s: string) => ((err += s), true) },
    get out() {
      return out;
    },
    get err() {
      return err;
    },
  };
}

/** An environment whose every location is a fresh temp dir (logs: the test fixtures). */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const home = mkdtempSync(join(tmpdir(), 'su-cli-'));
  return {
    STACKUNDERFLOW_HOME: join(home, 'su'),
    CLAUDE_CONFIG_DIR: join(FIXTURES, 'claude'),
    CODEX_HOME: join(FIXTURES, 'codex'),
    HOME: home,
    TZ: 'UTC',
    ...extra,
  };
}

async function run(argv: string[], e: NodeJS.ProcessEnv) {
  const c = capture();
  const code = await runCli(argv, { env: e, stdout: c.stdout, stderr: c.stderr, clock: fixedClock(1_800_000_000_000, 1), isTTY: false });
  return { code, out: c.out, err: c.err };
}

describe('runCli in-process', () => {
  it('ingest prints a summary; a second ingest finds nothing new', async () => {
    const e = env();
    const first = await run(['ingest'], e);
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/Files: [\d,]+ found, [\d,]+ read/);
    expect(first.out).toMatch(/Events: [\d,]+ new/);
    expect(first.out).toMatch(/Malformed lines skipped: \d+\n {2}\S+edge_cases\.jsonl: \d+/);
    expect(first.out).not.toMatch(/\x1b\[/); // no colors, no progress bar off a terminal
    expect(first.err).toBe('');
    const second = await run(['ingest', '--json'], e);
    expect(second.code).toBe(0);
    const j = JSON.parse(second.out);
    expect(j.events.inserted).toBe(0);
    expect(j.filesRead).toBe(0);
    expect(j.filesUnchanged).toBe(j.filesSeen);
  });

  it('draws a progress bar on a terminal only', async () => {
    const e = env({ CLAUDE_CONFIG_DIR: join(FIXTURES, 'claude', 'projects', 'none') });
    let err = '';
    let out = '';
    const code = await runCli(['ingest'], {
      env: e,
      stdout: { write: (s: string) => ((out += s), true) },
      // cli-progress draws only when the stream itself says it is a terminal.
      stderr: Object.assign({ write: (s: string) => ((err += s), true) }, { isTTY: true, columns: 120 }),
      isTTY: false,
      stderrIsTTY: true,
    });
    expect(code).toBe(0);
    expect(err).toMatch(/Ingesting \[/);
    expect(out).toMatch(/Events: /);
  });

  it('report daily: a table with totals, and ccusage-shaped JSON', async () => {
    const e = env();
    await run(['ingest'], e);
    const table = await run(['report', 'daily', '--since', '2026-02-01', '--until', '2026-02-28'], e);
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/^Date\s+Models\s+Input\s+Output\s+Cache Create\s+Cache Read\s+Total Tokens\s+Cost \(USD\)$/m);
    expect(table.out).toMatch(/^2026-02-23 /m);
    expect(table.out).not.toMatch(/^2026-01-/m);
    expect(table.out).toMatch(/^Total\s+[\d,]+\s+[\d,]+/m);
    expect(table.out).toMatch(/\d,\d{3}/); // thousands separators

    const json = await run(['report', 'daily', '--json', '-z', 'UTC', '--provider', 'codex'], e);
    expect(json.code).toBe(0);
    const j = JSON.parse(json.out);
    expect(Object.keys(j)).toEqual(['daily', 'totals', 'meta']);
    expect(Object.keys(j.daily[0]).slice(0, 9)).toEqual(['date', 'inputTokens', 'outputTokens', 'cacheCreationTokens', 'cacheReadTokens', 'totalTokens', 'totalCost', 'modelsUsed', 'modelBreakdowns']);
    expect(j.meta).toMatchObject({ timezone: 'UTC', provider: 'codex', scope: 'local' });

    // `report` alone is `report daily`; options before the kind work too.
    const bare = await run(['report', '--json'], e);
    expect(JSON.parse(bare.out).daily.length).toBeGreaterThan(0);
    const before = await run(['report', '--json', 'monthly'], e);
    expect(JSON.parse(before.out).monthly.length).toBeGreaterThan(0);
  });

  it('every report kind and the sessions list run', async () => {
    const e = env();
    await run(['ingest'], e);
    for (const [kind, key] of [['monthly', 'monthly'], ['session', 'sessions'], ['project', 'projects'], ['model', 'models']]) {
      const r = await run(['report', kind, '--json'], e);
      expect(r.code, kind).toBe(0);
      expect(Array.isArray(JSON.parse(r.out)[key]), kind).toBe(true);
      const t = await run(['report', kind, '--by-device'], e);
      expect(t.code, kind).toBe(0);
      expect(t.out).toMatch(/^Total/m);
    }
    const s = await run(['sessions', '--limit', '5', '--project', 'spotter'], e);
    expect(s.code).toBe(0);
    expect(s.out).toMatch(/^Session\s+Provider\s+Project/m);
    expect(s.out).toMatch(/spotter/);
    const sj = JSON.parse((await run(['sessions', '--json', '--provider', 'codex'], e)).out);
    expect(sj.sessions.every((x: { provider: string }) => x.provider === 'codex')).toBe(true);
  });

  it('an empty store says so and names ingest, without creating the store', async () => {
    const e = env();
    const r = await run(['report', 'daily'], e);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/no events yet/);
    expect(r.out).toMatch(/stackunderflow ingest/);
    expect(existsSync(join(e.STACKUNDERFLOW_HOME!, 'store.db'))).toBe(false);
    const j = await run(['report', 'daily', '--json'], e);
    expect(JSON.parse(j.out).daily).toEqual([]);
    expect(j.err).toMatch(/stackunderflow ingest/);
    const s = await run(['sessions'], e);
    expect(s.out).toMatch(/stackunderflow ingest/);
  });

  it('a store written by an older version is upgraded once, and the command says so on stderr first', async () => {
    const e = env();
    expect((await run(['ingest'], e)).code).toBe(0);
    const want = JSON.parse((await run(['report', 'daily', '--json'], e)).out);
    const { openDb } = await import('../../src/store/db.js');
    const db = openDb(join(e.STACKUNDERFLOW_HOME!, 'store.db'));
    asBefore044(db);
    db.close();

    const r = await run(['report', 'daily', '--json'], e);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/^Upgrading the store at .*store\.db to this version \(1 step, once\)…\n/);
    expect(JSON.parse(r.out)).toEqual(want);
    const again = await run(['report', 'daily', '--json'], e);
    expect(again.err).toBe('');
    expect(JSON.parse(again.out)).toEqual(want);
    // A new store is made, not upgraded: no notice.
    expect((await run(['ingest'], env())).err).toBe('');
  });

  it('a store a newer version has upgraded is refused with what to do, and left as it is', async () => {
    const e = env();
    expect((await run(['ingest'], e)).code).toBe(0);
    const { openDb } = await import('../../src/store/db.js');
    const db = openDb(join(e.STACKUNDERFLOW_HOME!, 'store.db'));
    db.prepare(`INSERT INTO schema_migrations(version, name, applied_at) VALUES (999, '999_future.sql', '2030-01-01T00:00:00Z')`).run();
    const events = db.prepare('SELECT COUNT(*) FROM events').pluck().get();
    db.close();
    for (const argv of [['report', 'daily', '--json'], ['ingest']]) {
      const r = await run(argv, e);
      expect(r.code, argv.join(' ')).toBe(1); // STORE: src/errors.ts
      expect(r.err).toMatch(/upgraded by a newer stackunderflow \(schema 999; this version knows up to \d+\)/);
      expect(r.err).toMatch(/install the newer stackunderflow again/);
      expect(r.out).toBe('');
    }
    const raw = new Database(join(e.STACKUNDERFLOW_HOME!, 'store.db'), { readonly: true });
    expect(raw.prepare('SELECT COUNT(*) FROM events').pluck().get()).toBe(events);
    raw.close();
  });

  it('usage errors: error + hint on stderr, exit 64, no stack trace', async () => {
    const e = env();
    const cases: string[][] = [
      ['report', 'daily', '--since', 'yesterday'],
      ['report', 'daily', '--timezone', 'Mars/Base'],
      ['report', 'yearly'], ['report', 'weekly', '--last', '0'], ['report', 'blocks', '--token-limit', 'lots'],
      ['report', 'daily', '--provider', 'amp'],
      ['report', 'daily', '--scope', 'device:'],
      ['sessions', '--limit', 'many'],
      ['--no-such-flag'],
      ['frobnicate'],
    ];
    for (const argv of cases) {
      const r = await run(argv, e);
      expect(r.code, argv.join(' ')).toBe(64);
      expect(r.err, argv.join(' ')).toMatch(/^error: .+\nhint: .+\n$/);
      expect(r.err).not.toMatch(/\bat .+:\d+:\d+/);
      expect(r.out).toBe('');
    }
  });

  it('an unknown device is NOT_FOUND (exit 1) with the known devices as hint', async () => {
    const e = env();
    await run(['ingest', '--provider', 'codex'], e);
    const r = await run(['report', 'daily', '--scope', 'device:0123456789'], e);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: no single device matches '0123456789'\nhint: known devices: [0-9a-f]{16} \[this device\]\n$/);
  });

  it('--version and --help exit 0 on stdout', async () => {
    const e = env();
    const v = await run(['--version'], e);
    expect(v.code).toBe(0);
    expect(v.out.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const h = await run(['--help'], e);
    expect(h.code).toBe(0);
    expect(h.out).toMatch(/Usage: stackunderflow/);
    for (const c of ['ingest', 'report', 'sessions', 'demo']) expect(h.out).toContain(c);
    expect(h.out).toMatch(/stackunderflow ingest && stackunderflow report daily/);
    const none = await run([], e);
    expect(none.code).toBe(0);
    expect(none.out).toMatch(/Usage: stackunderflow/);
    const rh = await run(['report', '--help'], e);
    expect(rh.out).toMatch(/--timezone/);
  });
});

describe('the bin as a subprocess', () => {
  const exec = promisify(execFile);
  const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
  const MAIN = join(ROOT, 'src', 'cli', 'main.ts');

  it('demo: exit 0, reports printed, nothing written to HOME', async () => {
    const home = mkdtempSync(join(tmpdir(), 'su-demo-home-'));
    const tmp = mkdtempSync(join(tmpdir(), 'su-demo-tmp-'));
    const { stdout, stderr } = await exec(TSX, [MAIN, 'demo', '--timezone', 'UTC'], {
      env: { PATH: process.env.PATH, HOME: home, TMPDIR: tmp, NO_COLOR: '1' },
      timeout: 60_000,
    });
    expect(stderr).toBe('');
    expect(stdout).toMatch(/Token usage by day/);
    expect(stdout).toMatch(/Token usage by project/);
    expect(stdout).toMatch(/Token usage by model/);
    expect(stdout).toMatch(/^Total\s+[\d,]+/m);
    expect(stdout).toMatch(/gpt-5\.3-codex/);
    expect(stdout).toMatch(/opus-4-7/);
    // The other agents' samples: per-agent ingest lines, their models in the reports
    expect(stdout).toMatch(/Gemini CLI\s+\d+ files? \(\d+ read\), \d+ new/);
    expect(stdout).toMatch(/GitHub Copilot CLI\s+\d+ files? \(\d+ read\), \d+ new/);
    expect(stdout).toMatch(/gemini-2\.5-pro\s+gemini/);
    expect(stdout).toMatch(/qwen3-coder-plus\s+qwen/);
    expect(stdout).toContain('stackunderflow ingest && stackunderflow report daily');
    const demoHome = /Demo home: (\S+)/.exec(stdout)![1];
    expect(demoHome.startsWith(tmp)).toBe(true);
    expect(existsSync(join(demoHome, 'home', 'store.db'))).toBe(true);
    expect(readdirSync(home)).toEqual([]);
  });

  it('a usage error exits 64', async () => {
    const home = mkdtempSync(join(tmpdir(), 'su-bin-'));
    const err = await exec(TSX, [MAIN, 'report', 'daily', '--until', 'tomorrow'], {
      env: { PATH: process.env.PATH, HOME: home, STACKUNDERFLOW_HOME: join(home, 'su') },
    }).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).toBe(64);
    expect(err?.stderr).toMatch(/^error: --until wants a date as YYYY-MM-DD, got 'tomorrow'\nhint: /);
  });
});
