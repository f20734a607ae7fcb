/**
 * Where the sync loop runs: under the single-instance lock, as the `sync daemon` process or
 * inside `serve` (which takes the loop over when no daemon holds the lock and lets go when
 * continuous sync is turned off).
 */
import { privateDir, privateFile } from '../store/private.js';
import { appendFileSync } from 'node:fs';
import { storePath } from '../paths.js';
import { openDb, type Db } from '../store/db.js';
import type { Clock } from '../model/clock.js';
import { acquireLoopLock, type LoopLease } from './locks.js';
import { daemonPaths, type LoopMode } from './loop-files.js';
import { autoSwitch } from './settings.js';
import { startSyncLoop, type SyncLoop, type SyncLoopOptions } from './loop.js';
import { messageOf } from '../errors.js';

/**
 * Takes the single-instance lock, then runs the loop until `stop()` (or until `auto` is
 * turned off, or the lock is lost). Returns null, with the holder, when another loop runs.
 */
export async function runLockedLoop(
  opts: SyncLoopOptions & { mode: LoopMode },
): Promise<{ loop: SyncLoop; lease: LoopLease; finished: Promise<void> } | { holder: { pid: number | null; mode: LoopMode | null } }> {
  let loop: SyncLoop | null = null;
  const got = await acquireLoopLock(opts.env, opts.mode, (err) => {
    opts.log?.(`${new Date().toISOString()} lost the single-instance lock (${err.message}): stopping`);
    void loop?.stop();
  });
  if ('holder' in got) return got;
  loop = startSyncLoop(opts);
  const finished = loop.done.finally(() => got.lease.release());
  return { loop, lease: got.lease, finished };
}

/** Whether this store has sync set up and `auto` on: the condition for `serve` to run the loop. */
function autoWanted(db: Db): boolean {
  const initialised = !!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sync_state'").get() && !!db.prepare('SELECT 1 FROM sync_state WHERE id = 1').get();
  return initialised && autoSwitch(db) === 'on';
}

/** `serve`'s part: host the loop when continuous sync is on for this store, else null. */
export function hostSyncIfOn(db: Db, opts: Parameters<typeof hostSyncInServe>[0]): ServeSyncHost | null {
  return autoSwitch(db) === 'on' ? hostSyncInServe(opts) : null;
}

/** The loop as `serve` hosts it. */
export interface ServeSyncHost {
  stop(): Promise<void>;
}

/**
 * Runs the loop inside `serve` while continuous sync is on and no other loop (a daemon)
 * holds the lock. Re-checks every `pollMs`, so serve takes over when a daemon goes away and
 * lets go when `sync auto --disable` turns it off. Log lines go to the daemon's log file.
 */
export function hostSyncInServe(opts: { env: NodeJS.ProcessEnv; clock?: Clock; notice?: (line: string) => void; pollMs?: number }): ServeSyncHost {
  const { env } = opts;
  let current: { loop: SyncLoop; finished: Promise<void> } | null = null;
  let stopped = false;
  let told: string | null = null;
  let checking = false;
  const tell = (line: string) => {
    if (told === line) return;
    told = line;
    opts.notice?.(line);
  };
  const log = (line: string) => {
    try {
      privateDir(daemonPaths(env).logDir);
      appendFileSync(daemonPaths(env).log, line + '\n', { mode: 0o600 });
      privateFile(daemonPaths(env).log);
    } catch {
      // logging is best effort
    }
  };
  const check = async () => {
    if (stopped || current || checking) return;
    checking = true;
    try {
      const db = openDb(storePath(env));
      let wanted: boolean;
      try {
        wanted = autoWanted(db);
      } finally {
        db.close();
      }
      if (!wanted || stopped) return;
      const got = await runLockedLoop({ env, mode: 'serve', clock: opts.clock, log });
      if ('holder' in got) {
        tell(`continuous sync: runs in ${got.holder.mode === 'serve' ? 'another stackunderflow serve' : 'the sync daemon'}${got.holder.pid ? ` (pid ${got.holder.pid})` : ''}`);
        return;
      }
      if (stopped) {
        await got.loop.stop();
        await got.finished;
        return;
      }
      tell(`continuous sync: running in this process (log: ${daemonPaths(env).log})`);
      current = { loop: got.loop, finished: got.finished };
      void got.finished.then(() => {
        current = null;
        told = null;
      });
    } catch (err) {
      tell(`continuous sync: could not start (${messageOf(err)})`);
    } finally {
      checking = false;
    }
  };
  const timer = setInterval(() => void check(), opts.pollMs ?? 30_000);
  timer.unref();
  void check();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      while (checking) await new Promise((r) => setTimeout(r, 20));
      if (current) {
        await current.loop.stop();
        await current.finished;
      }
    },
  };
}
