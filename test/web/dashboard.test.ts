/**
 * The dashboard's JSON endpoints and page routes, in-process (no socket, no browser), on a store
 * holding three synced devices. The endpoints must give the reports' numbers for every scope,
 * range and zone; the page routes must carry the security headers and nothing else.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { errorResponse } from '../../src/api/errors.js';
import { CONTENT_SECURITY_POLICY, webRoutes, WEB_ROOT } from '../../src/api/routes/web.js';
import { ADAPTERS } from '../../src/adapters/index.js';
import { ingest } from '../../src/ingest/index.js';
import { openDb, type Db } from '../../src/store/db.js';
import { Device } from '../helpers/devices.js';
import { tempDir } from '../helpers/fixtures.js';
import { writeSmallLogs } from '../api/logs.js';
import { buildWeb, SHARED_PROJECT, threeSyncedDevices, type ThreeDevices } from './store.js';

const HOST = '127.0.0.1:8081';
let t: ThreeDevices;
let db: Db;
let app: Hono;
const internal: unknown[] = [];

beforeAll(async () => {
  buildWeb();
  t = await threeSyncedDevices();
  db = openDb(t.laptop.storeFile);
  app = createApp({ db, bind: { host: '127.0.0.1', port: 8081 }, env: t.laptop.env, onInternalError: (e) => internal.push(e) });
});

afterAll(() => db?.close());

function get(path: string, init: RequestInit = {}) {
  return app.request(`http://${HOST}${path}`, { ...init, headers: { host: HOST, ...(init.headers ?? {}) } });
}

async function json(path: string, status = 200): Promise<any> {
  const res = await get(path);
  const body = await res.json();
  expect(res.status, `${path}: ${JSON.stringify(body)}`).toBe(status);
  return body;
}

const close = (a: number | null, b: number | null) => (a === null || b === null ? a === b : Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a)));

/** Token counts exactly; cost up to float summation order (the page shows cents). */
function expectSameTotals(mine: any, report: any, where = ''): void {
  const { totalCost, ...rest } = report;
  expect(mine, where).toMatchObject(rest);
  expect(close(mine.totalCost, totalCost), `${where} cost ${mine.totalCost} vs ${totalCost}`).toBe(true);
}

describe('GET /api/dashboard/window', () => {
  it("is the active block of `report blocks` now, in the scope asked (none: these logs are old)", async () => {
    for (const scope of ['', '?scope=all', '?scope=local']) {
      const w = await json(`/api/dashboard/window${scope}`);
      expect(w.block).toBeNull();
      expect(w.meta.sessionHours).toBe(5);
      const active = (await json(`/api/reports/blocks?active=true${scope ? '&' + scope.slice(1) : ''}`)).blocks;
      expect(active).toEqual([]);
    }
    expect((await json('/api/dashboard/window?since=2026-01-01', 400)).error.message).toMatch(/unknown query parameter 'since'/);
  });
});

describe('GET /api/dashboard/summary', () => {
  const scopes = () => ['local', 'all', `device:${t.ids.desktop}`, 'device:devbox'];
  const ranges: Array<[string?, string?]> = [[], ['2025-11-01', '2025-12-31'], ['2026-01-01'], [undefined, '2025-10-31']];

  it('has the totals, days, models and projects of the reports, for every scope, range and zone', async () => {
    let compared = 0;
    for (const timezone of ['UTC', 'America/Los_Angeles']) {
      for (const scope of scopes()) {
        for (const [since, until] of ranges) {
          const qs = new URLSearchParams({ scope, timezone, ...(since ? { since } : {}), ...(until ? { until } : {}) }).toString();
          const s = await json(`/api/dashboard/summary?${qs}`);
          const daily = await json(`/api/reports/daily?${qs}`);
          const models = await json(`/api/reports/model?${qs}`);
          const projects = await json(`/api/reports/project?${qs}`);
          const where = `${qs}`;
          expect(s.meta, where).toEqual(daily.meta);
          for (const k of ['inputTokens', 'outputTokens', 'cacheCreationTokens', 'cacheReadTokens', 'totalTokens', 'reasoningTokens', 'unpricedTokens']) {
            expect(s.totals[k], `${where} ${k}`).toBe(daily.totals[k]);
          }
          expect(close(s.totals.totalCost, daily.totals.totalCost), `${where} cost ${s.totals.totalCost} vs ${daily.totals.totalCost}`).toBe(true);
          expect(s.totals.unpricedModels).toEqual(daily.totals.unpricedModels);

          // Each reported day's tokens are the sum of the stacked series on that day, both ways.
          for (const by of ['byModel', 'byDevice']) {
            const perDay = new Map<string, number>();
            s.days.forEach((d: string, i: number) => perDay.set(d, s[by].reduce((a: number, x: any) => a + x.tokens[i], 0)));
            for (const d of daily.daily) expect(perDay.get(d.date), `${where} ${by} ${d.date}`).toBe(d.totalTokens);
            const reported = new Set(daily.daily.map((d: any) => d.date));
            for (const [d, v] of perDay) if (!reported.has(d)) expect(v, `${where} ${by} ${d}`).toBe(0);
          }
          if (since && until) expect([s.days[0], s.days[s.days.length - 1]]).toEqual([since, until]);

          expect(s.models.map((m: any) => m.modelName).sort()).toEqual(models.models.map((m: any) => m.modelName).sort());
          for (const m of models.models) {
            const x = s.models.find((y: any) => y.modelName === m.modelName);
            expect([x.requests, x.totalTokens, x.inputTokens, x.cacheReadTokens], `${where} ${m.modelName}`).toEqual([m.requests, m.totalTokens, m.inputTokens, m.cacheReadTokens]);
            expect(close(x.totalCost, m.totalCost), `${where} ${m.modelName} cost`).toBe(true);
          }
          expect(s.projects.map((p: any) => p.project)).toEqual(projects.projects.map((p: any) => p.project));
          for (const p of projects.projects) {
            const x = s.projects.find((y: any) => y.project === p.project);
            expect([x.sessions, x.totalTokens, x.lastActivity, x.projectPath], `${where} ${p.project}`).toEqual([p.sessions, p.totalTokens, p.lastActivity, p.projectPath]);
            expect(close(x.totalCost, p.totalCost)).toBe(true);
          }
          compared += daily.daily.length;
        }
      }
    }
    // Enough days compared for the test to mean something.
    expect(compared).toBeGreaterThan(50);
    expect(internal).toEqual([]);
  });

  it('counts an event held by two devices once under all, and on each device under its own scope', async () => {
    const all = await json('/api/dashboard/summary?scope=all');
    const parts = await Promise.all(['local', `device:${t.ids.desktop}`, `device:${t.ids.devbox}`].map((s) => json(`/api/dashboard/summary?scope=${s}`)));
    const sum = parts.reduce((a, p) => a + p.totals.totalTokens, 0);
    const shared = (await json(`/api/dashboard/summary?scope=local`)).projects.find((p: any) => p.project === SHARED_PROJECT);
    expect(shared.totalTokens).toBeGreaterThan(0);
    // What the union saves over the per-device sums: each response on several devices counted once.
    // That is the shared project, plus toy ids that unrelated fixtures on different devices reuse
    // (under the billing rule one id is one response).
    const overlap = db
      .prepare(`SELECT COALESCE(SUM(per - one), 0) FROM (SELECT u.usage_key, SUM(u.input_tokens + u.output_tokens + u.cache_creation_tokens + u.cache_read_tokens) AS per,
          (SELECT w.input_tokens + w.output_tokens + w.cache_creation_tokens + w.cache_read_tokens FROM usage_union w WHERE w.usage_key = u.usage_key) AS one
        FROM usage u WHERE u.ts_ms > 0 GROUP BY u.usage_key HAVING COUNT(*) > 1)`)
      .pluck()
      .get() as number;
    expect(sum - all.totals.totalTokens).toBe(overlap);
    expect(overlap).toBeGreaterThanOrEqual(shared.totalTokens);
    expect(all.byDevice.map((d: any) => d.key).sort()).toEqual(Object.values(t.ids).sort());
    // Each shared response is attributed to the device of its earliest line, as the reports attribute it.
    const report = await json('/api/reports/daily?scope=all&byDevice=true');
    const perDevice = new Map<string, number>();
    for (const day of report.daily) for (const d of day.devices) perDevice.set(d.deviceId, (perDevice.get(d.deviceId) ?? 0) + d.totalTokens);
    expect(Object.fromEntries(all.byDevice.map((d: any) => [d.key, d.totalTokens]))).toEqual(Object.fromEntries(perDevice));
    // A response both devices hold at the same instant in the same session goes to the lower device id, on every device.
    const owners = db.prepare('SELECT DISTINCT device_id FROM usage_union WHERE project = ?').pluck().all(SHARED_PROJECT);
    expect(owners).toEqual([[t.ids.laptop, t.ids.devbox].sort()[0]]);
    const laptopShare = all.byDevice.find((d: any) => d.key === t.ids.laptop).totalTokens;
    const unionOfLaptop = db.prepare('SELECT SUM(input_tokens + output_tokens + cache_creation_tokens + cache_read_tokens) FROM usage_union WHERE device_id = ? AND ts_ms > 0').pluck().get(t.ids.laptop);
    expect(laptopShare).toBe(unionOfLaptop);
  });

  it('takes only scope, range and zone, and rejects bad values as the reports do', async () => {
    expect((await json('/api/dashboard/summary?project=x', 400)).error.message).toMatch(/unknown query parameter 'project'/);
    expect((await json('/api/dashboard/summary?since=2026-02-30', 400)).error.code).toBe('USAGE');
    expect((await json('/api/dashboard/summary?since=2026-03-02&until=2026-03-01', 400)).error.code).toBe('USAGE');
    expect((await json('/api/dashboard/summary?scope=device:nosuchdevice', 404)).error.code).toBe('NOT_FOUND');
  });

  it('follows the store as it changes, written by another connection or by its own', async () => {
    const before = await json('/api/dashboard/summary?scope=local');
    // Another process ingests new logs on the laptop (its own connection to the store).
    const env = writeSmallLogs(tempDir('su-web-more-'));
    await t.laptop.ok(['ingest'], { env: { CLAUDE_CONFIG_DIR: env.CLAUDE_CONFIG_DIR, CODEX_HOME: env.CODEX_HOME } });
    const after = await json('/api/dashboard/summary?scope=local');
    expect(after.totals.totalTokens).toBeGreaterThan(before.totals.totalTokens);
    // (Its alpha replies reuse the toy ids msg_a1/msg_a2 of a fixture already in this store, so under
    // the billing rule they are that fixture's responses, dated by its earlier lines; beta's are new.)
    expect(after.projects.map((p: any) => p.project)).toContain('-home-me-beta');
    expectSameTotals(after.totals, (await json('/api/reports/daily?scope=local')).totals);

    // And a write through the served connection itself.
    const root = tempDir('su-web-own-');
    const cwd = '/home/me/delta';
    const session = '44444444-4444-4444-8444-444444444444';
    const file = join(root, 'claude', 'projects', '-home-me-delta', `${session}.jsonl`);
    mkdirSync(dirname(file), { recursive: true });
    const base = { sessionId: session, cwd, version: '2.0.0', isSidechain: false, parentUuid: null };
    writeFileSync(
      file,
      [
        { ...base, type: 'user', uuid: 'd0000000-0000-4000-8000-000000000001', timestamp: '2026-03-05T10:00:00.000Z', message: { role: 'user', content: 'delta' } },
        {
          ...base, type: 'assistant', uuid: 'd0000000-0000-4000-8000-000000000002', timestamp: '2026-03-05T10:00:04.000Z', requestId: 'req_d1',
          message: { id: 'msg_d1', type: 'message', role: 'assistant', model: 'claude-haiku-4-5-20251001', content: [{ type: 'text', text: 'ok' }], usage: { input_tokens: 7, output_tokens: 3, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 } },
        },
      ].map((l) => JSON.stringify(l)).join('\n') + '\n',
    );
    await ingest(db, { adapters: [...ADAPTERS], env: { ...t.laptop.env, CLAUDE_CONFIG_DIR: join(root, 'claude'), CODEX_HOME: join(root, 'codex') } });
    const third = await json('/api/dashboard/summary?scope=local');
    expect(third.totals.totalTokens).toBe(after.totals.totalTokens + 10);
    expect(third.projects.map((p: any) => p.project)).toContain('-home-me-delta');
    expectSameTotals(third.totals, (await json('/api/reports/daily?scope=local')).totals);
  });
});

describe('GET /api/dashboard/sessions', () => {
  it('lists the sessions of /api/sessions, most recent first, with the same usage', async () => {
    for (const scope of ['all', 'local', 'device:desktop']) {
      for (const range of ['', '&since=2025-11-01&until=2025-12-31']) {
        const mine = await json(`/api/dashboard/sessions?scope=${scope}${range}&limit=500`);
        const theirs = await json(`/api/sessions?scope=${scope}${range}`);
        expect(mine.total, scope + range).toBe(theirs.sessions.length);
        expect(mine.sessions.map((s: any) => s.sessionId)).toEqual(theirs.sessions.map((s: any) => s.sessionId));
        const holders = db.prepare('SELECT device_id FROM sessions WHERE provider = ? AND session_id = ? ORDER BY device_id').pluck();
        for (const [i, s] of mine.sessions.entries()) {
          const o = theirs.sessions[i];
          const where = `${scope}${range} ${s.sessionId}`;
          expect([s.provider, s.project, s.lastTimestamp, s.lastActivity, s.totalTokens, s.modelsUsed, s.unpricedModels], where).toEqual([
            o.provider, o.project, o.lastTimestamp, o.lastActivity, o.totalTokens, o.modelsUsed, o.unpricedModels,
          ]);
          expect(close(s.totalCost, o.totalCost), where).toBe(true);
          // Every device holding a copy, where /api/sessions names the devices whose copies won.
          const held = (holders.all(s.provider, s.sessionId) as string[]).filter((d) => scope === 'all' || o.deviceIds.includes(d));
          expect(s.deviceIds, where).toEqual(held);
          for (const d of o.deviceIds) expect(s.deviceIds, where).toContain(d);
        }
        if (scope === 'all' && range === '') {
          const both = mine.sessions.filter((s: any) => s.deviceIds.length === 2);
          expect(both.length, 'the shared project\'s sessions are on two devices').toBeGreaterThan(0);
          expect(both.every((s: any) => s.project === SHARED_PROJECT)).toBe(true);
        }
      }
    }
    const few = await json('/api/dashboard/sessions?scope=all&limit=3');
    expect(few.sessions).toHaveLength(3);
    expect(few.total).toBeGreaterThan(3);
  });
});

describe('GET /api/devices', () => {
  it('lists every device with its events, last sync and conflicts, and this machine\'s sync status', async () => {
    const d = await json('/api/devices');
    expect(d.devices.map((x: any) => [x.name, x.deviceId, x.local])).toEqual([
      ['laptop', t.ids.laptop, true],
      ['desktop', t.ids.desktop, false],
      ['devbox', t.ids.devbox, false],
    ]);
    const count = db.prepare('SELECT COUNT(*) FROM events WHERE device_id = ?').pluck();
    for (const x of d.devices) expect(x.events, x.name).toBe(count.get(x.deviceId));
    // The shared project's events exist on the laptop and on devbox: those are the conflicts.
    const shared = db.prepare(`SELECT COUNT(*) FROM events a JOIN events b ON a.uid_bytes = b.uid_bytes AND a.device_id < b.device_id`).pluck().get() as number;
    expect(shared).toBeGreaterThan(0);
    const by = Object.fromEntries(d.devices.map((x: any) => [x.name, x.conflicts]));
    expect(by).toEqual({ laptop: shared, desktop: 0, devbox: shared });
    expect(d.sync).toMatchObject({ enabled: true, deviceName: 'laptop', enableCommand: null, conflictCount: shared, pendingEvents: expect.any(Number) });
    expect(d.sync.bucket).toMatch(/^file:\/\//);
    for (const peer of d.devices.filter((x: any) => !x.local)) {
      expect(Date.parse(peer.lastPulled)).toBeGreaterThan(0);
      expect(Date.parse(peer.lastPush)).toBeGreaterThan(0);
    }
    // Nothing secret: not the key (in the laptop's key file, and in the others' environment).
    const text = JSON.stringify(d);
    expect(text).not.toMatch(/AGE-SECRET-KEY/i);
    expect(text).not.toContain(t.desktop.env.STACKUNDERFLOW_SYNC_KEY);
  });

  it('says sync is off, with the command that turns it on, on a store that never synced', async () => {
    const solo = new Device('solo');
    solo.addClaudeProjects('-app');
    await solo.ingest();
    const sdb = openDb(solo.storeFile);
    try {
      const sapp = createApp({ db: sdb, bind: { host: '127.0.0.1', port: 8081 }, env: solo.env });
      const d = await (await sapp.request(`http://${HOST}/api/devices`, { headers: { host: HOST } })).json();
      expect(d.sync).toMatchObject({ enabled: false, bucket: null, enableCommand: 'stackunderflow sync init --bucket s3://BUCKET[/prefix]' });
      expect(d.devices).toHaveLength(1);
      expect(d.devices[0]).toMatchObject({ local: true, conflicts: 0, lastPulled: null });
    } finally {
      sdb.close();
    }
  });
});

describe('the page routes', () => {
  it('serves the page with a strict Content-Security-Policy and no inline script', async () => {
    const res = await get('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self';");
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await res.text();
    expect(html).toBe(readFileSync(join(WEB_ROOT, 'index.html'), 'utf8'));
    for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
      expect(m[1]).toMatch(/src="\/assets\//);
      expect(m[2].trim()).toBe('');
    }
    expect(html).not.toMatch(/\son\w+=|style=|https?:\/\//);
  });

  it('serves its assets with their content types, and nothing else', async () => {
    const types: Record<string, string> = {
      'app.js': 'text/javascript; charset=utf-8',
      'uPlot.esm.js': 'text/javascript; charset=utf-8',
      'styles.css': 'text/css; charset=utf-8',
      'uPlot.min.css': 'text/css; charset=utf-8',
      'icon.svg': 'image/svg+xml',
    };
    for (const [name, type] of Object.entries(types)) {
      const res = await get(`/assets/${name}`);
      expect(res.status, name).toBe(200);
      expect(res.headers.get('content-type'), name).toBe(type);
    }
    const app = await (await get('/assets/app.js')).text();
    expect(app).toContain("from './uPlot.esm.js'");
    expect(app).not.toMatch(/\beval\(|new Function\(|innerHTML|https?:\/\//);
    for (const bad of ['/assets/nope.js', '/assets/..%2Fpackage.json', '/assets/.hidden', '/assets/app.js.tmp-1', '/index.html', '/assets/app.js?x=1']) {
      const res = await get(bad);
      expect(res.status, bad).toBeGreaterThanOrEqual(400);
      expect(res.status, bad).toBeLessThan(500);
    }
  });

  it('applies the API\'s Host guard and read-only rule to the page', async () => {
    expect((await get('/', { headers: { host: 'evil.example:8081' } })).status).toBe(403);
    expect((await get('/assets/app.js', { headers: { host: 'localhost.evil.example:8081' } })).status).toBe(403);
    expect((await get('/', { method: 'POST' })).status).toBe(400);
  });

  it('tells how to build the page when it is not built', async () => {
    const bare = new Hono();
    bare.route('/', webRoutes({ db, storePath: '', version: '', env: {} }, join(tempDir('su-noweb-'), 'web/')));
    bare.onError((err, c) => {
      const { status, body } = errorResponse(err);
      return c.json(body, status);
    });
    const res = await bare.request('http://x/');
    expect(res.status).toBe(404);
    expect((await res.json()).error.hint).toMatch(/npm run build/);
  });
});
