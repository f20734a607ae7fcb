/**
 * Secrets (spec §3.2): after a full init / key export / ingest / push /
 * pull / status / verify cycle on two devices, the sync key (and its recipient, which v1
 * treats as secret too) appears nowhere but where it must: the key file, the init box and
 * `sync key export`. Not in the store file or its WAL, not in the bucket, not in any --json
 * output or any other command's stdout/stderr (errors included), not in the API.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../src/api/app.js';
import { openDb, type Db } from '../../../src/store/db.js';
import { Identity } from '../../../src/sync/crypto.js';
import { Device, fileBucket, transcript, type RunResult } from '../../helpers/devices.js';

const a = new Device('a');
const b = new Device('b');
const bucket = fileBucket();
let key: string;
let recipient: string;
let otherKey: string;
/** Held open through the cycle so SQLite keeps its WAL file for us to read. */
let holder: Db;
const allowed = new Set<RunResult>();
const HOST = '127.0.0.1:8081';

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : []));
}

/** Every needle that must not appear, in the encodings a leak could take. */
function forms(s: string): string[] {
  return [s, s.toLowerCase(), Buffer.from(s).toString('base64'), Buffer.from(s).toString('hex')];
}

function expectClean(what: string, text: string | Buffer): void {
  const hay = typeof text === 'string' ? text : text.toString('latin1');
  for (const secret of [key, recipient, otherKey]) for (const f of forms(secret)) expect(hay.includes(f), `${what} contains a secret`).toBe(false);
}

beforeAll(async () => {
  a.addClaudeProjects('-home-u-proj', '-repo');
  b.addClaudeProjects('-experiments-ideas');
  b.addCodexFile('sessions/2026/06/19/rollout-2026-06-19T10-00-00-sample-session.jsonl');
  for (const d of [a, b]) await d.ingest();
  holder = openDb(a.storeFile);

  const init = await a.ok(['sync', 'init', '--bucket', bucket.url, '--device-name', 'a']);
  allowed.add(init);
  const exported = await a.ok(['sync', 'key', 'export']);
  allowed.add(exported);
  key = exported.stdout.trim();
  recipient = await (await Identity.parse(key)).recipient();
  const spare = new Device('spare');
  const spareInit = await spare.ok(['sync', 'init', '--bucket', fileBucket().url]);
  const spareExport = await spare.ok(['sync', 'key', 'export']);
  allowed.add(spareInit).add(spareExport);
  otherKey = spareExport.stdout.trim();
  expect(otherKey).not.toBe(key);

  b.env.STACKUNDERFLOW_SYNC_KEY = key;
  await b.json(['sync', 'init', '--bucket', bucket.url, '--device-name', 'b']);
  for (const d of [a, b]) {
    await d.ok(['sync', 'push']);
    await d.json(['sync', 'push']);
  }
  for (const d of [a, b]) {
    await d.ok(['sync', 'pull']);
    await d.json(['sync', 'pull']);
    await d.ok(['sync', 'status']);
    await d.json(['sync', 'status']);
    await d.json(['sync', 'status', '--remote']);
    await d.ok(['sync', 'verify']);
    await d.json(['sync', 'verify']);
    await d.json(['report', 'daily', '--scope', 'all', '--by-device']);
    await d.json(['sessions', '--scope', 'all']);
  }
  // Failures print messages too: a wrong key, a broken key, a refused re-init.
  for (const k of [otherKey, key.slice(0, -1) + (key.endsWith('Q') ? 'P' : 'Q')]) {
    expect((await b.run(['sync', 'pull'], { env: { STACKUNDERFLOW_SYNC_KEY: k } })).code).toBe(2);
    expect((await b.run(['sync', 'push', '--json'], { env: { STACKUNDERFLOW_SYNC_KEY: k } })).code).toBe(2);
  }
  expect((await a.run(['sync', 'init', '--bucket', bucket.url], { env: { STACKUNDERFLOW_SYNC_KEY: otherKey } })).code).toBe(2);
  expect((await a.run(['sync', 'key', 'export', '--json'])).code).toBe(64);
});

afterAll(() => holder?.close());

describe('the sync key stays secret', () => {
  it('it was shown where it must be: the init box (once) and key export', () => {
    const [init, exported] = [...allowed];
    expect(init.stdout.split(key).length - 1).toBe(1);
    expect(init.stdout).toMatch(/SHOWN ONCE/);
    expect(exported.stdout).toBe(key + '\n');
    expect(exported.stderr).not.toContain(key); // once, on stdout only
    expect(key).toMatch(/^AGE-SECRET-KEY-1[0-9A-Z]{58}$/);
  });

  it('not in any other output of any command, --json or not, errors included', () => {
    const others = transcript.filter((r) => !allowed.has(r));
    expect(others.length).toBeGreaterThan(30);
    expect(others.some((r) => r.stderr.includes('error:'))).toBe(true);
    for (const r of others) {
      expectClean(`${r.device}: ${r.argv.join(' ')} stdout`, r.stdout);
      expectClean(`${r.device}: ${r.argv.join(' ')} stderr`, r.stderr);
    }
  });

  it('not in the store, its WAL, or anything else under STACKUNDERFLOW_HOME but the key file', () => {
    expect(statSync(a.storeFile + '-wal').size).toBeGreaterThan(0);
    for (const d of [a, b]) {
      const all = files(d.home);
      expect(all).toContain(d.storeFile);
      for (const f of all) {
        if (f === join(d.syncDir, 'identity.txt')) continue;
        expectClean(f, readFileSync(f));
      }
    }
    // The joining device took its key from the environment and wrote no key file.
    expect(files(b.home).some((f) => f.includes('identity'))).toBe(false);
    // The key file holds the key (that is its job) and is private.
    expect(readFileSync(join(a.syncDir, 'identity.txt'), 'utf8')).toContain(key);
    expect(statSync(join(a.syncDir, 'identity.txt')).mode & 0o077).toBe(0);
  });

  it('not in the bucket', () => {
    const all = files(bucket.dir);
    expect(all.filter((f) => f.endsWith('.age')).length).toBeGreaterThanOrEqual(4);
    for (const f of all) expectClean(f, readFileSync(f));
  });

  it('not in the API, and /api/sync/status is what `sync status --json` prints', async () => {
    const db = openDb(a.storeFile);
    try {
      const app = createApp({ db, bind: { host: '127.0.0.1', port: 8081 }, env: a.env });
      const get = async (path: string) => {
        const res = await app.request(`http://${HOST}${path}`, { headers: { host: HOST } });
        expect(res.status, path).toBe(200);
        return res.text();
      };
      const health = await get('/api/health');
      expect(JSON.parse(health).ok).toBe(true);
      expectClean('/api/health', health);
      const status = await get('/api/sync/status');
      expectClean('/api/sync/status', status);
      expect(JSON.parse(status)).toEqual(await a.json(['sync', 'status']));
      expect(JSON.parse(status).peers).toHaveLength(1);
      expectClean('/api/reports/daily', await get('/api/reports/daily?scope=all'));
    } finally {
      db.close();
    }
  });
});
