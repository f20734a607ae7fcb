/**
 * The files a running sync loop keeps beside the store, and the state it publishes in them
 * for `sync status`:
 *
 * ```
 * $STACKUNDERFLOW_HOME/sync/daemon.lock     proper-lockfile directory: held by the one running loop
 * $STACKUNDERFLOW_HOME/sync/daemon.pid      {"pid":…, "mode":"daemon"|"serve", "startedAt":…}
 * $STACKUNDERFLOW_HOME/sync/daemon.json     the loop's schedule and counters, for `sync status`
 * $STACKUNDERFLOW_HOME/sync/daemon.op       {"pid":…, "op":…} while the loop runs a push/pull/prune
 * $STACKUNDERFLOW_HOME/logs/sync-daemon.log the detached daemon's stdout and stderr
 * ```
 *
 * Kept free of heavy imports: `sync status` and the API read from here.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { homeDir, syncDir } from '../paths.js';
import { privateDir } from '../store/private.js';

/** Where the loop keeps its files. */
export function daemonPaths(env: NodeJS.ProcessEnv = process.env) {
  const sync = syncDir(env);
  const logs = join(homeDir(env), 'logs');
  return {
    lock: join(sync, 'daemon.lock'),
    pid: join(sync, 'daemon.pid'),
    state: join(sync, 'daemon.json'),
    op: join(sync, 'daemon.op'),
    logDir: logs,
    log: join(logs, 'sync-daemon.log'),
  };
}

/** Who runs the loop: a detached/foreground `sync daemon`, or `serve` in-process. */
export type LoopMode = 'daemon' | 'serve';

export interface PidFile {
  pid: number;
  mode: LoopMode;
  startedAt: string;
}

export function writeJsonAtomic(path: string, value: unknown): void {
  privateDir(dirname(path));
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(value) + '\n', { mode: 0o600 });
  renameSync(tmp, path);
}

export function readJson<T>(path: string): T | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return null;
  }
}

/** What the running loop publishes about itself, for `sync status`. */
export interface LoopState {
  pid: number;
  mode: LoopMode;
  startedAt: string;
  updatedAt: string;
  /** ISO times, or null when nothing is scheduled. */
  nextPushAt: string | null;
  nextPullAt: string | null;
  nextPruneAt: string | null;
  /** Non-null while backing off after failures. */
  backoff: { failures: number; delayMs: number; until: string } | null;
  active: boolean;
  lastError: { time: string; op: string; code: string; message: string } | null;
  /** Peers whose objects failed verification: skipped until their manifest changes (and retried daily). */
  quarantined?: Array<{ device: string; since: string; code: string; message: string }>;
  counters: Record<string, number>;
}

/** Publishes the loop's state for `sync status` (atomic replace). */
export function writeLoopState(env: NodeJS.ProcessEnv, s: LoopState): void {
  writeJsonAtomic(daemonPaths(env).state, s);
}

/** The last state a loop published, or null. Check {@link loopRunning} before trusting it. */
export function readLoopState(env: NodeJS.ProcessEnv): LoopState | null {
  return readJson<LoopState>(daemonPaths(env).state);
}
