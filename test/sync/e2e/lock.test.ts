/**
 * The sync lock after a crash (spec §5.1): a lock whose owner process on this host is gone
 * (SIGKILL, OOM kill, power cut) is taken over at once, not after the 30 s staleness; a lock
 * held by a live process is refused with a message naming that process.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Device, fileBucket, setupSync } from '../../helpers/devices.js';

/** Leaves the lock exactly as a process killed inside a sync would: the lock folder and its owner file. */
function leaveLock(d: Device, pid: number): void {
  mkdirSync(join(d.syncDir, 'sync.lock.lock'), { recursive: true });
  writeFileSync(join(d.syncDir, 'sync.lock.owner'), JSON.stringify({ pid, host: hostname(), since: new Date().toISOString() }));
}

describe('the sync lock', () => {
  it('a lock left by a dead process of this host is taken over at once; a live holder is named', async () => {
    const a = new Device('a');
    const b = new Device('b');
    await setupSync(['--bucket', fileBucket().url], a, b);
    a.addClaudeProjects('-repo');
    await a.ingest();

    const dead = spawnSync('true').pid;
    leaveLock(a, dead);
    const started = Date.now();
    const r = await a.run(['sync', 'push']);
    expect(r.code, r.stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);

    const live = spawn('sleep', ['60']);
    try {
      leaveLock(a, live.pid!);
      const refused = await a.run(['sync', 'pull']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(new RegExp(`another stackunderflow sync is running on this device \\(process ${live.pid} on this machine`));
    } finally {
      live.kill('SIGKILL');
    }
  }, 30_000);
});
