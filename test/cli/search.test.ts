import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run.js';
import { openDb } from '../../src/store/db.js';
import { search, showSession } from '../../src/search/index.js';
import { tempDir } from '../helpers/fixtures.js';
import { S, writeSearchLogs } from '../search/logs.js';
import { createApp } from '../../src/api/app.js';
import { Device, fileBucket, setupSync } from '../helpers/devices.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(argv: string[], env: NodeJS.ProcessEnv, isTTY = false): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    env,
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    isTTY,
    stderrIsTTY: false,
  });
  return { code, stdout, stderr };
}

/** A clean usage failure: exit 64, `error:` and `hint:` lines, and nothing that looks like a stack trace or SQLite. */
function expectUsage(r: Run, message: RegExp): void {
  expect(r.code, r.stderr).toBe(64);
  expect(r.stderr).toMatch(/^error: /);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).toMatch(/\nhint: /);
  expect(r.stderr).not.toMatch(/\n\s+at |SqliteError|fts5|SQLITE/);
  expect(r.stdout).toBe('');
}

let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  const dir = tempDir('su-cli-search-');
  env = { ...writeSearchLogs(dir), STACKUNDERFLOW_HOME: join(dir, 'home') };
  const r = await cli(['ingest'], env);
  expect(r.code, r.stderr).toBe(0);
});

describe('stackunderflow search', () => {
  it('prints ranked hits with «marked» matches when not on a terminal', async () => {
    const r = await cli(['search', 'zeppelin'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^3 results for zeppelin, best first \(scope local, times in UTC\)\n/);
    expect(r.stdout).toMatch(/\n1 {2}2026-03-01 10:00 · user · claude · -home-me-alpha · device [0-9a-f]{8}\n {3}the «zeppelin» hangar holds a «zeppelin» and then one more «zeppelin» today\n {3}session aaaaaaaa-0000-4000-8000-000000000001\n/);
    expect(r.stdout).toContain('Open a session: stackunderflow show <session>');
    expect(r.stdout).not.toMatch(/\x1b\[/);
  });

  it('highlights with colors on a terminal (and not with NO_COLOR)', async () => {
    const tty = await cli(['search', 'zeppelin'], env, true);
    expect(tty.stdout).toContain('\x1b[1m\x1b[33mzeppelin\x1b[0m');
    expect(tty.stdout).not.toContain('«');
    expect((await cli(['search', 'zeppelin'], { ...env, NO_COLOR: '1' }, true)).stdout).toContain('«zeppelin»');
  });

  it('--json prints what search() returns', async () => {
    const r = await cli(['search', 'red', 'balloon', '--json', '--provider', 'claude'], env);
    expect(r.code, r.stderr).toBe(0);
    const body = JSON.parse(r.stdout);
    const db = openDb(join(env.STACKUNDERFLOW_HOME!, 'store.db'));
    try {
      expect(body).toEqual(JSON.parse(JSON.stringify(search(db, 'red balloon', { provider: 'claude' }, env))));
    } finally {
      db.close();
    }
    expect(body.results).toHaveLength(2);
    const hit = body.results[0];
    expect(Object.keys(hit)).toEqual(['sessionId', 'provider', 'project', 'deviceId', 'deviceName', 'timestamp', 'kind', 'role', 'model', 'eventUid', 'score', 'snippet', 'highlights']);
    for (const [a, b] of hit.highlights) expect(['red', 'balloon']).toContain(hit.snippet.slice(a, b).toLowerCase());
  });

  it('-word as its own argument excludes, as inside one quoted argument', async () => {
    const split = JSON.parse((await cli(['search', 'balloon', '-red', '--json'], env)).stdout);
    const quoted = JSON.parse((await cli(['search', 'balloon -red', '--json'], env)).stdout);
    expect(split.results).toHaveLength(1);
    expect(split.results[0].snippet).toContain('blue');
    expect(quoted).toEqual(split);
    // -p, -s, -u… are not flags of search: "-project" excludes a word instead of setting --project.
    expect(JSON.parse((await cli(['search', 'balloon', '-sky', '--json'], env)).stdout).results).toHaveLength(3);
  });

  it('phrases and prefixes from the command line', async () => {
    expect(JSON.parse((await cli(['search', '"red balloon"', '--json'], env)).stdout).results).toHaveLength(1);
    expect(JSON.parse((await cli(['search', 'refactor*', '--json'], env)).stdout).results).toHaveLength(2);
  });

  it('filters: --since/--until/--project/--scope/--limit', async () => {
    const r = JSON.parse((await cli(['search', 'zeppelin', '--since', '2026-03-02', '--project', 'alpha', '--limit', '5', '--json'], env)).stdout);
    expect(r.results.map((h: { sessionId: string }) => h.sessionId)).toEqual([S.once]);
    expect(r.meta).toMatchObject({ since: '2026-03-02', project: 'alpha', limit: 5, scope: 'local' });
    const one = await cli(['search', 'zeppelin', '--limit', '1'], env);
    expect(one.stdout).toMatch(/^1\+ result for zeppelin/);
    expect(one.stdout).toContain('More results match: raise --limit (now 1)');
  });

  it('says so when nothing matches', async () => {
    const r = await cli(['search', 'xylophone'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('No results for xylophone (scope local).\n');
  });

  it('malformed queries and options exit 64 with a clear message', async () => {
    expectUsage(await cli(['search', '"red balloon'], env), /unbalanced quote/);
    expectUsage(await cli(['search', '-red'], env), /only excludes words/);
    expectUsage(await cli(['search'], env), /the query is empty/);
    expectUsage(await cli(['search', '*'], env), /nothing before the \*/);
    expectUsage(await cli(['search', '...'], env), /no words to search for/);
    expectUsage(await cli(['search', 'x', '--limit', '0'], env), /--limit wants a whole number from 1 to 1000/);
    expectUsage(await cli(['search', 'x', '--limit', 'lots'], env), /--limit wants a whole number/);
    expectUsage(await cli(['search', 'x', '--limt', '3'], env), /unknown option '--limt'/);
    expectUsage(await cli(['search', 'x', '--since', '2026-13-01'], env), /--since wants a date/);
    expectUsage(await cli(['search', 'x', '--provider', 'amp'], env), /unknown provider/);
    expectUsage(await cli(['search', 'x', '--scope', 'some where'], env), /invalid scope/);
    const dev = await cli(['search', 'x', '--scope', 'device:nope'], env);
    expect(dev.code).toBe(1);
    expect(dev.stderr).toMatch(/^error: no single device matches 'nope'/);
  });

  it('--help documents the query syntax', async () => {
    const r = await cli(['search', '--help'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('"exact phrase"');
    expect(r.stdout).toContain('pars*');
    expect(r.stdout).toContain('-word');
    expect(r.stdout).toContain('--reindex');
  });

  it('--reindex rebuilds the index (a repair) and results come back', async () => {
    const before = JSON.parse((await cli(['search', 'quokka', '--json'], env)).stdout);
    expect(before.results.length).toBe(3);
    const db = openDb(join(env.STACKUNDERFLOW_HOME!, 'store.db'));
    db.exec(`INSERT INTO events_fts(events_fts) VALUES ('delete-all')`);
    db.close();
    expect(JSON.parse((await cli(['search', 'quokka', '--json'], env)).stdout).results).toEqual([]);
    const r = await cli(['search', '--reindex'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Rebuilt the search index: \d+ events, \d+ with text, in [\d,]+ ms\.\n$/);
    expect(JSON.parse((await cli(['search', 'quokka', '--json'], env)).stdout)).toEqual(before);
    // With a query: rebuild, then search (the summary goes to stderr).
    const both = await cli(['search', '--reindex', 'quokka', '--json'], env);
    expect(both.stderr).toMatch(/^Rebuilt the search index/);
    expect(JSON.parse(both.stdout)).toEqual(before);
  });

  it('on a store that does not exist yet: no results, the usual notice, no store created', async () => {
    const home = join(tempDir('su-cli-empty-'), 'home');
    const r = await cli(['search', 'anything'], { STACKUNDERFLOW_HOME: home });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/has no events yet/);
    expect(existsSync(join(home, 'store.db'))).toBe(false);
  });
});

describe('stackunderflow show', () => {
  it('prints the conversation of a session given by a prefix', async () => {
    const r = await cli(['show', 'bbbbbbbb-0000-4000-8000-000000000003', '--timezone', 'UTC'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Session bbbbbbbb-0000-4000-8000-000000000003 \(claude\)\nProject: {2}-home-me-beta \(\/home\/me\/beta\)\n/);
    expect(r.stdout).toContain('09:00:03  → Bash  grep -rn quokka src\n');
    expect(r.stdout).toContain('09:00:04  ← result  src/quokka.ts:12: export const quokka = 1 (74 B, 2 lines)\n');
    expect(r.stdout).toContain('    ↳ in 1,000 · out 200 · $0.0060\n');
    expect(r.stdout).toMatch(/\nTotals\n {2}Requests: {6}3 \(claude-sonnet-4-5-20250929\)\n {2}Input: {9}3,300\n/);
  });

  it('--json prints what showSession() returns', async () => {
    const r = await cli(['show', S.codex.slice(0, 10), '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const db = openDb(join(env.STACKUNDERFLOW_HOME!, 'store.db'));
    try {
      expect(JSON.parse(r.stdout)).toEqual(JSON.parse(JSON.stringify(showSession(db, S.codex, {}, env))));
    } finally {
      db.close();
    }
  });

  it('an ambiguous prefix lists the candidates; an unknown id is not found', async () => {
    const amb = await cli(['show', 'bbbb'], env);
    expectUsage(amb, /session id 'bbbb' is ambiguous: it matches 2 sessions/);
    expect(amb.stderr).toContain(S.tools);
    expect(amb.stderr).toContain(S.twin);
    const none = await cli(['show', 'nosuchsession'], env);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^error: no session in scope local matches 'nosuchsession'\nhint: /);
  });
});

describe('search results appear after a pull from another device (file:// sync)', () => {
  it('finds a phrase that only the other device logged, once pulled, in the CLI and the API', async () => {
    const desk = new Device('desk');
    const laptop = new Device('laptop');
    writeSearchLogs(dirname(desk.claudeDir));
    // The laptop's own log: one Claude session with a phrase nobody else has.
    const sid = 'dddddddd-0000-4000-8000-00000000000d';
    mkdirSync(join(laptop.claudeDir, 'projects', '-home-me-delta'), { recursive: true });
    writeFileSync(
      join(laptop.claudeDir, 'projects', '-home-me-delta', `${sid}.jsonl`),
      JSON.stringify({ type: 'user', uuid: 'd0000000-0000-4000-8000-000000000001', parentUuid: null, sessionId: sid, timestamp: '2026-03-06T07:00:00.000Z', cwd: '/home/me/delta', version: '2.0.0', isSidechain: false, message: { role: 'user', content: 'the marmalade migration only ran on the laptop' } }) + '\n',
    );
    await desk.ingest();
    await laptop.ingest();
    await setupSync(['--bucket', fileBucket().url], desk, laptop);
    await laptop.ok(['sync', 'push']);

    const query = ['search', '"marmalade migration"', '--scope', 'all'];
    expect((await desk.json(query)).results).toEqual([]);
    await desk.ok(['sync', 'pull']);
    const after = await desk.json(query);
    expect(after.results).toHaveLength(1);
    expect(after.results[0]).toMatchObject({ sessionId: sid, project: '-home-me-delta', deviceId: laptop.id, deviceName: 'laptop', role: 'user' });
    expect(after.results[0].snippet).toBe('the marmalade migration only ran on the laptop');
    // Not this device's: local scope does not see it; the default (all, now that a peer exists) does.
    expect((await desk.json(['search', 'marmalade', '--scope', 'local'])).results).toEqual([]);
    expect((await desk.json(['search', 'marmalade'])).results).toHaveLength(1);
    expect((await desk.json(['search', 'zeppelin', '--scope', `device:laptop`])).results).toEqual([]);
    // The API over the same store answers the same.
    const db = openDb(desk.storeFile);
    try {
      const app = createApp({ db, bind: { host: '127.0.0.1', port: 8098 }, env: desk.env });
      const res = await app.request('http://127.0.0.1:8098/api/search?q=%22marmalade%20migration%22&scope=all', { headers: { host: '127.0.0.1:8098' } });
      expect(await res.json()).toEqual(after);
    } finally {
      db.close();
    }
    // And the hit opens.
    const shown = await desk.ok(['show', 'dddddddd']);
    expect(shown.stdout).toContain('the marmalade migration only ran on the laptop');
    expect(shown.stdout).toMatch(/Device: {3}laptop \([0-9a-f]{16}\)\n/);
  });
});
