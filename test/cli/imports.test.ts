import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * What each command loads. Start-up is most of a report's time (the 50× target against
 * ccusage), and core commands must never load sync code or its
 * dependencies: registrars declare options, implementations load in the action. The list of
 * agents (src/model/event.ts's names, src/adapters/agents.ts's variables, no parser) is what
 * options and help are declared from, so registrars load it.
 */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FIXTURES = join(ROOT, 'test', 'fixtures');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');
const HOOK = join(ROOT, 'test', 'helpers', 'module-log.mjs');
const exec = promisify(execFile);

/** tsx, which runs the sources here, and what it loads itself (esbuild, …): not the CLI's. */
const TSX = new Set(['tsx', ...Object.keys(JSON.parse(readFileSync(join(ROOT, 'node_modules', 'tsx', 'package.json'), 'utf8')).dependencies ?? {})]);

/** Runs the CLI from source and returns the modules it resolved: `src/…` paths, package names, Node built-ins. */
async function modulesOf(argv: string[]): Promise<{ src: string[]; packages: string[]; builtins: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'su-imports-'));
  const log = join(dir, 'modules.txt');
  await exec(process.execPath, ['--import', 'tsx', '--import', HOOK, MAIN, ...argv], {
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      TZ: 'UTC',
      STACKUNDERFLOW_HOME: join(dir, 'su'),
      CLAUDE_CONFIG_DIR: join(FIXTURES, 'claude'),
      CODEX_HOME: join(FIXTURES, 'codex'),
      SU_MODULE_LOG: log,
    },
    timeout: 60_000,
  });
  const lines = [...new Set(readFileSync(log, 'utf8').split('\n'))];
  const builtins = lines.filter((u) => u.startsWith('node:'));
  const urls = lines.filter((u) => u.startsWith('file:')).map((u) => fileURLToPath(u));
  const src = urls.filter((p) => p.startsWith(join(ROOT, 'src'))).map((p) => relative(ROOT, p).split('\\').join('/'));
  const packages = [...new Set(urls.map((p) => /node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/.exec(p)?.[1]).filter((n): n is string => !!n && !TSX.has(n)))];
  return { src, packages, builtins };
}

const SYNC_PACKAGES = ['@aws-sdk/client-s3', 'age-encryption', 'proper-lockfile', 'chokidar'];

describe('what a command loads', () => {
  it('--version loads the registrars only: no store, no reports', async () => {
    const m = await modulesOf(['--version']);
    expect(m.src).toContain('src/cli/commands/report.ts');
    expect(m.src.filter((p) => /^src\/(store|ingest|adapters\/(?!types|agents)|sync|api\/(?!defaults)|search\/(?!limits|query))/.test(p) || p === 'src/reports/reports.ts')).toEqual([]);
    expect(m.packages.sort()).toEqual(['commander']);
  });

  it('report daily --json loads the store and the reports, nothing of other commands', async () => {
    const m = await modulesOf(['report', 'daily', '--json', '--timezone', 'UTC']);
    expect(m.src).toContain('src/reports/aggregate.ts');
    expect(m.src.filter((p) => /^src\/(ingest|sync|api\/(?!defaults)|search\/(?!limits|query)|adapters\/(?!types|agents))/.test(p))).toEqual([]);
    expect(m.packages.sort()).toEqual(['better-sqlite3', 'commander']);
    // ~7 ms to load, for hashing a report never does (identity.ts and a new store's device id need it).
    expect(m.builtins).not.toContain('node:crypto');
  });

  it('statusline loads the store, the Claude adapter and the block code: no sync, no Codex, no report tables', async () => {
    const m = await modulesOf(['statusline']);
    expect(m.src).toEqual(expect.arrayContaining(['src/ingest/transcript.ts', 'src/reports/blocks-report.ts', 'src/reports/statusline.ts']));
    expect(m.src.filter((p) => /^src\/(sync|api\/(?!defaults)|search\/(?!limits|query)|adapters\/codex)/.test(p) || p === 'src/reports/reports.ts')).toEqual([]);
    expect(m.packages.sort()).toEqual(['better-sqlite3', 'commander']);
  });

  it('ingest, sessions and search never load sync code or its dependencies', async () => {
    for (const argv of [['ingest'], ['sessions', '--json'], ['search', 'hello', '--json']]) {
      const m = await modulesOf(argv);
      expect(m.src.filter((p) => p.startsWith('src/sync/')), argv.join(' ')).toEqual([]);
      expect(m.packages.filter((p) => SYNC_PACKAGES.includes(p) || p === 'hono' || p === '@hono/node-server'), argv.join(' ')).toEqual([]);
    }
  });
});
