import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hono } from 'hono';
import { createApp } from '../../src/api/app.js';
import { errorResponse } from '../../src/api/errors.js';
import { ADAPTERS } from '../../src/adapters/index.js';
import { ingest } from '../../src/ingest/index.js';
import { getMeta, openDb, type Db } from '../../src/store/db.js';
import { SuError } from '../../src/errors.js';
import { listSessions, REPORT_KINDS, runReport } from '../../src/reports/index.js';
import { parseReportOptions, type RawReportOptions } from '../../src/query/options.js';
import { writeSmallLogs } from './logs.js';
import { runCli } from '../../src/cli/run.js';

const HOST = '127.0.0.1:8081';
const VERSION = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version as string;

let dir: string;
let env: NodeJS.ProcessEnv;
let db: Db;
let app: Hono;
const internalErrors: unknown[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'su-api-'));
  env = writeSmallLogs(dir);
  db = openDb(join(dir, 'store.db'));
  const r = await ingest(db, { adapters: [...ADAPTERS], env });
  expect(r.events.inserted).toBeGreaterThan(0);
  app = createApp({ db, bind: { host: '127.0.0.1', port: 8081 }, env, onInternalError: (e) => internalErrors.push(e) });
});

afterAll(() => db?.close());

function get(path: string, headers: Record<string, string> = { host: HOST }) {
  return app.request(`http://${HOST}${path}`, { headers });
}

async function json(path: string, status = 200): Promise<any> {
  const res = await get(path);
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  return body;
}

describe('GET /api/health', () => {
  it('reports version, device, counts and the store path, nothing else', async () => {
    const body = await json('/api/health');
    const events = db.prepare('SELECT COUNT(*) FROM events').pluck().get();
    expect(body).toEqual({ ok: true, version: VERSION, deviceId: getMeta(db, 'device_id'), events, devices: 1, storePath: join(dir, 'store.db') });
    expect(events).toBeGreaterThan(5);
  });
});

describe('GET /api/projects', () => {
  it('lists every project with its sessions and events, most recent first', async () => {
    const body = await json('/api/projects');
    expect(body.projects.map((p: any) => [p.provider, p.project, p.projectPath, p.sessions])).toEqual([
      ['codex', '-home-me-gamma', '/home/me/gamma', 1],
      ['claude', '-home-me-beta', '/home/me/beta', 1],
      ['claude', '-home-me-alpha', '/home/me/alpha', 1],
    ]);
    const alpha = body.projects[2];
    expect(alpha).toMatchObject({ events: 4, firstTimestamp: '2026-03-01T10:00:00.000Z', lastTimestamp: '2026-03-02T09:00:07.000Z', lastActivity: '2026-03-02' });
    expect(body.meta.scope).toBe('local');
  });

  it('filters like the reports do', async () => {
    expect((await json('/api/projects?provider=codex')).projects.map((p: any) => p.project)).toEqual(['-home-me-gamma']);
    expect((await json('/api/projects?project=alpha')).projects.map((p: any) => p.project)).toEqual(['-home-me-alpha']);
    expect((await json('/api/projects?until=2026-03-01')).projects.map((p: any) => p.project)).toEqual(['-home-me-alpha']);
  });
});

describe('GET /api/sessions', () => {
  it('equals the session listing of `sessions --json`', async () => {
    const body = await json('/api/sessions');
    expect(body).toEqual(JSON.parse(JSON.stringify(listSessions(db, {}, env))));
    expect(body.sessions).toHaveLength(3);
  });

  it('takes project, provider and limit', async () => {
    const one = await json('/api/sessions?limit=1');
    expect(one.sessions.map((s: any) => s.provider)).toEqual(['codex']);
    const claude = await json('/api/sessions?provider=claude&project=beta');
    expect(claude.sessions.map((s: any) => s.sessionId)).toEqual(['22222222-2222-4222-8222-222222222222']);
    expect(claude).toEqual(JSON.parse(JSON.stringify(listSessions(db, { provider: 'claude', project: 'beta' }, env))));
    expect((await json('/api/sessions?limit=0')).sessions).toEqual([]);
  });
});

describe('GET /api/reports/*', () => {
  const queries: Array<[string, RawReportOptions]> = [
    ['', {}],
    ['?since=2026-03-02&until=2026-03-02', { since: '2026-03-02', until: '2026-03-02' }],
    ['?timezone=America/Los_Angeles', { timezone: 'America/Los_Angeles' }],
    ['?project=alpha&provider=claude', { project: 'alpha', provider: 'claude' }],
    ['?scope=local', { scope: 'local' }],
    ['?scope=all&provider=codex', { scope: 'all', provider: 'codex' }],
  ];
  for (const kind of REPORT_KINDS) {
    it(`${kind}: equals the report function's output for each filter`, async () => {
      for (const [q, raw] of queries) {
        const body = await json(`/api/reports/${kind}${q}`);
        expect(body, q).toEqual(JSON.parse(JSON.stringify(runReport(db, kind, parseReportOptions(raw), env))));
      }
    });
  }

  it('carries the expected numbers (daily, UTC)', async () => {
    const body = await json('/api/reports/daily?timezone=UTC');
    expect(body.daily.map((d: any) => [d.date, d.inputTokens, d.outputTokens, d.cacheReadTokens])).toEqual([
      ['2026-03-01', 100, 20, 1000],
      ['2026-03-02', 500, 100, 0],
      ['2026-03-03', 400, 50, 100],
    ]);
    expect(body.totals.totalTokens).toBe(100 + 20 + 1000 + 500 + 100 + 400 + 50 + 100);
    const projects = await json('/api/reports/project?provider=claude');
    expect(projects.projects.map((p: any) => p.project).sort()).toEqual(['-home-me-alpha', '-home-me-beta']);
  });

  it('weekly takes startOfWeek and last; blocks its own switches, checked like the CLI flags', async () => {
    const monday = await json('/api/reports/weekly?startOfWeek=monday&timezone=UTC');
    expect(monday.weekly.map((w: any) => w.week)).toEqual(['2026-02-23', '2026-03-02']);
    expect(monday.meta.startOfWeek).toBe('monday');
    expect((await json('/api/reports/weekly?startOfWeek=mon', 400)).error.message).toMatch(/--start-of-week/);
    expect((await json('/api/reports/daily?last=0', 400)).error.message).toMatch(/--last/);
    const blocks = await json('/api/reports/blocks?timezone=UTC&sessionLength=5&tokenLimit=max');
    expect(blocks.blocks.filter((b: any) => !b.isGap).reduce((a: number, b: any) => a + b.totalTokens, 0)).toBe(100 + 20 + 1000 + 500 + 100);
    expect(blocks.meta.sessionHours).toBe(5);
    expect((await json('/api/reports/blocks?tokenLimit=lots', 400)).error.code).toBe('USAGE');
    expect((await json('/api/reports/blocks?provider=claude', 400)).error.message).toMatch(/unknown query parameter 'provider'/);
  });

  it('takes byDevice like --by-device', async () => {
    const body = await json('/api/reports/daily?byDevice=true');
    expect(body.daily[0].devices).toHaveLength(1);
    expect(body.daily[0].devices[0].deviceId).toBe(getMeta(db, 'device_id'));
  });
});

describe('bad input', () => {
  const bad = [
    '/api/reports/daily?since=2026-13-45',
    '/api/reports/daily?since=yesterday',
    '/api/reports/daily?since=2026-03-03&until=2026-03-01',
    '/api/reports/monthly?timezone=Mars/Olympus_Mons',
    '/api/reports/model?provider=amp',
    '/api/reports/session?scope=device:a%20b',
    '/api/reports/daily?sinse=2026-01-01',
    '/api/reports/daily?since=2026-01-01&since=2026-01-02',
    '/api/reports/daily?byDevice=maybe',
    '/api/reports/daily?limit=3',
    '/api/sessions?limit=-1',
    '/api/sessions?limit=ten',
    '/api/projects?limit=1',
    '/api/health?x=1',
  ];
  for (const path of bad) {
    it(`${path} → 400 USAGE`, async () => {
      const body = await json(path, 400);
      expect(body.error.code).toBe('USAGE');
      expect(typeof body.error.message).toBe('string');
      expect(Object.keys(body)).toEqual(['error']);
      expect(JSON.stringify(body)).not.toMatch(/\.ts:\d|\bat [\w.]+ \(/);
    });
  }

  it('an unknown device is 404 NOT_FOUND with a hint', async () => {
    const body = await json('/api/reports/daily?scope=device:nosuchdevice', 404);
    expect(body.error.code).toBe('NOT_FOUND');
    expect(body.error.hint).toContain(getMeta(db, 'device_id'));
  });

  it('an unknown endpoint is 404 JSON', async () => {
    const yearly = await json('/api/reports/yearly', 404);
    expect(yearly.error.code).toBe('NOT_FOUND');
    expect(yearly.error.hint).toContain('/api/reports/monthly');
    expect(yearly.error.hint).toContain('/api/health');
    expect((await json('/nope', 404)).error.code).toBe('NOT_FOUND');
  });

  it('writes are refused: the API is read-only', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const res = await app.request(`http://${HOST}/api/health`, { method, headers: { host: HOST } });
      expect(res.status, method).toBe(400);
      expect((await res.json()).error.code).toBe('USAGE');
    }
  });
});

describe('Host guard (DNS rebinding)', () => {
  it('rejects a foreign Host with 403 JSON and serves the bound one', async () => {
    for (const host of ['evil.example', 'evil.example:8081', '127.0.0.1:8082', 'localhost']) {
      const res = await get('/api/health', { host });
      expect(res.status, host).toBe(403);
      const body = await res.json();
      expect(body.error.code).toBe('FORBIDDEN');
      expect(JSON.stringify(body)).not.toContain(getMeta(db, 'device_id')!);
    }
    for (const host of [HOST, 'localhost:8081', '[::1]:8081']) expect((await get('/api/health', { host })).status, host).toBe(200);
  });

  it('guards every route, not only health', async () => {
    expect((await get('/api/reports/daily', { host: 'evil.example:8081' })).status).toBe(403);
    expect((await get('/api/sessions?limit=bad', { host: 'evil.example:8081' })).status).toBe(403);
  });

  it('falls back to the URL authority when no Host header is sent', async () => {
    expect((await app.request('http://evil.example/api/health')).status).toBe(403);
    expect((await app.request(`http://${HOST}/api/health`)).status).toBe(200);
  });
});

describe('response headers', () => {
  it('every response: nosniff, no-store, and never an Access-Control-Allow-Origin', async () => {
    const cases: Array<[string, Record<string, string>, string?]> = [
      ['/api/health', { host: HOST, origin: 'https://evil.example' }],
      ['/api/reports/daily?since=bad', { host: HOST, origin: 'https://evil.example' }],
      ['/api/health', { host: 'evil.example' }],
      ['/nope', { host: HOST }],
      ['/api/health', { host: HOST, origin: 'https://evil.example', 'access-control-request-method': 'GET' }, 'OPTIONS'],
    ];
    for (const [path, headers, method] of cases) {
      const res = await app.request(`http://${HOST}${path}`, { headers, method: method ?? 'GET' });
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('cache-control'), path).toBe('no-store');
      for (const [k] of res.headers) expect(k.startsWith('access-control-'), `${path}: ${k}`).toBe(false);
    }
  });
});

describe('errors', () => {
  it('an unexpected failure is a bare 500: no message, no stack; the operator hook gets it', async () => {
    const other = openDb(join(dir, 'closed.db'));
    const broken = createApp({ db: other, bind: { host: '127.0.0.1', port: 8081 }, env, onInternalError: (e) => internalErrors.push(e) });
    other.close();
    const before = internalErrors.length;
    const res = await broken.request(`http://${HOST}/api/health`);
    expect(res.status).toBe(500);
    const body = await res.json();
    expect(body.error).toMatchObject({ code: 'INTERNAL', message: 'internal error' });
    expect(JSON.stringify(body)).not.toMatch(/database|\.ts|\bat /);
    expect(internalErrors.length).toBe(before + 1);
  });

  it('maps error codes to statuses in one table', () => {
    const s = (code: ConstructorParameters<typeof SuError>[0]) => errorResponse(new SuError(code, 'm', { hint: 'h' }));
    expect([s('USAGE').status, s('NOT_FOUND').status, s('CONFLICT').status, s('UNREACHABLE').status]).toEqual([400, 404, 409, 503]);
    for (const code of ['CONFIG', 'KEY', 'INTEGRITY', 'LOCKED', 'STORE', 'INTERNAL'] as const) expect(s(code).status, code).toBe(500);
    expect(s('CONFLICT').body).toEqual({ error: { code: 'CONFLICT', message: 'm', hint: 'h' } });
    expect(errorResponse(new Error('secret detail')).body.error.message).toBe('internal error');
  });
});

describe('serve --help', () => {
  it('names every endpoint the API answers', async () => {
    let help = '';
    const sink = { write: (s: string) => ((help += s), true) };
    expect(await runCli(['serve', '--help'], { env, stdout: sink, stderr: sink, isTTY: false })).toBe(0);
    const paths = app.routes.filter((r) => r.method === 'GET' && r.path.startsWith('/api/')).map((r) => r.path);
    expect(paths.length).toBeGreaterThanOrEqual(10);
    const reports = /\/api\/reports\/(\S+)/.exec(help)?.[1].split('|') ?? [];
    for (const path of paths) {
      const kind = /^\/api\/reports\/(\w+)$/.exec(path)?.[1];
      if (kind) expect(reports, path).toContain(kind);
      else expect(help, path).toContain(path);
    }
  });
});
