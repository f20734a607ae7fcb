import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/api/server.js';
import { ADAPTERS } from '../../src/adapters/index.js';
import { ingest } from '../../src/ingest/index.js';
import { getMeta, openDb, type Db } from '../../src/store/db.js';
import { SuError } from '../../src/errors.js';
import { runCli } from '../../src/cli/run.js';
import { dailyReport } from '../../src/reports/index.js';
import { writeSmallLogs } from './logs.js';

/** A raw GET, so the Host header can be anything (fetch always sends the URL's). */
function rawGet(port: number, path: string, host: string, extra: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, headers: { host, ...extra }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

let dir: string;
let env: NodeJS.ProcessEnv;
let db: Db;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'su-srv-'));
  env = writeSmallLogs(dir);
  env.STACKUNDERFLOW_HOME = join(dir, 'home');
  db = openDb(join(dir, 'home', 'store.db'));
  await ingest(db, { adapters: [...ADAPTERS], env });
});
afterAll(() => db?.close());

describe('startServer', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ db, host: '127.0.0.1', port: 0, env });
  });
  afterAll(() => server?.close());

  it('listens on 127.0.0.1 with a real port and serves JSON over the wire', async () => {
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    const res = await fetch(`${server.url}/api/health`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const body = await res.json();
    expect(body).toMatchObject({ ok: true, deviceId: getMeta(db, 'device_id') });
    const daily = await (await fetch(`${server.url}/api/reports/daily?timezone=UTC`)).json();
    expect(daily).toEqual(JSON.parse(JSON.stringify(dailyReport(db, { timezone: 'UTC' }, env))));
  });

  it('applies the Host guard to the real port', async () => {
    expect((await rawGet(server.port, '/api/health', 'evil.example')).status).toBe(403);
    expect((await rawGet(server.port, '/api/health', `evil.example:${server.port}`)).status).toBe(403);
    expect((await rawGet(server.port, '/api/health', '127.0.0.1:8081')).status).toBe(403);
    const ok = await rawGet(server.port, '/api/health', `localhost:${server.port}`);
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body).ok).toBe(true);
  });

  it('refuses a second server on the same port with a usage error, and close() frees the port', async () => {
    const err = await startServer({ db, host: '127.0.0.1', port: server.port }).catch((e) => e);
    expect(err).toBeInstanceOf(SuError);
    expect(err.code).toBe('USAGE');
    expect(err.message).toContain('in use');
    const other = await startServer({ storePath: join(dir, 'home', 'store.db'), port: 0 });
    await other.close();
    await expect(fetch(`${other.url}/api/health`)).rejects.toThrow();
  });
});

describe('stackunderflow serve', () => {
  const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

  /** Runs the real CLI in a child process until it prints its URL, then hands over. */
  function serve(args: string[]) {
    const child = spawn(process.execPath, ['--import', 'tsx', main, 'serve', ...args], {
      env: { PATH: process.env.PATH, STACKUNDERFLOW_HOME: env.STACKUNDERFLOW_HOME, TZ: 'UTC' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const url = new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (c) => {
        stdout += c;
        const m = /(http:\/\/\S+):(\d+)\/api\/health/.exec(stdout);
        if (m) resolve(`${m[1]}:${m[2]}`);
      });
      child.on('exit', () => reject(new Error(`serve exited early:\n${stdout}\n${stderr}`)));
    });
    return { child, url, exited, out: () => stdout, err: () => stderr };
  }

  it('serves the store on loopback and stops cleanly on SIGTERM', async () => {
    const s = serve(['--port', '0']);
    const url = await s.url;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await (await fetch(`${url}/api/health`)).json();
    expect(health.deviceId).toBe(getMeta(db, 'device_id'));
    expect(health.events).toBeGreaterThan(0);
    expect(s.err()).not.toContain('WARNING');
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    expect(s.out()).toContain('Stopped.');
  });

  it('a non-loopback bind needs --allow-remote (exit 64 without it, nothing listens)', async () => {
    let err = '';
    const code = await runCli(['serve', '--host', '0.0.0.0', '--port', '0'], { env, stdout: { write: () => true }, stderr: { write: (s: string) => (err += s) } });
    expect(code).toBe(64);
    expect(err).toMatch(/full conversation history/);
    expect(err).toMatch(/--allow-remote/);
  });

  it('with --allow-remote: warns that full conversation text is exposed, prints a random token once, and requires it', async () => {
    const s = serve(['--host', '0.0.0.0', '--port', '0', '--allow-remote']);
    const url = await s.url;
    const port = Number(new URL(url).port);
    expect(s.err()).toContain(`WARNING: listening on 0.0.0.0:${port}, which is NOT a loopback address`);
    expect(s.err()).toMatch(/full conversation text/);
    const token = /Access token \(shown once\): (\S+)/.exec(s.out())![1];
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(s.out().split(token).length - 1).toBe(3); // the line, the dashboard link, the curl example: one printing
    expect(s.err()).not.toContain(token);
    const host = `127.0.0.1:${port}`;
    expect((await rawGet(port, '/api/health', host)).status).toBe(401);
    expect((await rawGet(port, '/api/health', host, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await rawGet(port, '/api/health', host, { authorization: `Bearer ${token}` })).status).toBe(200);
    // The dashboard link trades the token for a cookie.
    const link = await rawGet(port, `/?token=${token}`, host);
    expect(link.status).toBe(303);
    const cookie = String(link.headers['set-cookie']).split(';')[0];
    expect((await rawGet(port, '/api/health', host, { cookie })).status).toBe(200);
    // The DNS-rebinding guard still applies.
    expect((await rawGet(port, '/api/health', `rebind.evil.example:${port}`, { authorization: `Bearer ${token}` })).status).toBe(403);
    s.child.kill('SIGINT');
    expect(await s.exited).toBe(0);
  });

  it('rejects a bad --port as a usage error (exit 64) without listening', async () => {
    let err = '';
    const code = await runCli(['serve', '--port', '70000'], { env, stdout: { write: () => true }, stderr: { write: (s: string) => (err += s) } });
    expect(code).toBe(64);
    expect(err).toContain('--port wants a number from 0 to 65535');
  });
});
