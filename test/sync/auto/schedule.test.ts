/**
 * The loop's schedule, driven by a fake clock: debounced pushes, pull intervals that tighten
 * while anyone is active, exponential backoff with jitter and a cap, and its reset.
 */
import { describe, expect, it } from 'vitest';
import { estimateRequests } from '../../../src/sync/estimate.js';
import { AUTO_DEFAULTS } from '../../../src/sync/settings.js';
import { scheduleConfig, SyncSchedule } from '../../../src/sync/schedule.js';

const T0 = 1_800_000_000_000;
const cfg = scheduleConfig(AUTO_DEFAULTS);

/** A schedule past its start-up catch-up (first ingest and pull done). */
function settled(random = () => 0.5): SyncSchedule {
  const s = new SyncSchedule(cfg, T0, { lastPruneMs: T0, random });
  expect(s.next(T0)).toBe('ingest');
  s.ingested(T0, 0, false);
  expect(s.next(T0)).toBe('pull');
  s.succeeded('pull', T0);
  return s;
}

describe('SyncSchedule', () => {
  it('starts by ingesting, then pulling; prune waits for its interval since the last one', () => {
    const s = settled();
    expect(s.next(T0)).toBeNull();
    expect(s.nextPullAt).toBe(T0 + 60_000);
    expect(s.nextPruneAt).toBe(T0 + 86_400_000);
    const fresh = new SyncSchedule(cfg, T0, { lastPruneMs: null });
    expect(fresh.nextPruneAt).toBe(T0 + 10 * 60_000);
  });

  it('pushes 5 s after the last new event, but no later than 20 s after the first of a burst', () => {
    const s = settled();
    s.ingested(T0 + 1000, 3, true);
    expect(s.pushDueAt).toBe(T0 + 6000);
    expect(s.next(T0 + 5999)).toBeNull();
    // A busy session keeps adding events every 3 s: the quiet period never comes, the cap does.
    for (let t = 4000; t <= 19_000; t += 3000) s.ingested(T0 + t, 1, true);
    expect(s.pushDueAt).toBe(T0 + 1000 + 20_000);
    expect(s.next(T0 + 20_999)).not.toBe('push');
    expect(s.next(T0 + 21_000)).toBe('push');
    s.succeeded('push', T0 + 21_500);
    expect(s.pushDueAt).toBeNull();
    expect(s.dirtySince).toBeNull();
  });

  it('file events are batched: one ingest 0.5 s after the last, at most 2 s after the first', () => {
    const s = settled();
    s.fileChanged(T0 + 100);
    s.fileChanged(T0 + 400);
    expect(s.ingestDueAt).toBe(T0 + 900);
    for (let t = 700; t < 3000; t += 300) s.fileChanged(T0 + t);
    expect(s.ingestDueAt).toBe(T0 + 2100);
    expect(s.next(T0 + 2100)).toBe('ingest');
  });

  it('pulls every 10 s while this device or a peer was active in the last 15 min, every 60 s otherwise', () => {
    const s = settled();
    s.ingested(T0 + 1000, 2, true);
    // Local activity pulls the next pull forward too.
    expect(s.nextPullAt).toBe(T0 + 11_000);
    s.succeeded('pull', T0 + 11_000);
    expect(s.nextPullAt).toBe(T0 + 21_000);
    const later = T0 + 1000 + 15 * 60_000 + 1;
    s.succeeded('pull', later);
    expect(s.nextPullAt).toBe(later + 60_000);
    // Landing a peer's events makes us active again.
    s.succeeded('pull', later + 60_000, { landed: 5 });
    expect(s.nextPullAt).toBe(later + 70_000);
  });

  it('backs off exponentially from 15 s to a 5 min cap with ±20 % jitter, and resets on success', () => {
    for (const r of [0, 0.5, 0.999]) {
      const s = settled(() => r);
      s.ingested(T0, 1, true);
      let now = T0 + 5000;
      const delays: number[] = [];
      for (let i = 0; i < 8; i++) {
        expect(s.next(now)).toBe('push');
        s.failed('push', now, true);
        delays.push(s.backoffUntil! - now);
        // Nothing that needs the bucket runs while backing off; local ingest still does.
        expect(s.next(now + 1)).toBeNull();
        s.fileChanged(now + 1);
        expect(s.next(now + 600)).toBe('ingest');
        s.ingested(now + 600, 1, true);
        now = s.backoffUntil!;
        expect(s.wakeAt()).toBeLessThanOrEqual(now);
      }
      const nominal = [15, 30, 60, 120, 240, 300, 300, 300].map((x) => x * 1000);
      delays.forEach((d, i) => {
        expect(d).toBeGreaterThanOrEqual(Math.round(nominal[i] * 0.8) - 1);
        expect(d).toBeLessThanOrEqual(Math.min(300_000, Math.round(nominal[i] * 1.2)));
      });
      expect(s.failures).toBe(8);
      // The bucket is back: the spool drains first, the backoff is gone, pulls resume.
      expect(s.next(now)).toBe('push');
      s.succeeded('push', now);
      expect(s.failures).toBe(0);
      expect(s.backoffUntil).toBeNull();
      expect(s.next(now)).toBe('pull');
    }
  });

  it('a permanent prune failure only postpones the next prune; other failures back off', () => {
    const s = settled();
    const t = T0 + 86_400_000;
    expect(s.next(t)).toBe('ingest');
    s.ingested(t, 0, false);
    expect(s.next(t)).toBe('pull');
    s.succeeded('pull', t);
    expect(s.next(t)).toBe('prune');
    s.failed('prune', t, false);
    expect(s.backoffUntil).toBeNull();
    expect(s.nextPruneAt).toBe(t + 86_400_000);
    s.failed('pull', t, false);
    expect(s.backoffUntil).not.toBeNull();
  });
});

describe('request estimate at the defaults', () => {
  it('an idle month stays under 50k requests; the basis is stated', () => {
    const e = estimateRequests(AUTO_DEFAULTS, 2);
    expect(e.idlePerMonth).toBeLessThanOrEqual(50_000);
    expect(e.idlePerMonth).toBeGreaterThan(43_200);
    expect(e.basis).toMatch(/1 LIST every 60s/);
    // While active: 360 pulls/h instead of 60, plus up to 180 pushes of 3 requests.
    expect(e.activePerHour).toBe(300 + 540);
    // Pulling every 20 s would blow the idle budget.
    expect(estimateRequests({ ...AUTO_DEFAULTS, pullInterval: 20 }, 2).idlePerMonth).toBeGreaterThan(100_000);
  });
});
