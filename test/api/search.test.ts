import { join } from 'node:path';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { runCli } from '../../src/cli/run.js';
import { openDb, type Db } from '../../src/store/db.js';
import { tempDir } from '../helpers/fixtures.js';
import { S, writeSearchLogs } from '../search/logs.js';

const HOST = '127.0.0.1:8099';

let env: NodeJS.ProcessEnv;
let db: Db;
let app: Hono;
const internalErrors: unknown[] = [];

async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { env, stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } });
  return { code, stdout, stderr };
}

async function get(path: string, status = 200): Promise<any> {
  const res = await app.request(`http://${HOST}${path}`, { headers: { host: HOST } });
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(status);
  return body;
}

beforeAll(async () => {
  const dir = tempDir('su-api-search-');
  env = { ...writeSearchLogs(dir), STACKUNDERFLOW_HOME: join(dir, 'home') };
  expect((await cli(['ingest'])).code).toBe(0);
  db = openDb(join(dir, 'home', 'store.db'));
  app = createApp({ db, bind: { host: '127.0.0.1', port: 8099 }, env, onInternalError: (e) => internalErrors.push(e) });
});

afterAll(() => {
  db?.close();
  expect(internalErrors).toEqual([]);
});

const q = (s: string) => encodeURIComponent(s);

describe('GET /api/search', () => {
  const cases: Array<[string, string[]]> = [
    [`q=zeppelin`, ['search', 'zeppelin', '--json']],
    [`q=${q('"red balloon"')}`, ['search', '"red balloon"', '--json']],
    [`q=${q('balloon -red')}&provider=claude`, ['search', 'balloon -red', '--provider', 'claude', '--json']],
    [`q=${q('refactor*')}&scope=local&limit=1`, ['search', 'refactor*', '--scope', 'local', '--limit', '1', '--json']],
    [`q=zeppelin&since=2026-03-02&until=2026-03-05&project=alpha&timezone=Pacific%2FKiritimati`, ['search', 'zeppelin', '--since', '2026-03-02', '--until', '2026-03-05', '--project', 'alpha', '--timezone', 'Pacific/Kiritimati', '--json']],
    [`q=wombat`, ['search', 'wombat', '--json']],
  ];
  it.each(cases)('?%s equals `%s`', async (query, argv) => {
    const body = await get(`/api/search?${query}`);
    const r = await cli(argv);
    expect(r.code, r.stderr).toBe(0);
    expect(body).toEqual(JSON.parse(r.stdout));
    expect(body.results.length).toBeGreaterThan(0);
  });

  it('rejects what the CLI rejects, with the same message, as a 400', async () => {
    const bad: Array<[string, string[]]> = [
      [`q=${q('"open')}`, ['search', '"open']],
      [`q=${q('-only -exclusions')}`, ['search', '-only -exclusions']],
      [`q=`, ['search', '']],
      [`q=zeppelin&limit=5000`, ['search', 'zeppelin', '--limit', '5000']],
      [`q=zeppelin&since=yesterday`, ['search', 'zeppelin', '--since', 'yesterday']],
    ];
    for (const [query, argv] of bad) {
      const body = await get(`/api/search?${query}`, 400);
      const r = await cli(argv);
      expect(r.code).toBe(64);
      expect(body.error.code).toBe('USAGE');
      // The CLI names its flag (--limit) where the API names its parameter (limit).
      expect(r.stderr.split('\n')[0].replace(/--/g, '')).toBe(`error: ${body.error.message}`.replace(/--/g, ''));
      expect(body.error.hint).toBeTruthy();
      expect(JSON.stringify(body)).not.toMatch(/sqlite|fts5|\\n\s+at /i);
    }
  });

  it('a missing q and unknown parameters are 400s', async () => {
    expect((await get('/api/search', 400)).error.message).toMatch(/the query is empty/);
    expect((await get('/api/search?q=x&lmit=3', 400)).error.message).toMatch(/unknown query parameter 'lmit'/);
    expect((await get('/api/search?q=x&q=y', 400)).error.message).toMatch(/more than once/);
  });
});

describe('GET /api/sessions/:id', () => {
  it('equals `show --json`, by full id or prefix', async () => {
    const body = await get(`/api/sessions/${S.tools}`);
    const r = await cli(['show', S.tools, '--json']);
    expect(body).toEqual(JSON.parse(r.stdout));
    expect(body.turns.map((t: { role: string }) => t.role)).toEqual(['user', 'assistant', 'tool_call', 'tool_result', 'assistant']);
    expect(await get(`/api/sessions/${S.codex.slice(0, 9)}?scope=local&timezone=UTC`)).toEqual(JSON.parse((await cli(['show', S.codex.slice(0, 9), '--scope', 'local', '--timezone', 'UTC', '--json'])).stdout));
  });

  it('does not shadow the session list', async () => {
    expect((await get('/api/sessions')).sessions.length).toBe(5);
  });

  it('ambiguous prefix → 400 listing candidates; unknown → 404; bad scope → 400', async () => {
    const amb = await get('/api/sessions/bbbb', 400);
    expect(amb.error.message).toMatch(/ambiguous/);
    expect(amb.error.hint).toContain(S.twin);
    expect((await get('/api/sessions/nope', 404)).error.code).toBe('NOT_FOUND');
    expect((await get(`/api/sessions/${S.tools}?scope=a%20b`, 400)).error.code).toBe('USAGE');
    expect((await get(`/api/sessions/${S.tools}?limit=3`, 400)).error.message).toMatch(/unknown query parameter/);
  });
});
