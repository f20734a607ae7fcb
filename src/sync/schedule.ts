/**
 * When the sync loop acts (docs/specs/sync-protocol-v1.md §10.4): push shortly after new
 * events (debounced), pull on an interval that tightens while anyone is active, prune once a
 * day, back off exponentially with jitter while the bucket fails. Pure: times in, next action
 * out, so tests drive it with a fake clock.
 */
import type { AutoSettings } from './settings.js';

/** Timer functions, injectable so tests can drive the loop with a fake clock. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The process's own timers. */
export const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** The schedule's parameters in milliseconds (from {@link AutoSettings}, which are seconds). */
export interface ScheduleConfig {
  pullIntervalMs: number;
  pullActiveIntervalMs: number;
  activeWindowMs: number;
  pushQuietMs: number;
  pushMaxWaitMs: number;
  pruneIntervalMs: number;
  backoffMinMs: number;
  backoffMaxMs: number;
  rescanIntervalMs: number;
  /** Watcher events are batched: ingest this long after the last one… */
  ingestQuietMs: number;
  /** …and no later than this after the first. */
  ingestMaxWaitMs: number;
  /** ± fraction applied to each backoff delay. */
  jitter: number;
}

/** Converts stored settings (seconds) to a {@link ScheduleConfig}. */
export function scheduleConfig(s: AutoSettings): ScheduleConfig {
  const ms = (v: number) => Math.round(v * 1000);
  return {
    pullIntervalMs: ms(s.pullInterval),
    pullActiveIntervalMs: Math.min(ms(s.pullActiveInterval), ms(s.pullInterval)),
    activeWindowMs: ms(s.activeWindow),
    pushQuietMs: ms(s.pushQuiet),
    pushMaxWaitMs: Math.max(ms(s.pushMaxWait), ms(s.pushQuiet)),
    pruneIntervalMs: ms(s.pruneInterval),
    backoffMinMs: ms(s.backoffMin),
    backoffMaxMs: Math.max(ms(s.backoffMax), ms(s.backoffMin)),
    rescanIntervalMs: ms(s.rescanInterval),
    ingestQuietMs: Math.min(500, ms(s.pushQuiet)),
    ingestMaxWaitMs: Math.min(2000, ms(s.pushMaxWait)),
    jitter: 0.2,
  };
}

/** What the loop does next. */
export type LoopAction = 'ingest' | 'push' | 'pull' | 'prune';

/**
 * When to ingest, push, pull and prune, and how long to back off. Pure: every method takes
 * the current time; nothing here reads a clock, touches the store or the network.
 */
export class SyncSchedule {
  cfg: ScheduleConfig;
  ingestDueAt: number | null = null;
  #ingestFirstAt: number | null = null;
  nextRescanAt: number;
  /** First unpushed local change, and the latest one: the debounce's two anchors. */
  dirtySince: number | null = null;
  lastChangeAt: number | null = null;
  pushDueAt: number | null = null;
  nextPullAt: number;
  nextPruneAt: number;
  activeUntil = -Infinity;
  failures = 0;
  backoffUntil: number | null = null;
  backoffDelayMs = 0;
  readonly #random: () => number;

  constructor(cfg: ScheduleConfig, now: number, opts: { lastPruneMs?: number | null; random?: () => number } = {}) {
    this.cfg = cfg;
    this.#random = opts.random ?? Math.random;
    // Catch up at once: ingest what changed while we were not running, then pull.
    this.nextRescanAt = now;
    this.nextPullAt = now;
    const last = opts.lastPruneMs ?? null;
    this.nextPruneAt = last === null ? now + Math.min(cfg.pruneIntervalMs, 10 * 60_000) : Math.max(now, last + cfg.pruneIntervalMs);
  }

  /** Pulls come faster while this device or a peer produced events recently. */
  active(now: number): boolean {
    return now < this.activeUntil;
  }

  /** A watched log file changed. */
  fileChanged(now: number): void {
    this.#ingestFirstAt ??= now;
    this.ingestDueAt = Math.min(now + this.cfg.ingestQuietMs, this.#ingestFirstAt + this.cfg.ingestMaxWaitMs);
  }

  /** An ingest finished. `pending`: own events or spooled segments not yet in the bucket. */
  ingested(now: number, newEvents: number, pending: boolean): void {
    this.ingestDueAt = null;
    this.#ingestFirstAt = null;
    this.nextRescanAt = now + this.cfg.rescanIntervalMs;
    if (newEvents > 0) this.markActive(now);
    if (pending) this.localPending(now, newEvents > 0);
  }

  /** Something waits to be pushed; `fresh` when it just arrived (restarts the quiet period). */
  localPending(now: number, fresh: boolean): void {
    this.dirtySince ??= now;
    if (fresh || this.lastChangeAt === null) this.lastChangeAt = now;
    this.pushDueAt = Math.min(this.lastChangeAt + this.cfg.pushQuietMs, this.dirtySince + this.cfg.pushMaxWaitMs);
  }

  markActive(now: number): void {
    this.activeUntil = now + this.cfg.activeWindowMs;
    this.nextPullAt = Math.min(this.nextPullAt, now + this.cfg.pullActiveIntervalMs);
  }

  /** The action due now, or null. Ingest is local and runs even while backing off. */
  next(now: number): LoopAction | null {
    if ((this.ingestDueAt !== null && this.ingestDueAt <= now) || this.nextRescanAt <= now) return 'ingest';
    if (this.backoffUntil !== null && now < this.backoffUntil) return null;
    if (this.pushDueAt !== null && this.pushDueAt <= now) return 'push';
    if (this.nextPullAt <= now) return 'pull';
    if (this.nextPruneAt <= now) return 'prune';
    return null;
  }

  /** When something next becomes due (the loop sleeps until then unless woken). */
  wakeAt(): number {
    const gate = (t: number | null) => (t === null ? Infinity : Math.max(t, this.backoffUntil ?? -Infinity));
    return Math.min(this.ingestDueAt ?? Infinity, this.nextRescanAt, gate(this.pushDueAt), gate(this.nextPullAt), gate(this.nextPruneAt));
  }

  /** A bucket action worked: the bucket is reachable, the backoff resets. */
  succeeded(action: Exclude<LoopAction, 'ingest'>, now: number, info: { landed?: number } = {}): void {
    this.failures = 0;
    this.backoffUntil = null;
    this.backoffDelayMs = 0;
    if (action === 'push') {
      this.dirtySince = null;
      this.lastChangeAt = null;
      this.pushDueAt = null;
    } else if (action === 'pull') {
      this.nextPullAt = now + (this.active(now) ? this.cfg.pullActiveIntervalMs : this.cfg.pullIntervalMs);
      if ((info.landed ?? 0) > 0) this.markActive(now);
    } else {
      this.nextPruneAt = now + this.cfg.pruneIntervalMs;
    }
  }

  /**
   * A bucket action failed. Every failure backs off (min · 2^(n-1), capped, ± jitter) so a
   * broken bucket or object is not hammered; due work stays due and runs when it ends. A
   * permanent prune failure only postpones the next prune.
   */
  failed(action: Exclude<LoopAction, 'ingest'>, now: number, retryable: boolean): void {
    if (action === 'prune' && !retryable) {
      this.nextPruneAt = now + this.cfg.pruneIntervalMs;
      return;
    }
    this.failures++;
    const base = Math.min(this.cfg.backoffMaxMs, this.cfg.backoffMinMs * 2 ** Math.min(this.failures - 1, 30));
    const delay = Math.min(this.cfg.backoffMaxMs, Math.max(0, Math.round(base * (1 + this.cfg.jitter * (2 * this.#random() - 1)))));
    this.backoffDelayMs = delay;
    this.backoffUntil = now + delay;
  }
}
