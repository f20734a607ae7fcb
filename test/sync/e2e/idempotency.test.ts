/**
 * Idempotency (spec §7.2, §8.1 request counts): counted at a proxy in front
 * of s3rver. Push with nothing new sends no request at all; pull with nothing new only lists;
 * one new event costs at most two PUTs (segment + manifest) and one segment GET on the
 * other side; `sync status` never touches the network.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Device, setupSync } from '../../helpers/devices.js';
import { startS3rver, type RunningS3 } from '../../helpers/s3servers.js';
import { startFaultProxy, type FaultProxy, type ProxiedRequest } from '../../helpers/faultproxy.js';

let s3: RunningS3;
let proxy: FaultProxy;
const e = new Device('e');
const f = new Device('f');

const isList = (r: ProxiedRequest) => r.method === 'GET' && /[?&]list-type=2/.test(r.url);
const isSegment = (r: ProxiedRequest) => r.url.includes('/seg/');
const isManifest = (r: ProxiedRequest) => r.url.includes('/manifest.age');
const summary = () => proxy.requests.map((r) => `${r.method} ${r.url}`);

/** One new Claude Code record in a new session file. */
function appendOneEvent(d: Device, n: number): void {
  const dir = join(d.claudeDir, 'projects', '-home-me-fresh');
  mkdirSync(dir, { recursive: true });
  const session = `0000000${n}-0000-4000-8000-000000000000`;
  const line = {
    type: 'user', uuid: `1111111${n}-0000-4000-8000-000000000000`, parentUuid: null, sessionId: session, timestamp: `2026-03-0${n}T10:00:00.000Z`,
    cwd: '/home/me/fresh', version: '2.0.0', isSidechain: false, message: { role: 'user', content: `new work ${n}` },
  };
  writeFileSync(join(dir, `${session}.jsonl`), JSON.stringify(line) + '\n');
}

beforeAll(async () => {
  s3 = await startS3rver();
  process.env.AWS_ACCESS_KEY_ID = s3.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = s3.secretAccessKey;
  proxy = await startFaultProxy(s3.endpoint);
  await setupSync(['--bucket', `s3://${s3.bucket}/idem`, '--endpoint', proxy.url, '--region', s3.region], e, f);
  e.addClaudeProjects('-home-u-proj');
  f.addClaudeProjects('-repo');
  for (const d of [e, f]) {
    await d.ingest();
    await d.ok(['sync', 'push']);
  }
  for (const d of [e, f]) await d.ok(['sync', 'pull']);
});

afterAll(async () => {
  await proxy?.close();
  await s3?.stop();
});

describe('request counts at the bucket', () => {
  it('push with nothing new: no request of any kind', async () => {
    for (const d of [e, f]) {
      proxy.reset();
      const r = await d.ok(['sync', 'push']);
      expect(r.stdout).toMatch(/Nothing to push/);
      expect(summary()).toEqual([]);
      expect((await d.json(['sync', 'push'])).generation).toBeNull();
      expect(summary()).toEqual([]);
    }
  });

  it('sync status is local; only --remote lists the bucket', async () => {
    proxy.reset();
    await e.ok(['sync', 'status']);
    await e.json(['sync', 'status']);
    expect(summary()).toEqual([]);
    const remote = await e.json(['sync', 'status', '--remote']);
    expect(proxy.requests.length).toBeGreaterThan(0);
    expect(proxy.requests.every(isList)).toBe(true);
    expect(remote.remote.devices.map((d: any) => d.id).sort()).toEqual([e.id, f.id].sort());
  });

  it('pull with nothing new: one LIST, no GET of any object', async () => {
    for (const d of [e, f]) {
      proxy.reset();
      const r = await d.json(['sync', 'pull']);
      expect(r.landedEvents).toBe(0);
      expect(r.peers.map((p: any) => p.outcome)).toEqual(['current']);
      expect(summary()).toHaveLength(1);
      expect(isList(proxy.requests[0])).toBe(true);
    }
  });

  it('one new event: two PUTs to push it, one segment GET to pull it, then quiet again', async () => {
    appendOneEvent(f, 1);
    expect(JSON.parse((await f.ok(['ingest', '--json'])).stdout).events.inserted).toBe(1);

    proxy.reset();
    const pushed = await f.json(['sync', 'push']);
    expect(pushed).toMatchObject({ stagedEvents: 1, uploadedSegments: 1, generation: 2 });
    const puts = proxy.requests.filter((r) => r.method === 'PUT');
    expect(puts.length, summary().join('\n')).toBeLessThanOrEqual(2);
    expect(puts.filter(isSegment)).toHaveLength(1);
    expect(puts.filter(isManifest)).toHaveLength(1);
    // Besides the PUTs at most a read of our own manifest (s3rver has no conditional writes).
    expect(proxy.requests.length, summary().join('\n')).toBeLessThanOrEqual(3);
    expect(proxy.requests.filter(isList)).toHaveLength(0);

    proxy.reset();
    const pulled = await e.json(['sync', 'pull']);
    expect(pulled.landedEvents).toBe(1);
    expect(proxy.requests.filter(isList)).toHaveLength(1);
    expect(proxy.requests.filter((r) => r.method === 'GET' && isSegment(r))).toHaveLength(1);
    expect(proxy.requests.filter((r) => r.method === 'GET' && isManifest(r))).toHaveLength(1);
    expect(proxy.requests.filter((r) => r.method !== 'GET')).toHaveLength(0);
    expect(proxy.requests).toHaveLength(3);

    proxy.reset();
    await f.json(['sync', 'push']);
    await e.json(['sync', 'pull']);
    expect(proxy.requests.filter((r) => !isList(r))).toEqual([]);
  });

  it('pulling twice lands once: the store is the same after a repeated pull', async () => {
    appendOneEvent(e, 2);
    await e.ingest();
    await e.ok(['sync', 'push']);
    const first = await f.json(['sync', 'pull']);
    expect(first.landedEvents).toBe(1);
    const count = () => f.withDb((db) => db.prepare('SELECT COUNT(*) FROM events').pluck().get());
    const before = count();
    proxy.reset();
    expect((await f.json(['sync', 'pull'])).landedEvents).toBe(0);
    expect(count()).toBe(before);
    expect(proxy.requests.filter(isSegment)).toHaveLength(0);
  });
});
