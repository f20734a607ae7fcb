/**
 * `sync auto --enable / --disable / --status` and `sync daemon` as a user runs them: a real
 * detached daemon process, its pid file and log, one loop per store whatever is started twice
 * (enable, daemon, serve), and auto=off that sticks.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Device, fileBucket, setupSync } from '../../helpers/devices.js';
import { defaultLauncher } from '../../../src/sync/daemon.js';
import { loopRunning, pidAlive } from '../../../src/sync/locks.js';
import { hostSyncInServe } from '../../../src/sync/host.js';
import { appendClaude, hasRecord, until } from './helpers.js';

const launcher = defaultLauncher();

/** Runs `stackunderflow sync daemon` as a child and waits for it to exit (or gives up after `ms`). */
async function daemonOnce(d: Device, ms = 30_000): Promise<{ code: number | null; out: string }> {
  const child = spawn(launcher.command, launcher.args, { cwd: launcher.cwd, env: d.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (out += c));
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, out };
}

describe('sync auto', () => {
  const d = new Device('laptop');
  const peer = new Device('desk');
  const logFile = () => join(d.home, 'logs', 'sync-daemon.log');

  beforeAll(async () => {
    await setupSync(['--bucket', fileBucket().url], d, peer);
    await d.ok(['sync', 'auto', '--pull-interval', '0.5', '--pull-active-interval', '0.3', '--push-quiet', '0.2', '--push-max-wait', '1']);
  }, 60_000);

  afterAll(() => {
    const r = loopRunning(d.env);
    if (r.running && r.pid && r.pid !== process.pid) process.kill(r.pid, 'SIGKILL');
  });

  it('before sync init: --enable refuses with the init hint (exit 2)', async () => {
    const fresh = new Device('fresh');
    const r = await fresh.run(['sync', 'auto', '--enable']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/sync init/);
    expect((await fresh.run(['sync', 'auto', '--enable', '--disable'])).code).toBe(64);
  });

  it('--enable starts one detached daemon; enabling twice, even at once, never starts a second loop', async () => {
    const [r1, r2] = await Promise.all([d.json(['sync', 'auto', '--enable']), d.json(['sync', 'auto', '--enable'])]);
    expect(r1.pid).toBe(r2.pid);
    expect(r1.pid).not.toBe(process.pid);
    expect([r1.alreadyRunning, r2.alreadyRunning].filter((x) => x === false).length).toBeLessThanOrEqual(1);
    expect(pidAlive(r1.pid)).toBe(true);
    const again = await d.json(['sync', 'auto', '--enable']);
    expect(again).toMatchObject({ alreadyRunning: true, pid: r1.pid, mode: 'daemon' });
    // A foreground daemon refuses too.
    const second = await daemonOnce(d);
    expect(second.code).toBe(1);
    expect(second.out).toMatch(new RegExp(`already running as sync daemon \\(pid ${r1.pid}\\)`));
    await until(() => readFileSync(logFile(), 'utf8').includes('sync loop started'), 20_000, 'the log');
    const started = readFileSync(logFile(), 'utf8').match(/sync loop started/g) ?? [];
    expect(started).toHaveLength(1);
    const st = await d.json(['sync', 'status']);
    expect(st.auto).toMatchObject({ setting: 'on', running: true, pid: r1.pid, mode: 'daemon', log: logFile() });
  });

  it('the daemon picks up a new log line by itself and pushes it; the peer pulls it', async () => {
    const [uuid] = appendClaude(d, { outputTokens: 321 });
    await until(() => hasRecord(d, uuid), 20_000, 'the daemon to ingest the new line');
    await until(async () => (await d.json(['sync', 'status'])).pendingEvents === 0 && (await d.json(['sync', 'status'])).lastPushedSeq > 0, 20_000, 'the daemon to push');
    await peer.ok(['sync', 'pull']);
    expect(hasRecord(peer, uuid)).toBe(true);
    expect(readFileSync(logFile(), 'utf8')).toMatch(/push ok: 1 event\(s\)/);
  });

  it('--disable stops it (SIGTERM), removes the pid file, and keeps it off: a later `sync daemon` does not start', async () => {
    const pid = loopRunning(d.env).pid!;
    const r = await d.json(['sync', 'auto', '--disable']);
    expect(r).toMatchObject({ enabled: false, stoppedPid: pid, killed: false });
    expect(pidAlive(pid)).toBe(false);
    expect(existsSync(join(d.syncDir, 'daemon.pid'))).toBe(false);
    expect(readFileSync(logFile(), 'utf8')).toMatch(/sync loop stopped/);
    const st = await d.json(['sync', 'status']);
    expect(st.auto).toMatchObject({ setting: 'off', running: false });
    const off = await daemonOnce(d);
    expect(off.code).toBe(0);
    expect(off.out).toMatch(/Continuous sync is off/);
    expect(loopRunning(d.env).running).toBe(false);
  });

  it('serve runs the loop in-process when auto is on; --enable then starts no daemon; --disable stops serve’s loop', async () => {
    d.withDb((db) => db.prepare("UPDATE sync_settings SET value = 'on' WHERE key = 'auto'").run());
    const notices: string[] = [];
    const host = hostSyncInServe({ env: d.env, notice: (l) => void notices.push(l), pollMs: 200 });
    try {
      await until(() => loopRunning(d.env).running, 10_000, 'serve’s loop');
      expect(loopRunning(d.env)).toMatchObject({ pid: process.pid, mode: 'serve' });
      expect(notices.join('\n')).toMatch(/running in this process/);
      const before = (readFileSync(logFile(), 'utf8').match(/sync loop started \(daemon/g) ?? []).length;
      const en = await d.json(['sync', 'auto', '--enable']);
      expect(en).toMatchObject({ alreadyRunning: true, pid: process.pid, mode: 'serve' });
      expect((readFileSync(logFile(), 'utf8').match(/sync loop started \(daemon/g) ?? []).length).toBe(before);
      const [uuid] = appendClaude(d, { outputTokens: 654 });
      // Generous: this checks that serve hosts the loop, not its latency (the daemons test measures that).
      await until(() => hasRecord(d, uuid), 45_000, 'serve’s loop to ingest');
      const dis = await d.json(['sync', 'auto', '--disable']);
      expect(dis).toMatchObject({ servePid: process.pid, stoppedPid: null });
      await until(() => !loopRunning(d.env).running, 10_000, 'serve’s loop to stop');
    } finally {
      await host.stop();
    }
  });
});
