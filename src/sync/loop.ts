/**
 * The continuous sync loop (docs/specs/sync-protocol-v1.md §10.4): watch the provider log
 * folders, ingest incrementally, and run the push, pull and prune that {@link SyncSchedule}
 * asks for against the store and the bucket. It never stops on a bad file or a bad object:
 * it logs, counts, and goes on. Clock, timers and randomness are injectable. It takes no lock
 * itself: sync/host.ts runs it under the single-instance lock.
 */
import { existsSync } from 'node:fs';
import { relative, sep } from 'node:path';
import { ADAPTERS } from '../adapters/index.js';
import { isRetryable, SuError, messageOf } from '../errors.js';
import { ingest } from '../ingest/index.js';
import { storePath } from '../paths.js';
import { openDb, type Db } from '../store/db.js';
import { catchUpSearchIndex } from '../store/events.js';
import { systemClock, type Clock } from '../model/clock.js';
import { breakDeadSyncLock, markOp } from './locks.js';
import { writeLoopState, type LoopMode, type LoopState } from './loop-files.js';
import { autoSwitch, getSetting, readAutoSettings, type AutoSettings } from './settings.js';
import { realTimers, scheduleConfig, SyncSchedule, type LoopAction, type Timers } from './schedule.js';
import { publishAcks } from './compact.js';
import { pushAndCompact } from './pipeline.js';
import { loadContext, type SyncContext } from './context.js';
import type { ObjectStore } from './objectstore/index.js';
import { prune } from './prune.js';
import { peerWarning, pull, type PullResult } from './pull.js';
import { importEsm } from '../util/esm.js';
import { inertDeep } from '../util/terminal.js';

/** One finished action, as reported to observers and the log. */
export interface ActionReport {
  action: LoopAction;
  ok: boolean;
  /** Wall time of the action, by the injected clock. */
  ms: number;
  detail: string;
  error?: { code: string; message: string; retryable: boolean };
  /** Events landed by a pull / pushed by a push / ingested (new or changed). */
  events?: number;
}

export interface SyncLoopOptions {
  env: NodeJS.ProcessEnv;
  /** Recorded in the state file; `serve` and `daemon` also honour `auto = off` by stopping. */
  mode?: LoopMode | 'embedded';
  clock?: Clock;
  timers?: Timers;
  random?: () => number;
  /** Settings (seconds) on top of the stored ones. */
  overrides?: Partial<AutoSettings>;
  /** Watch the log folders (default true). Without it, only the periodic rescan ingests. */
  watch?: boolean;
  /** Where log lines go (one line each, no newline). Default: nowhere. */
  log?: (line: string) => void;
  /** Use this bucket instead of opening the configured one (tests count requests this way). */
  store?: ObjectStore;
  onAction?: (r: ActionReport) => void;
}

/** A running loop. */
/** What the loop counts, published for `sync status`. The two error counts appear once they happen. */
interface LoopCounters {
  ingests: number;
  ingestErrors: number;
  newEvents: number;
  pushes: number;
  pushedEvents: number;
  pushErrors: number;
  pulls: number;
  landedEvents: number;
  pullErrors: number;
  badObjects: number;
  prunes: number;
  prunedObjects: number;
  pruneErrors: number;
  compactions: number;
  ackManifests: number;
  watchErrors: number;
  compactErrors?: number;
  ackErrors?: number;
}

export interface SyncLoop {
  /** Resolves when the loop has stopped and closed the store. */
  readonly done: Promise<void>;
  /** Finish the current action, then stop. */
  stop(): Promise<void>;
  /** Re-evaluate now (e.g. after a manual change). */
  wake(): void;
  readonly counters: Readonly<LoopCounters>;
  readonly schedule: SyncSchedule | null;
  /** Set when the loop itself failed (the store could not be opened, …): it has stopped. */
  readonly error: unknown;
}

// How often an idle loop looks at the `auto` switch and reloads its settings.
const POLL_MS = 5_000;

function errInfo(err: unknown): { code: string; message: string; retryable: boolean } {
  return {
    code: err instanceof SuError ? err.code : 'INTERNAL',
    message: messageOf(err),
    retryable: isRetryable(err),
  };
}

/** Own events or spooled segments not yet in the bucket. */
function hasPending(db: Db, deviceId: string | null): boolean {
  const state = db.prepare('SELECT device_id, last_sync_event_id FROM sync_state WHERE id = 1').get() as { device_id: string; last_sync_event_id: number | null } | undefined;
  if (!state) return false;
  const me = deviceId ?? state.device_id;
  const spooled = db.prepare('SELECT COUNT(*) FROM sync_outbox').pluck().get() as number;
  if (spooled > 0) return true;
  const max = db.prepare('SELECT MAX(seq) FROM events WHERE device_id = ?').pluck().get(me) as number | null;
  return (max ?? 0) > (state.last_sync_event_id ?? 0);
}

/** The folders holding transcripts, per adapter: what the watcher watches. */
function watchPaths(env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const a of ADAPTERS) {
    for (const root of a.roots(env)) out.push(...a.watchDirs(root));
  }
  return [...new Set(out)];
}

/**
 * What the watcher skips. Transcripts are `.jsonl` files; under an OpenCode data dir the logs
 * are its databases (and their WAL, which is what grows while it writes) and the old
 * `storage/message/**.json` files, and the rest of that folder (snapshot repositories, logs,
 * tool output) is not walked at all. Chokidar asks first without stats: a path it may not
 * need must be refused then, or it walks it.
 */
export function watchIgnored(env: NodeJS.ProcessEnv): (p: string, stats?: { isFile(): boolean }) => boolean {
  const oc = ADAPTERS.filter((a) => a.provider === 'opencode').flatMap((a) => a.roots(env));
  return (p, stats) => {
    const root = oc.find((r) => p === r || p.startsWith(r + sep));
    if (root === undefined) return !!stats?.isFile() && !p.endsWith('.jsonl');
    const rel = relative(root, p).split(sep);
    if (rel.length === 1 && rel[0] === '') return false;
    if (rel.length === 1 && /^opencode(-[A-Za-z0-9_.]+)?\.db(-wal)?$/.test(rel[0])) return false;
    if (rel[0] !== 'storage' || (rel.length > 1 && rel[1] !== 'message')) return true;
    return !!stats?.isFile() && !p.endsWith('.json');
  };
}

/** Starts the loop in this process. Does not take the single-instance lock: see {@link runLockedLoop}. */
export function startSyncLoop(opts: SyncLoopOptions): SyncLoop {
  const env = opts.env;
  const clock = opts.clock ?? systemClock;
  const timers = opts.timers ?? realTimers;
  const log = opts.log ?? (() => undefined);
  const mode = opts.mode ?? 'embedded';
  const counters: LoopCounters = {
    ingests: 0, ingestErrors: 0, newEvents: 0, pushes: 0, pushedEvents: 0, pushErrors: 0, pulls: 0, landedEvents: 0,
    pullErrors: 0, badObjects: 0, prunes: 0, prunedObjects: 0, pruneErrors: 0, compactions: 0, ackManifests: 0, watchErrors: 0,
  };
  const startedAt = new Date(clock.now()).toISOString();
  let stopping = false;
  let wakeUp: (() => void) | null = null;
  let schedule: SyncSchedule | null = null;
  let lastError: LoopState['lastError'] = null;
  /** Peers whose objects failed verification, by device: skipped while their manifest ETag stays the same. */
  const quarantine = new Map<string, { etag: string; since: string; code: string; message: string }>();
  /** Refused devices already warned of, with the reason given: a pull warns of a device once per reason. */
  const refusedWarned = new Map<string, string>();

  const wake = () => {
    const w = wakeUp;
    wakeUp = null;
    w?.();
  };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const h = timers.setTimeout(() => {
        wakeUp = null;
        resolve();
      }, Math.max(0, ms));
      wakeUp = () => {
        timers.clearTimeout(h);
        resolve();
      };
    });

  const run = async () => {
    const db = openDb(storePath(env));
    let store = opts.store;
    let watcher: { close(): Promise<void>; add(p: string | string[]): unknown } | null = null;
    const watched = new Set<string>();
    const stamp = () => new Date(clock.now()).toISOString();
    const say = (s: string) => log(`${stamp()} ${s}`);

    const settings = () => ({ ...readAutoSettings(db), ...opts.overrides });
    const lastPrune = Date.parse(getSetting(db, 'last_prune_at') ?? '');
    schedule = new SyncSchedule(scheduleConfig(settings()), clock.now(), { lastPruneMs: Number.isFinite(lastPrune) ? lastPrune : null, random: opts.random });
    const sched = schedule;

    let published = '';
    const publish = () => {
      if (mode === 'embedded') return;
      const iso = (t: number | null) => (t === null || !Number.isFinite(t) ? null : new Date(t).toISOString());
      const gate = (t: number | null) => (t === null ? null : Math.max(t, sched.backoffUntil ?? -Infinity));
      try {
        const state: Omit<LoopState, 'updatedAt'> = {
          pid: process.pid,
          mode,
          startedAt,
          nextPushAt: iso(gate(sched.pushDueAt)),
          nextPullAt: iso(gate(sched.nextPullAt)),
          nextPruneAt: iso(gate(sched.nextPruneAt)),
          backoff: sched.backoffUntil === null ? null : { failures: sched.failures, delayMs: sched.backoffDelayMs, until: iso(sched.backoffUntil)! },
          active: sched.active(clock.now()),
          lastError,
          quarantined: [...quarantine].map(([device, q]) => ({ device, since: q.since, code: q.code, message: q.message })),
          counters: { ...counters },
        };
        // An idle loop must not rewrite the file every poll.
        const json = JSON.stringify(state);
        if (json === published) return;
        published = json;
        writeLoopState(env, { ...state, updatedAt: stamp() });
      } catch {
        // Status is best effort; the loop must not stop because the state file could not be written.
      }
    };

    const addWatches = () => {
      if (!watcher) return;
      for (const p of watchPaths(env)) {
        if (watched.has(p) || !existsSync(p)) continue;
        watched.add(p);
        watcher.add(p);
      }
    };

    if (opts.watch !== false) {
      try {
        const { watch } = await importEsm<typeof import('chokidar')>('chokidar');
        const w = watch([], {
          ignoreInitial: true,
          depth: 8,
          // Only logs matter; directories must pass so new session folders are followed.
          ignored: watchIgnored(env),
        });
        w.on('add', () => (sched.fileChanged(clock.now()), wake()));
        w.on('change', () => (sched.fileChanged(clock.now()), wake()));
        // A line written while the watcher was still scanning raises no event (the scan takes it
        // for the initial state): once the scan is done, ingest once to catch it.
        w.on('ready', () => (sched.fileChanged(clock.now()), wake()));
        w.on('error', (err) => {
          counters.watchErrors++;
          say(`watch error: ${messageOf(err)}`);
        });
        watcher = w;
        addWatches();
      } catch (err) {
        counters.watchErrors++;
        say(`cannot watch the log folders (${messageOf(err)}); ingesting every ${settings().rescanInterval}s instead`);
      }
    }

    let ctx: SyncContext | null = null;
    const context = async (): Promise<SyncContext> => {
      ctx = await loadContext(db, { env, clock, store });
      store = ctx.store;
      return ctx;
    };
    const deviceId = () => (db.prepare("SELECT value FROM meta WHERE key = 'device_id'").pluck().get() as string | undefined) ?? null;

    /** Runs a bucket step; on LOCKED left by a killed loop of ours, clears the dead lock and retries once. */
    const withOp = async <T>(op: string, fn: () => Promise<T>): Promise<T> => {
      const inLoop = mode !== 'embedded';
      if (inLoop && breakDeadSyncLock(env)) say('removed the sync lock left by a killed sync process');
      for (let attempt = 0; ; attempt++) {
        if (inLoop) markOp(env, op);
        try {
          return await fn();
        } catch (err) {
          if (inLoop && attempt === 0 && err instanceof SuError && err.code === 'LOCKED' && breakDeadSyncLock(env)) {
            say('removed the sync lock left by a killed sync process');
            continue;
          }
          throw err;
        } finally {
          if (inLoop) markOp(env, null);
        }
      }
    };

    /** Whether the last action changed something beyond its events (a compaction, an ack manifest): it is logged then. */
    let noteworthy = false;
    const doAction = async (action: LoopAction): Promise<ActionReport> => {
      const t0 = clock.now();
      const done = (r: Omit<ActionReport, 'action' | 'ms'>): ActionReport => ({ action, ms: clock.now() - t0, ...r });
      noteworthy = false;
      if (action === 'ingest') {
        try {
          addWatches();
          const r = await ingest(db, { adapters: [...ADAPTERS], env, clock });
          const fresh = r.events.inserted + r.events.updated;
          counters.ingests++;
          counters.newEvents += fresh;
          if (r.malformedLines > 0) say(`ingest: skipped ${r.malformedLines} malformed line(s) in ${r.malformed.map((m) => m.path).join(', ')}`);
          sched.ingested(clock.now(), fresh, hasPending(db, deviceId()));
          return done({ ok: true, detail: `${fresh} new or changed event(s) from ${r.filesRead} file(s)`, events: fresh });
        } catch (err) {
          counters.ingestErrors++;
          sched.ingested(clock.now(), 0, hasPending(db, deviceId()));
          return done({ ok: false, detail: 'ingest failed', error: errInfo(err) });
        }
      }
      try {
        if (action === 'push') {
          const c = await context();
          const compactFailures: string[] = [];
          const r = await pushAndCompact(c, {
            step: withOp,
            onCompactError: (err) => {
              counters.compactErrors = (counters.compactErrors ?? 0) + 1;
              compactFailures.push(errInfo(err).message);
            },
          });
          counters.pushes++;
          counters.pushedEvents += r.stagedEvents;
          let detail = r.generation === null ? 'nothing to push' : `${r.stagedEvents} event(s), ${r.uploadedSegments} segment(s), ${r.uploadedBytes} bytes, generation ${r.generation}`;
          sched.succeeded('push', clock.now());
          // Compaction is housekeeping: its failure is logged and retried after the next push.
          if (r.compaction) {
            counters.compactions++;
            noteworthy = true;
            detail += `; compacted: ${r.compaction.snapshots} snapshot(s) replace ${r.compaction.replaced} segment(s) (${r.compaction.reason})`;
          }
          for (const f of compactFailures) detail += `; compaction failed (${f})`;
          if (hasPending(db, c.deviceId)) sched.localPending(clock.now(), false);
          return done({ ok: true, detail, events: r.stagedEvents });
        }
        if (action === 'pull') {
          const c = await context();
          const seen = new Map<string, string>();
          const skip = (device: string, etag: string) => {
            seen.set(device, etag);
            return quarantine.get(device)?.etag === etag;
          };
          let result: PullResult;
          let peerFailure: ReturnType<typeof errInfo> | null = null;
          try {
            result = await withOp('pull', () => pull(c, { skip }));
          } catch (err) {
            const partial = (err as { result?: PullResult }).result;
            if (!partial) throw err;
            counters.landedEvents += partial.landedEvents;
            if (partial.landedEvents > 0) sched.markActive(clock.now());
            const failed = partial.peers.filter((p) => p.outcome === 'failed');
            if (failed.some((p) => p.error?.code === 'UNREACHABLE')) throw err;
            // Only damaged or foreign objects: the other peers landed. Leave those peers alone
            // until their manifest changes (no re-download every interval), and go on.
            for (const p of failed) quarantine.set(p.device, { etag: seen.get(p.device) ?? '', since: stamp(), code: p.error?.code ?? 'INTERNAL', message: p.error?.message ?? '' });
            counters.badObjects += failed.length;
            peerFailure = errInfo(err);
            result = partial;
          }
          for (const p of result.peers) if (p.outcome !== 'failed') quarantine.delete(p.device);
          // The warning a one-shot `sync pull` prints, when a device is first refused or refused
          // for another reason: a refused device is not an error (the pull is ok and quiet), so
          // without it a planted or foreign folder would go unmentioned in the daemon's log; said
          // once, not every minute, as an idle loop must not grow its log (`sync status` lists
          // them all the while). Names come from manifests: inert.
          const refused = inertDeep(result.peers.filter((p) => p.outcome === 'rejected'));
          const warned = new Map(refusedWarned);
          refusedWarned.clear();
          for (const p of refused) {
            const why = p.warning ?? 'refused, nothing merged';
            refusedWarned.set(p.device, why);
            if (warned.get(p.device) !== why) say(`pull: ${peerWarning(p, why)}`);
          }
          // A large landing left its events' search index for later: the daemon has the time.
          if (result.landedEvents > 0) catchUpSearchIndex(c.db);
          counters.pulls++;
          counters.landedEvents += result.landedEvents;
          sched.succeeded('pull', clock.now(), { landed: result.landedEvents });
          let acked: number | null = null;
          try {
            acked = await withOp('acks', () => publishAcks(c, { minIntervalMs: settings().ackInterval * 1000 }));
            if (acked !== null) {
              counters.ackManifests++;
              noteworthy = true;
            }
          } catch (err) {
            counters.ackErrors = (counters.ackErrors ?? 0) + 1;
            say(`publishing acks failed (${errInfo(err).message}); trying again after the next pull`);
          }
          const landed = result.peers.filter((p) => p.outcome === 'landed');
          const detail = landed.length === 0 ? 'nothing new' : landed.map((p) => `${p.events} event(s) from ${p.name ?? p.device}`).join(', ');
          const full = detail + (refused.length > 0 ? `; refused, nothing merged: ${refused.map((p) => `${p.name ?? '?'} (${p.device})`).join(', ')}` : '') + (acked !== null ? `; acks published (generation ${acked})` : '');
          if (peerFailure) return done({ ok: false, detail: `${full}; left alone until they change: ${[...quarantine.keys()].join(', ')}`, error: peerFailure, events: result.landedEvents });
          return done({ ok: true, detail: full, events: result.landedEvents });
        }
        const c = await context();
        // Once a day, give peers that failed verification another chance.
        quarantine.clear();
        const r = await withOp('prune', () => prune(c, { ackIntervalMs: settings().ackInterval * 1000 }));
        counters.prunes++;
        counters.prunedObjects += r.deleted;
        sched.succeeded('prune', clock.now());
        return done({ ok: true, detail: `deleted ${r.deleted} object(s) (${r.bytesSaved} bytes), kept ${r.kept}` });
      } catch (err) {
        const info = errInfo(err);
        if (action === 'push') counters.pushErrors++;
        else if (action === 'pull') counters.pullErrors++;
        else counters.pruneErrors++;
        sched.failed(action, clock.now(), info.retryable);
        return done({ ok: false, detail: `${action} failed`, error: info });
      }
    };

    say(`sync loop started (${mode}, pid ${process.pid}); watching ${[...watched].join(', ') || 'nothing yet'}`);
    try {
      while (!stopping) {
        if (mode !== 'embedded' && autoSwitch(db) === 'off') {
          say('continuous sync was turned off (sync auto --disable): stopping');
          break;
        }
        sched.cfg = scheduleConfig(settings());
        const now = clock.now();
        const action = sched.next(now);
        if (action) {
          const r = await doAction(action);
          if (r.ok && action !== 'ingest') lastError = null;
          if (!r.ok) {
            lastError = { time: stamp(), op: action, code: r.error!.code, message: r.error!.message };
            const wait = sched.backoffUntil !== null ? `; retrying in ${Math.round((sched.backoffUntil - clock.now()) / 1000)}s` : '';
            say(`${action} failed (${r.error!.code}): ${r.error!.message}${wait}`);
          } else if ((r.events ?? 0) > 0 || action === 'prune' || noteworthy) {
            // Quiet when nothing happened: an idle loop must not grow its log by a line a minute.
            say(`${action} ok: ${r.detail} (${r.ms} ms)`);
          }
          try {
            opts.onAction?.(r);
          } catch {
            // an observer's bug must not stop the loop
          }
          publish();
          continue;
        }
        publish();
        const wait = Math.min(sched.wakeAt() - clock.now(), POLL_MS);
        if (wait > 0) await sleep(wait);
      }
    } finally {
      await watcher?.close().catch(() => undefined);
      db.close();
      say('sync loop stopped');
    }
  };

  let crashed: unknown = null;
  const done = run().catch((err) => {
    crashed = err;
    log(`${new Date(clock.now()).toISOString()} sync loop crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  });
  return {
    done,
    async stop() {
      stopping = true;
      wake();
      await done;
    },
    wake,
    counters,
    get schedule() {
      return schedule;
    },
    get error() {
      return crashed;
    },
  };
}
