/**
 * Two sync loops (in this process, one per home) against a real S3 server behind a TCP
 * gate that can take the bucket away: an event appended to a log on A shows in B's union
 * report within the configured latency; while the bucket is gone both back off, the spool
 * holds A's events, and when it returns the spool drains, nothing is lost or duplicated,
 * and the backoff resets. Also: only one loop per store.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openObjectStore } from '../../../src/sync/objectstore/index.js';
import { Device, setupSync, TcpGate } from '../../helpers/devices.js';
import { runLockedLoop } from '../../../src/sync/host.js';
import type { ActionReport, SyncLoop } from '../../../src/sync/loop.js';
import type { AutoSettings } from '../../../src/sync/settings.js';
import { appendClaude, eventKeys, hasRecord, s3Bucket, until } from './helpers.js';

/** Fast settings: what a user could configure, scaled down so the test runs in seconds. */
const FAST: Partial<AutoSettings> = {
  pullInterval: 1,
  pullActiveInterval: 0.3,
  activeWindow: 120,
  pushQuiet: 0.2,
  pushMaxWait: 1,
  backoffMin: 0.2,
  backoffMax: 1,
  rescanInterval: 60,
  pruneInterval: 3600,
  ackInterval: 3600,
};
/** Push debounce (max) + one active pull interval + ingest batching, with generous slack for a loaded machine. */
const LATENCY_BOUND_MS = 6000;

describe('two sync loops, one bucket', () => {
  let s3: Awaited<ReturnType<typeof s3Bucket>>;
  let gate: TcpGate;
  const a = new Device('a');
  const b = new Device('b');
  const loops = new Map<Device, { loop: SyncLoop; finished: Promise<void>; actions: ActionReport[]; log: string[] }>();

  async function start(d: Device) {
    const actions: ActionReport[] = [];
    const log: string[] = [];
    const r = await runLockedLoop({ env: d.env, mode: 'daemon', overrides: FAST, log: (l) => void log.push(l), onAction: (x) => void actions.push(x) });
    if ('holder' in r) throw new Error('lock held');
    loops.set(d, { loop: r.loop, finished: r.finished, actions, log });
  }

  beforeAll(async () => {
    s3 = await s3Bucket();
    gate = new TcpGate({ host: '127.0.0.1', port: Number(new URL(s3.endpoint).port) });
    await gate.up();
    await setupSync(s3.args(gate.url), a, b);
    appendClaude(a, { n: 3 });
    appendClaude(b, { n: 2 });
    await start(a);
    await start(b);
    // Start-up catch-up: each ingests its logs, pushes, and pulls the other's.
    await until(() => eventKeys(a).length === 5 && eventKeys(b).length === 5, 20_000, 'the initial exchange');
  }, 60_000);

  afterAll(async () => {
    for (const { loop, finished } of loops.values()) {
      await loop.stop();
      await finished;
    }
    await gate?.down();
    await s3?.stop();
  });

  it('an event appended to a log on A is in B’s union report within the configured latency', async () => {
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const [uuid] = appendClaude(a, { outputTokens: 1000 + i });
      const t0 = Date.now();
      await until(() => hasRecord(b, uuid), LATENCY_BOUND_MS, `event ${i} on B`, 25);
      latencies.push(Date.now() - t0);
    }
    expect(Math.max(...latencies)).toBeLessThan(LATENCY_BOUND_MS);
    const all = await b.daily('all');
    const local = async (d: Device) => (await d.daily('local')).totals.outputTokens;
    expect(all.totals.outputTokens).toBe((await local(a)) + (await local(b)));
    expect(all.totals.outputTokens).toBe(5 * 7 + (1000 + 1001 + 1002 + 1003 + 1004));
  });

  it('status shows the loop running, its schedule and its request estimate', async () => {
    const s = await a.json(['sync', 'status']);
    expect(s.auto).toMatchObject({ running: true, pid: process.pid, mode: 'daemon', backoff: null });
    expect(s.auto.nextPullAt).not.toBeNull();
    expect(s.auto.requests.idlePerMonth).toBeGreaterThan(0);
    expect(s.auto.counters.pushes).toBeGreaterThan(0);
  });

  it('a second loop on the same store does not start; `sync auto --enable` sees the running one', async () => {
    const second = await runLockedLoop({ env: a.env, mode: 'daemon', overrides: FAST });
    expect(second).toEqual({ holder: { pid: process.pid, mode: 'daemon' } });
    const enabled = await a.json(['sync', 'auto', '--enable']);
    expect(enabled).toMatchObject({ enabled: true, alreadyRunning: true, pid: process.pid });
    // The switch is recorded; turning it back off is for the CLI test (it would stop this loop).
    expect(a.withDb((db) => db.prepare("SELECT value FROM sync_settings WHERE key = 'auto'").pluck().get())).toBe('on');
    a.withDb((db) => db.prepare("DELETE FROM sync_settings WHERE key = 'auto'").run());
  });

  it('never stops on a bad log file or a bad object: logs, counts, and the good events still flow', async () => {
    const lb = loops.get(b)!;
    const store = await openObjectStore('s3://test-bucket', { endpoint: s3.endpoint, region: s3.region });
    const bogus = 'stackunderflow/v1/devices/dddddddddddddddd/manifest.age';
    await store.put(bogus, new Uint8Array(randomBytes(300)));
    const dir = join(a.claudeDir, 'projects', 'broken');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'garbage.jsonl'), '{"type":\n\u0000\u0001 not json at all\n' + randomBytes(200).toString('binary') + '\n');
    const [uuid] = appendClaude(a, { outputTokens: 5 });
    await until(() => hasRecord(b, uuid), LATENCY_BOUND_MS * 2, 'a good event past the bad ones');
    await until(() => lb.loop.counters.badObjects >= 1, 10_000, 'the bad manifest to be counted');
    expect(lb.loop.schedule!.backoffUntil).toBeNull();
    const st = await b.json(['sync', 'status']);
    expect(st.auto.running).toBe(true);
    expect(st.auto.quarantined).toMatchObject([{ device: 'dddddddddddddddd', code: 'INTEGRITY' }]);
    // Left alone while unchanged: later pulls do not fetch it again.
    const pulls = lb.loop.counters.pulls;
    const bad = lb.loop.counters.badObjects;
    await until(() => lb.loop.counters.pulls >= pulls + 2, 10_000, 'two more pulls');
    expect(lb.loop.counters.badObjects).toBe(bad);
    await store.delete([bogus]);
  });

  it('bucket gone: both back off and A spools; bucket back: the spool drains, nothing lost or twice, backoff resets', async () => {
    const la = loops.get(a)!;
    const lb = loops.get(b)!;
    await gate.down();
    const uuids = [...appendClaude(a, { n: 2, outputTokens: 50 }), ...appendClaude(a, { n: 1, outputTokens: 60 })];
    const bOnly = appendClaude(b, { n: 1, outputTokens: 70 });
    // A stages its events (the spool) and fails to upload them; both fail and back off, more than once.
    await until(() => la.loop.schedule!.failures >= 3 && lb.loop.schedule!.failures >= 3, 30_000, 'three failures in a row on both');
    const queued = a.withDb((db) => db.prepare('SELECT COUNT(*) FROM sync_outbox').pluck().get() as number);
    expect(queued).toBeGreaterThan(0);
    const st = await a.json(['sync', 'status']);
    expect(st.auto.backoff).not.toBeNull();
    expect(st.auto.backoff.failures).toBeGreaterThanOrEqual(3);
    expect(st.auto.backoff.delayMs).toBeLessThanOrEqual(1000);
    expect(st.auto.lastError.code).toBe('UNREACHABLE');
    const failedPushes = la.actions.filter((x) => x.action === 'push' && !x.ok);
    expect(failedPushes.length).toBeGreaterThan(0);
    // The delays grow, capped at backoff_max (1 s here), jittered by at most 20 %.
    const delays = la.log.filter((l) => / failed \(UNREACHABLE\)/.test(l));
    expect(delays.length).toBeGreaterThanOrEqual(3);

    await gate.up();
    await until(() => uuids.every((u) => hasRecord(b, u)), 20_000, 'A’s spooled events on B');
    await until(() => bOnly.every((u) => hasRecord(a, u)), 20_000, 'B’s event on A');
    await until(() => la.loop.schedule!.failures === 0 && lb.loop.schedule!.failures === 0 && la.loop.schedule!.backoffUntil === null, 10_000, 'the backoff to reset');
    expect(a.withDb((db) => db.prepare('SELECT COUNT(*) FROM sync_outbox').pluck().get())).toBe(0);
    // Every event on both devices, each (device, uid) once, and the union report counts each once.
    expect(eventKeys(a)).toEqual(eventKeys(b));
    expect(new Set(eventKeys(a)).size).toBe(eventKeys(a).length);
    expect(eventKeys(a, a.id)).toHaveLength(3 + 5 + 1 + 3);
    const all = await b.daily('all');
    const local = async (d: Device) => (await d.daily('local')).totals.outputTokens;
    expect(all.totals.outputTokens).toBe((await local(a)) + (await local(b)));
    const s = await a.json(['sync', 'status']);
    expect(s.auto.backoff).toBeNull();
    expect(s.auto.lastError).toBeNull();
    expect(s.pendingEvents).toBe(0);
  });
});
