/**
 * The detached `stackunderflow sync daemon` (docs/specs/sync-protocol-v1.md §10.4): `sync auto
 * --enable` records the switch and starts it, `--disable` records it and stops it.
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
import { setAutoSwitch } from './settings.js';
import { loopRunning, pidAlive } from './locks.js';
import { daemonPaths, type LoopMode } from './loop-files.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
function rotateLog(env: NodeJS.ProcessEnv): void {
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
