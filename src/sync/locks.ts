/**
 * The two locks of sync, with one set of timings. The loop lock lets one sync loop run per
 * store (a `sync daemon` or the loop inside `serve`); the sync lock lets one bucket operation
 * (push, pull, compact, prune) run at a time per device. A lock left by a process that no
 * longer exists is taken over at once instead of after its stale time.
 */
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import lockfile from 'proper-lockfile';
import { SuError } from '../errors.js';
import { syncDir } from '../paths.js';
import { privateDir } from '../store/private.js';
import { daemonPaths, readJson, writeJsonAtomic, type LoopMode, type PidFile } from './loop-files.js';

/**
 * The loop lock: its holder refreshes it every LOOP_LOCK.updateMs; one that stopped refreshing
 * for LOOP_LOCK.staleMs is gone. A dead holder whose pid file names it is detected at once.
 */
const LOOP_LOCK = { staleMs: 20_000, updateMs: 2_000 } as const;
/** The sync lock: held across a whole push or pull, refreshed every updateMs by a live holder. */
const SYNC_LOCK = { staleMs: 30_000, updateMs: 5_000 } as const;
/** Slack for a refresh that comes late on a loaded machine. */
const REFRESH_SLACK_MS = 2_000;

/** True when a process with this pid exists (EPERM: it exists, owned by someone else). */
export function pidAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readPidFile(env: NodeJS.ProcessEnv): PidFile | null {
  const p = readJson<PidFile>(daemonPaths(env).pid);
  return p && typeof p.pid === 'number' ? p : null;
}

function lockOptions(env: NodeJS.ProcessEnv) {
  return { lockfilePath: daemonPaths(env).lock, realpath: false, stale: LOOP_LOCK.staleMs } as const;
}

/** The lock held by the running loop; `release()` also removes the pid file. */
export interface LoopLease {
  pid: number;
  mode: LoopMode;
  release(): Promise<void>;
}

/**
 * Takes the single-instance lock for the sync loop and writes the pid file. Returns the
 * current holder instead when another live loop has it. A lock left by a process that no
 * longer exists (kill -9, crash) is taken over at once rather than after the stale time.
 * `onLost` runs if the lock is later compromised (its directory removed, or not refreshed).
 */
export async function acquireLoopLock(
  env: NodeJS.ProcessEnv,
  mode: LoopMode,
  onLost: (err: Error) => void = () => undefined,
): Promise<{ lease: LoopLease } | { holder: { pid: number | null; mode: LoopMode | null } }> {
  const paths = daemonPaths(env);
  privateDir(dirname(paths.lock));
  const target = join(dirname(paths.lock), 'daemon');
  for (let attempt = 0; ; attempt++) {
    try {
      const release = await lockfile.lock(target, { ...lockOptions(env), update: LOOP_LOCK.updateMs, retries: 0, onCompromised: onLost });
      const pid: PidFile = { pid: process.pid, mode, startedAt: new Date().toISOString() };
      writeJsonAtomic(paths.pid, pid);
      return {
        lease: {
          pid: process.pid,
          mode,
          async release() {
            const cur = readPidFile(env);
            if (cur?.pid === process.pid) rmSync(paths.pid, { force: true });
            rmSync(paths.op, { force: true });
            await release().catch(() => undefined);
          },
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
      const holder = readPidFile(env);
      if (attempt < 5 && holder && holder.pid !== process.pid && !pidAlive(holder.pid)) {
        // The pid file names a process that is gone: its lock is dead. (A loop that took the
        // lock a moment ago and has not yet written its pid file would lose it here; it
        // notices at its next refresh, through onCompromised, and stops: still one loop.)
        rmSync(paths.lock, { recursive: true, force: true });
        continue;
      }
      return { holder: { pid: holder?.pid ?? null, mode: holder?.mode ?? null } };
    }
  }
}

/** Whether a loop is running now (its lock is held and fresh, and its pid is alive). */
export function loopRunning(env: NodeJS.ProcessEnv = process.env): { running: boolean; pid: number | null; mode: LoopMode | null; startedAt: string | null } {
  const pf = readPidFile(env);
  let locked: boolean;
  try {
    locked = lockfile.checkSync(join(dirname(daemonPaths(env).lock), 'daemon'), lockOptions(env));
  } catch {
    locked = false;
  }
  if (!locked || !pf || !pidAlive(pf.pid)) return { running: false, pid: null, mode: null, startedAt: null };
  return { running: true, pid: pf.pid, mode: pf.mode, startedAt: pf.startedAt };
}

/**
 * One sync operation at a time per device: push and pull both take this lock, so two
 * processes never interleave spool or cursor updates. Beside the lock, `sync.lock.owner`
 * says which process holds it: a lock left by a process of this host that no longer exists
 * (SIGKILL, OOM kill, power cut) is taken over at once, restic's rule, instead of after the
 * staleness; a live holder is named in the message.
 */
export async function withSyncLock<T>(env: NodeJS.ProcessEnv, fn: () => Promise<T>): Promise<T> {
  const dir = syncDir(env);
  privateDir(dir);
  const file = join(dir, 'sync.lock');
  const ownerFile = join(dir, 'sync.lock.owner');
  const opts = { realpath: false, stale: SYNC_LOCK.staleMs, update: SYNC_LOCK.updateMs };
  const take = (retries: number) => lockfile.lock(file, { ...opts, retries: retries === 0 ? 0 : { retries, minTimeout: 100, maxTimeout: 500 } });
  let release: () => Promise<void>;
  try {
    try {
      release = await take(0);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== 'ELOCKED') throw cause;
      const owner = readLockOwner(ownerFile);
      if (owner && owner.host === hostname() && !pidAlive(owner.pid) && readLockOwner(ownerFile)?.pid === owner.pid) {
        rmSync(`${file}.lock`, { recursive: true, force: true });
        rmSync(ownerFile, { force: true });
        release = await take(0);
      } else {
        release = await take(20);
      }
    }
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ELOCKED') {
      const owner = readLockOwner(ownerFile);
      const who = owner ? ` (process ${owner.pid} on ${owner.host === hostname() ? 'this machine' : owner.host}, since ${owner.since})` : '';
      throw new SuError('LOCKED', `another stackunderflow sync is running on this device${who}`, {
        hint: 'wait for it to finish (or stop `stackunderflow sync daemon`), then try again',
        cause,
      });
    }
    throw cause;
  }
  try {
    writeFileSync(ownerFile, JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() }) + '\n', { mode: 0o600 });
    return await fn();
  } finally {
    rmSync(ownerFile, { force: true });
    await release().catch(() => undefined);
  }
}

function readLockOwner(path: string): { pid: number; host: string; since: string } | null {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as { pid?: unknown; host?: unknown; since?: unknown };
    return Number.isSafeInteger(v.pid) && typeof v.host === 'string' ? { pid: v.pid as number, host: v.host, since: typeof v.since === 'string' ? v.since : '?' } : null;
  } catch {
    return null;
  }
}

/** Marks that this process is inside a push/pull/prune (which hold the sync lock). */
export function markOp(env: NodeJS.ProcessEnv, op: string | null): void {
  const path = daemonPaths(env).op;
  if (op === null) rmSync(path, { force: true });
  else writeJsonAtomic(path, { pid: process.pid, op, at: new Date().toISOString() });
}

/**
 * After a loop was killed inside a push or pull, the sync lock it held stays until it goes
 * stale. The loop calls this before each bucket step and on LOCKED, while holding the
 * loop lock: when `daemon.op` names a process that no longer exists, the sync lock is that
 * process's and is removed — at once while the marker is younger than the sync lock's stale
 * time (no other process can have taken a lock that was never stale), later only once the
 * lock has not been refreshed for longer than a live holder's refresh period. Returns
 * whether it removed a lock.
 */
export function breakDeadSyncLock(env: NodeJS.ProcessEnv, now = Date.now()): boolean {
  const paths = daemonPaths(env);
  const op = readJson<{ pid: number }>(paths.op);
  if (!op || op.pid === process.pid || pidAlive(op.pid)) return false;
  const syncLock = join(syncDir(env), 'sync.lock.lock');
  let markerAge: number;
  let lockAgeMs: number;
  try {
    markerAge = now - statSync(paths.op).mtimeMs;
    lockAgeMs = now - statSync(syncLock).mtimeMs;
  } catch {
    rmSync(paths.op, { force: true });
    return false;
  }
  // An old marker: the lock may since have been taken by a live process, which refreshes it.
  if (markerAge >= SYNC_LOCK.staleMs - SYNC_LOCK.updateMs && lockAgeMs < SYNC_LOCK.updateMs + REFRESH_SLACK_MS) return false;
  rmSync(syncLock, { recursive: true, force: true });
  rmSync(paths.op, { force: true });
  return true;
}
