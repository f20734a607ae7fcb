/**
 * Unreachable bucket (spec §7, §12): with the server stopped, or a proxy
 * answering 500s and dropping connections, push exits 3 and keeps its spool; the next push
 * uploads exactly the spooled bytes (same object names = same ciphertext) and the bucket ends
 * with each segment once. Runs against s3rver in-process, behind a TCP gate that can take the
 * port down and bring it back, and behind the fault-injecting proxy.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Device, dumpStore, setupSync, TcpGate } from '../../helpers/devices.js';
import { startS3rver, type RunningS3 } from '../../helpers/s3servers.js';
import { startFaultProxy, type FaultProxy } from '../../helpers/faultproxy.js';
import { openObjectStore, type ObjectStore } from '../../../src/sync/objectstore/index.js';
import { asSealed, Identity } from '../../../src/sync/crypto.js';
import { openManifest, type Manifest } from '../../../src/sync/codec.js';
import { manifestKey, parseDeviceKey } from '../../../src/sync/layout.js';

let s3: RunningS3;

beforeAll(async () => {
  s3 = await startS3rver();
  // The S3 client takes credentials from the standard AWS chain of this process.
  process.env.AWS_ACCESS_KEY_ID = s3.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = s3.secretAccessKey;
});

afterAll(async () => {
  await s3?.stop();
});

/** A direct view of the bucket prefix (not through the gate or the proxy). */
async function bucketView(prefix: string): Promise<ObjectStore> {
  return openObjectStore(`s3://${s3.bucket}/${prefix}`, { endpoint: s3.endpoint, region: s3.region, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
}

async function listKeys(store: ObjectStore): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of store.list('')) keys.push(o.key);
  return keys;
}

async function manifestIn(store: ObjectStore, d: Device, key: string): Promise<Manifest> {
  const got = await store.get(manifestKey(d.id));
  const id = await Identity.parse(key);
  const fp = (await d.json(['sync', 'status'])).keyFingerprint;
  return openManifest(asSealed(got.body), id, { device: d.id, keyFingerprint: fp });
}

/** Segment names in the device's outbox, from the files and from the store, which must agree. */
function spool(d: Device): string[] {
  const dir = join(d.syncDir, 'outbox');
  const files = readdirSync(dir).filter((f) => f.endsWith('.age')).map((f) => f.slice(0, -4)).sort();
  const rows = d.withDb((db) => db.prepare('SELECT name FROM sync_outbox ORDER BY name').pluck().all() as string[]);
  expect(files).toEqual(rows);
  return rows;
}

/** Checks that every object of the device is listed by its manifest exactly once, and nothing else is there. */
async function expectCleanBucket(store: ObjectStore, d: Device, key: string): Promise<Manifest> {
  const m = await manifestIn(store, d, key);
  const keys = await listKeys(store);
  const mine = keys.map((k) => parseDeviceKey(k)).filter((p) => p?.deviceId === d.id);
  const segs = mine.filter((p) => p!.type === 'segment').map((p) => (p as { name: string }).name).sort();
  expect(segs).toEqual(m.segments.map((s) => s.name).sort());
  expect(mine.length).toBe(m.segments.length + 1);
  // Nothing unexpected anywhere under the prefix: key.json and device folders only.
  for (const k of keys) expect(k === 'stackunderflow/v1/key.json' || parseDeviceKey(k) !== null, k).toBe(true);
  return m;
}

describe('server stopped', () => {
  const a = new Device('a');
  const b = new Device('b');
  const prefix = 'stopped';
  let gate: TcpGate;
  let key: string;

  beforeAll(async () => {
    gate = new TcpGate({ host: '127.0.0.1', port: Number(new URL(s3.endpoint).port) });
    await gate.up();
    key = await setupSync(['--bucket', `s3://${s3.bucket}/${prefix}`, '--endpoint', gate.url, '--region', s3.region], a, b);
    a.addClaudeProjects('-home-u-proj');
    await a.ingest();
    expect((await a.json(['sync', 'push'])).generation).toBe(1);
  });

  afterAll(async () => {
    await gate?.down();
  });

  it('push: exit 3, the spool is kept, and a second try re-sends nothing new', async () => {
    a.addClaudeProjects('-experiments-ideas');
    await a.ingest();
    await gate.down();
    const r = await a.run(['sync', 'push']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/queued/);
    const queued = spool(a);
    expect(queued.length).toBeGreaterThan(0);
    const bytes = new Map(queued.map((n) => [n, readFileSync(join(a.syncDir, 'outbox', `${n}.age`))]));
    const s = await a.json(['sync', 'status']);
    expect(s.queuedSegments.count).toBe(queued.length);
    expect(s.queuedSegments.bytes).toBe([...bytes.values()].reduce((x, v) => x + v.length, 0));
    expect(s.pendingEvents).toBeGreaterThan(0);
    expect(s.lastError).toMatchObject({ op: 'push' });

    const again = await a.run(['sync', 'push', '--json']);
    expect(again.code).toBe(3);
    expect(spool(a)).toEqual(queued);
    for (const [n, buf] of bytes) expect(readFileSync(join(a.syncDir, 'outbox', `${n}.age`))).toEqual(buf);

    // A pull meanwhile fails the same way and changes nothing.
    const before = dumpStore(b, { exclude: ['sync_log'] });
    expect((await b.run(['sync', 'pull'])).code).toBe(3);
    expect(dumpStore(b, { exclude: ['sync_log'] })).toEqual(before);

    // Back up: the spooled segments go up as they are, then the manifest.
    await gate.up();
    const pushed = await a.json(['sync', 'push']);
    expect(pushed).toMatchObject({ stagedEvents: 0, uploadedSegments: queued.length, generation: 2 });
    expect(spool(a)).toEqual([]);
    const view = await bucketView(prefix);
    const m = await expectCleanBucket(view, a, key);
    expect(m.segments.map((x) => x.name)).toEqual(expect.arrayContaining(queued));
    for (const [n, buf] of bytes) expect(Buffer.from((await view.get(`stackunderflow/v1/devices/${a.id}/seg/${n}.age`)).body)).toEqual(buf);
    const st = await a.json(['sync', 'status']);
    expect(st).toMatchObject({ pendingEvents: 0, queuedSegments: { count: 0, bytes: 0 } });

    // The other device gets everything.
    const pulled = await b.json(['sync', 'pull']);
    expect(pulled.landedEvents).toBe(a.withDb((db) => db.prepare('SELECT COUNT(*) FROM events').pluck().get()));
    expect((await b.daily(`device:${a.id}`)).daily).toEqual((await a.daily('local')).daily);
  });
});

describe('500s and dropped connections', () => {
  const c = new Device('c');
  const d = new Device('d');
  const prefix = 'flaky';
  let proxy: FaultProxy;
  let key: string;

  beforeAll(async () => {
    proxy = await startFaultProxy(s3.endpoint);
    key = await setupSync(['--bucket', `s3://${s3.bucket}/${prefix}`, '--endpoint', proxy.url, '--region', s3.region], c, d);
    c.addClaudeProjects('-home-u-proj', '-repo');
    await c.ingest();
    proxy.reset();
  });

  afterAll(async () => {
    await proxy?.close();
  });

  it('exit 3 while the bucket fails; later the same bytes go up under the same names, once', async () => {
    proxy.failNext(10, 500);
    const r1 = await c.run(['sync', 'push']);
    expect(r1.code).toBe(3);
    expect(r1.stderr).toMatch(/queued/);
    const afterFirst = proxy.requests.length;
    expect(afterFirst).toBeGreaterThanOrEqual(1);
    expect(proxy.requests.every((r) => r.outcome === 'failed')).toBe(true);
    const queued = spool(c);
    expect(queued.length).toBeGreaterThan(0);
    expect((await c.json(['sync', 'status'])).queuedSegments.count).toBe(queued.length);

    proxy.failNext(0);
    proxy.dropNext(10);
    const r2 = await c.run(['sync', 'push']);
    expect(r2.code).toBe(3);
    expect(proxy.requests.slice(afterFirst).every((r) => r.outcome === 'dropped')).toBe(true);
    expect(spool(c)).toEqual(queued);
    const afterSecond = proxy.requests.length;

    // One drop and one 503, then a healthy server: the client's own retries carry the push.
    proxy.dropNext(1);
    proxy.failNext(1, 503);
    const r3 = await c.run(['sync', 'push', '--json']);
    expect(r3.code, r3.stderr).toBe(0);
    expect(JSON.parse(r3.stdout)).toMatchObject({ stagedEvents: 0, uploadedSegments: queued.length, generation: 1 });
    expect(proxy.requests.slice(afterSecond, afterSecond + 2).map((r) => r.outcome)).toEqual(['dropped', 'failed']);
    expect(spool(c)).toEqual([]);

    // Every segment PUT of the three pushes, failed, dropped or not, carried the bytes its name hashes.
    const segPuts = proxy.requests.filter((r) => r.method === 'PUT' && r.url.includes('/seg/'));
    expect(segPuts.length).toBeGreaterThanOrEqual(3);
    const names = new Set<string>();
    for (const r of segPuts) {
      const name = /\/seg\/([0-9a-f]{64})\.age/.exec(r.url)![1];
      expect(r.bodySha256).toBe(name);
      names.add(name);
    }
    expect([...names].sort()).toEqual(queued);
    const view = await bucketView(prefix);
    const m = await expectCleanBucket(view, c, key);
    expect(m.segments.map((x) => x.name).sort()).toEqual(queued);

    const pulled = await d.json(['sync', 'pull']);
    expect(pulled.landedEvents).toBe(c.withDb((db) => db.prepare('SELECT COUNT(*) FROM events').pluck().get()));
  });
});
