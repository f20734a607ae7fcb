/**
 * kill -9 of real `stackunderflow sync daemon` processes at random moments inside push and
 * pull (and compaction), over and over, while events keep arriving on both devices. Then
 * clean daemons run until they agree: every event is on every device, none twice, and the
 * bucket verifies.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Device, setupSync } from '../../helpers/devices.js';
import { defaultLauncher } from '../../../src/sync/daemon.js';
import { appendClaude, eventKeys, s3Bucket, until } from './helpers.js';

// More under STACKUNDERFLOW_TEST_KILLS=50 (each kill costs a process start, ~2 s).
const KILLS = Number(process.env.STACKUNDERFLOW_TEST_KILLS ?? 10);
const launcher = defaultLauncher();

interface Running {
  child: ChildProcess;
  exited: Promise<number | null>;
  out: () => string;
}

describe('kill -9 during push and pull, repeatedly', () => {
  let s3: Awaited<ReturnType<typeof s3Bucket>>;
  const a = new Device('a');
  const b = new Device('b');
  const devices = [a, b];
  const written = new Map<Device, string[]>([
    [a, []],
    [b, []],
  ]);
  const running = new Map<Device, Running>();
  const killedIn: string[] = [];
  let writer: NodeJS.Timeout | null = null;

  function startDaemon(d: Device): Running {
    const child = spawn(launcher.command, launcher.args, { cwd: launcher.cwd, env: { ...d.env, ...s3.childEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const r = { child, exited, out: () => out };
    running.set(d, r);
    return r;
  }

  const readJson = (p: string) => {
    try {
      return JSON.parse(readFileSync(p, 'utf8'));
    } catch {
      return null;
    }
  };

  beforeAll(async () => {
    s3 = await s3Bucket('kill-bucket');
    await setupSync(s3.args(), a, b);
    for (const d of devices) {
      await d.ok(['sync', 'auto', '--pull-interval', '0.4', '--pull-active-interval', '0.2', '--push-quiet', '0.1', '--push-max-wait', '0.3',
        '--compact-after', '4', '--set', 'backoff_min=0.2', 'backoff_max=1', 'rescan_interval=2', 'active_window=600']);
      written.get(d)!.push(...appendClaude(d, { n: 3 }));
      startDaemon(d);
    }
    writer = setInterval(() => {
      const d = Math.random() < 0.5 ? a : b;
      written.get(d)!.push(...appendClaude(d, { n: 1 + Math.floor(Math.random() * 3) }));
    }, 100);
  }, 60_000);

  afterAll(async () => {
    if (writer) clearInterval(writer);
    for (const r of running.values()) {
      r.child.kill('SIGKILL');
      await r.exited;
    }
    await s3?.stop();
  });

  it(`survives ${KILLS} kills, then every event is on every device, once`, async () => {
    const kills = new Map<Device, number>([
      [a, 0],
      [b, 0],
    ]);
    const pidFile = (d: Device) => join(d.syncDir, 'daemon.pid');
    for (let k = 0; k < KILLS; k++) {
      const want = k % 2 === 0 ? 'push' : 'pull';
      // Whichever daemon is up (holds the single-instance lock, its pid file names it); the less-killed one first.
      const d = await until(() => {
        const up = devices.filter((x) => readJson(pidFile(x))?.pid === running.get(x)!.child.pid);
        return up.sort((x, y) => kills.get(x)! - kills.get(y)!)[0] ?? null;
      }, 30_000, `a daemon to start:\n${devices.map((x) => running.get(x)!.out()).join('\n')}`);
      kills.set(d, kills.get(d)! + 1);
      const r = running.get(d)!;
      const paths = { op: join(d.syncDir, 'daemon.op') };
      // Inside the wanted operation (the loop marks it before taking the sync lock).
      const op = await until(() => {
        const m = readJson(paths.op);
        return m?.pid === r.child.pid && (m.op === want || (want === 'push' && m.op === 'compact')) ? m.op : null;
      }, 20_000, `a ${want} on ${d.name}`, 2);
      await new Promise((res) => setTimeout(res, Math.floor(Math.random() * 60)));
      r.child.kill('SIGKILL');
      await r.exited;
      killedIn.push(`${d.name}:${op}`);
      startDaemon(d);
    }
    expect(killedIn.some((x) => x.endsWith(':push') || x.endsWith(':compact'))).toBe(true);
    expect(killedIn.some((x) => x.endsWith(':pull'))).toBe(true);
    expect(kills.get(a)).toBeGreaterThanOrEqual(3);
    expect(kills.get(b)).toBeGreaterThanOrEqual(3);

    clearInterval(writer!);
    writer = null;
    const expected = (d: Device) => written.get(d)!.length;
    const own = (d: Device, at: Device) => eventKeys(at, d.id).length;
    await until(
      () => devices.every((d) => own(d, d) === expected(d) && own(d, a) === expected(d) && own(d, b) === expected(d)),
      60_000,
      `convergence (a: ${expected(a)}, b: ${expected(b)} events)`,
      200,
    );
    for (const d of devices) {
      const r = running.get(d)!;
      r.child.kill('SIGTERM');
      expect(await r.exited).toBe(0);
      running.delete(d);
    }

    // Every appended line is an event of its device, on both devices, exactly once.
    expect(eventKeys(a)).toEqual(eventKeys(b));
    for (const d of devices) {
      const records = d.withDb((db) => db.prepare('SELECT record_id FROM events WHERE device_id = ?').pluck().all(d.id) as string[]);
      expect(records.map((r) => r.slice(0, 36)).sort()).toEqual([...written.get(d)!].sort());
    }
    const total = (expected(a) + expected(b)) * 7;
    for (const d of devices) {
      expect((await d.daily('all')).totals.outputTokens).toBe(total);
      const st = await d.json(['sync', 'status']);
      expect(st.pendingEvents).toBe(0);
      expect(st.queuedSegments.count).toBe(0);
      expect((await d.run(['sync', 'verify'])).code).toBe(0);
      expect(existsSync(join(d.syncDir, 'daemon.pid'))).toBe(false);
    }
  }, 240_000);
});
