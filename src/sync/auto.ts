/**
 * Continuous sync bookkeeping (docs/specs/sync-protocol-v1.md §10.4): starting and stopping
 * the detached `stackunderflow sync daemon`, the request estimate and the loop's part of status.
 *
 * Kept free of heavy imports (no AWS SDK, no age, no chokidar): `sync status` and the API
 * read from here.
 *
 * ```
 * $STACKUNDERFLOW_HOME/sync/daemon.lock     proper-lockfile directory: held by the one running loop
 * $STACKUNDERFLOW_HOME/sync/daemon.pid      {"pid":…, "mode":"daemon"|"serve", "startedAt":…}
 * $STACKUNDERFLOW_HOME/sync/daemon.json     the loop's schedule and counters, for `sync status`
 * $STACKUNDERFLOW_HOME/sync/daemon.op       {"pid":…, "op":…} while the loop runs a push/pull/prune
 * $STACKUNDERFLOW_HOME/logs/sync-daemon.log the detached daemon's stdout and stderr
 * ```
 */
import { privateDir, privateFile } from '../store/private.js';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, renameSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SuError } from '../errors.js';
import { packageRoot } from '../paths.js';
import type { Db } from '../store/db.js';
import { autoSwitch, getSetting, readAutoSettings, setAutoSwitch, type AutoSettings } from './settings.js';
import { loopRunning, pidAlive } from './locks.js';
import { daemonPaths, readLoopState, type LoopMode, type LoopState } from './loop-files.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------
// request estimate

/** Requests a month (30 days) at these settings. */
export interface RequestEstimate {
  /** A machine where nothing happens anywhere: pulls at the idle interval plus housekeeping. */
  idlePerMonth: number;
  /** Extra requests per hour of activity (faster pulls, pushes at the debounce limit). */
  activePerHour: number;
  /** The arithmetic, for people. */
  basis: string;
}

/** Estimates bucket requests; `peers` = other devices in the bucket. */
export function estimateRequests(s: AutoSettings, peers: number): RequestEstimate {
  const month = 30 * 86_400;
  const pulls = Math.round(month / Math.max(s.pullInterval, 0.01));
  // Daily housekeeping: LIST devices + LIST our probe prefix + GET own manifest + GET each peer's manifest,
  // and at most one ack-only manifest (GET + PUT) per ack interval.
  const prunes = Math.round(month / Math.max(s.pruneInterval, 1));
  const pruneReqs = prunes * (3 + peers);
  const acks = Math.round(month / Math.max(s.ackInterval, 1)) * 2;
  const idle = pulls + pruneReqs + acks;
  // Active: pulls at the active interval instead of the idle one; during continuous activity a
  // push (segment PUT + manifest GET + PUT) every pushMaxWait seconds.
  const activePulls = 3600 / Math.max(s.pullActiveInterval, 0.01) - 3600 / Math.max(s.pullInterval, 0.01);
  const pushes = 3600 / Math.max(s.pushMaxWait, 0.01);
  const activePerHour = Math.round(Math.max(0, activePulls) + pushes * 3);
  return {
    idlePerMonth: idle,
    activePerHour,
    basis: `${pulls} pulls (1 LIST every ${s.pullInterval}s) + ${pruneReqs} prune + ${acks} ack requests per 30 days idle; ` +
      `active: 1 LIST every ${s.pullActiveInterval}s and, in continuous activity, ${Math.round(pushes)} pushes/h × 3 requests`,
  };
}

// ---------------------------------------------------------------------------------------
// starting and stopping the detached daemon

/** How to run `stackunderflow sync daemon` as a new process. */
export interface Launcher {
  command: string;
  args: string[];
  cwd?: string;
}

/**
 * The command line of this installation's CLI: `node dist/bin/stackunderflow.js sync daemon`
 * when built, or `node --import tsx src/cli/main.ts sync daemon` when running from source.
 */
export function defaultLauncher(): Launcher {
  const root = packageRoot();
  const fromSource = extname(fileURLToPath(import.meta.url)) === '.ts';
  const args: string[] = [];
  if (fromSource) {
    const tsxPkg = createRequire(import.meta.url).resolve('tsx/package.json');
    args.push('--import', pathToFileURL(join(dirname(tsxPkg), 'dist', 'loader.mjs')).href);
  }
  const main = fromSource ? join(root, 'src', 'cli', 'main.ts') : join(root, 'dist', 'bin', 'stackunderflow.js');
  return { command: process.execPath, args: [...args, main, 'sync', 'daemon'], cwd: root };
}

const LOG_ROTATE_BYTES = 5 * 1024 * 1024;

/** Keeps one previous log: the daemon's log never grows past ~2 × 5 MB. */
export function rotateLog(env: NodeJS.ProcessEnv): void {
  const { log } = daemonPaths(env);
  try {
    if (statSync(log).size > LOG_ROTATE_BYTES) renameSync(log, `${log}.1`);
  } catch {
    // no log yet
  }
}

export interface EnableResult {
  /** A loop was already running (no second one was started). */
  alreadyRunning: boolean;
  pid: number | null;
  mode: LoopMode | null;
  log: string;
}

/**
 * `sync auto --enable`: records auto=on, then starts a detached daemon unless a loop
 * already runs. Waits until the daemon holds the lock; if it exits first, the error names
 * the log file and quotes its last lines.
 */
export async function enableAuto(db: Db, env: NodeJS.ProcessEnv, opts: { launcher?: Launcher; waitMs?: number } = {}): Promise<EnableResult> {
  const paths = daemonPaths(env);
  setAutoSwitch(db, true);
  const cur = loopRunning(env);
  if (cur.running) return { alreadyRunning: true, pid: cur.pid, mode: cur.mode, log: paths.log };
  privateDir(paths.logDir);
  rotateLog(env);
  const launcher = opts.launcher ?? defaultLauncher();
  const fd = openSync(paths.log, 'a', 0o600);
  privateFile(paths.log);
  let child;
  try {
    child = spawn(launcher.command, launcher.args, { cwd: launcher.cwd, env, detached: true, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));
  child.on('error', () => (exited = -1));
  child.unref();
  const deadline = Date.now() + (opts.waitMs ?? 20_000);
  while (Date.now() < deadline) {
    const now = loopRunning(env);
    if (now.running) return { alreadyRunning: now.pid !== child.pid, pid: now.pid, mode: now.mode, log: paths.log };
    if (exited !== undefined) break;
    await sleep(100);
  }
  const tail = existsSync(paths.log) ? readFileSync(paths.log, 'utf8').split('\n').slice(-6).join('\n').trim() : '';
  throw new SuError('INTERNAL', `the sync daemon did not start${exited !== undefined ? ` (exit ${exited})` : ''}${tail ? `:\n${tail}` : ''}`, {
    hint: `see ${paths.log}; run \`stackunderflow sync daemon\` in a terminal to watch it start`,
  });
}

export interface DisableResult {
  /** The daemon process that was stopped, if one ran. */
  stoppedPid: number | null;
  /** A loop inside `serve` notices auto=off and stops on its own within seconds. */
  servePid: number | null;
  /** It had to be killed (it ignored SIGTERM for waitMs). */
  killed: boolean;
}

/** `sync auto --disable`: records auto=off (kept across restarts), then stops a running daemon (SIGTERM, then wait). */
export async function disableAuto(db: Db, env: NodeJS.ProcessEnv, opts: { waitMs?: number } = {}): Promise<DisableResult> {
  setAutoSwitch(db, false);
  const cur = loopRunning(env);
  if (!cur.running || cur.pid === null) return { stoppedPid: null, servePid: null, killed: false };
  if (cur.mode === 'serve') return { stoppedPid: null, servePid: cur.pid, killed: false };
  try {
    process.kill(cur.pid, 'SIGTERM');
  } catch {
    return { stoppedPid: cur.pid, servePid: null, killed: false };
  }
  const deadline = Date.now() + (opts.waitMs ?? 15_000);
  while (Date.now() < deadline) {
    if (!pidAlive(cur.pid)) return { stoppedPid: cur.pid, servePid: null, killed: false };
    await sleep(100);
  }
  // Killing is safe at any point (spool, intent and cursors make every step repeatable).
  try {
    process.kill(cur.pid, 'SIGKILL');
  } catch {
    // already gone
  }
  return { stoppedPid: cur.pid, servePid: null, killed: true };
}

// ---------------------------------------------------------------------------------------
// status

/** The continuous-sync part of `sync status`. */
export interface AutoStatus {
  /** `sync auto` switch: on, off, or never set (null). */
  setting: 'on' | 'off' | null;
  /** A loop holds the lock and its process is alive. */
  running: boolean;
  pid: number | null;
  mode: LoopMode | null;
  startedAt: string | null;
  nextPushAt: string | null;
  nextPullAt: string | null;
  nextPruneAt: string | null;
  /** Current backoff while the bucket is failing, null when healthy. */
  backoff: LoopState['backoff'];
  lastError: LoopState['lastError'];
  quarantined: NonNullable<LoopState['quarantined']>;
  counters: Record<string, number> | null;
  log: string;
  settings: AutoSettings;
  requests: RequestEstimate;
  /** Highest own seq covered by our snapshot (0: never compacted). */
  compactedThrough: number;
  lastPruneAt: string | null;
  /** Replaced segments still in the bucket, waiting for prune. */
  retired: { segments: number; bytes: number };
}

/** Reads the switch, the lock, the loop's published state and the settings. Local and instant. */
export function autoStatus(db: Db, env: NodeJS.ProcessEnv, peers: number): AutoStatus {
  const settings = readAutoSettings(db);
  const run = loopRunning(env);
  const state = run.running ? readLoopState(env) : null;
  const fresh = state && state.pid === run.pid ? state : null;
  const retired = db.prepare('SELECT COUNT(*) AS n, COALESCE(SUM(bytes), 0) AS b FROM sync_retired').get() as { n: number; b: number };
  return {
    setting: autoSwitch(db),
    running: run.running,
    pid: run.pid,
    mode: run.mode,
    startedAt: run.startedAt,
    nextPushAt: fresh?.nextPushAt ?? null,
    nextPullAt: fresh?.nextPullAt ?? null,
    nextPruneAt: fresh?.nextPruneAt ?? null,
    backoff: fresh?.backoff ?? null,
    lastError: fresh?.lastError ?? null,
    quarantined: fresh?.quarantined ?? [],
    counters: fresh?.counters ?? null,
    log: daemonPaths(env).log,
    settings,
    requests: estimateRequests(settings, peers),
    compactedThrough: Number(getSetting(db, 'compacted_through') ?? 0) || 0,
    lastPruneAt: getSetting(db, 'last_prune_at') ?? null,
    retired: { segments: retired.n, bytes: retired.b },
  };
}

/** A peer clock leading ours by more than this gets a warning in status. */
export const SKEW_WARN_MS = 5 * 60_000;
