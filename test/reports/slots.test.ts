import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Db } from '../../src/store/db.js';
import { ingest } from '../../src/ingest/index.js';
import { ADAPTERS } from '../../src/adapters/index.js';
import { aggregate, reportContext, slotsAnswer, type GroupKey } from '../../src/reports/aggregate.js';
import { dailyReport, modelReport, monthlyReport } from '../../src/reports/index.js';
import type { ReportOptions } from '../../src/reports/options.js';
import { fixedClock } from '../../src/util/clock.js';
import { FIXTURES_DIR } from '../helpers/fixtures.js';
import { tempStore, usageEvent, write, type UsageSpec } from './helpers.js';

/**
 * The 15-minute usage slots (migration 034) must answer exactly what summing the usage rows
 * answers, whenever the reports choose them; and the triggers must keep them so through
 * every way `usage` changes.
 */

const PEER = 'ffffffffffffffff';

// Zones with whole-hour, half-hour and 45-minute offsets and DST rules, including Lord Howe's
// 30-minute DST and a southern-hemisphere change inside the data.
const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'America/St_Johns', 'Pacific/Chatham'];
const KEYS: GroupKey[][] = [['day'], [], ['day', 'device']];
const OPTIONS: ReportOptions[] = [{}, { since: '2026-03-07', until: '2026-03-10' }, { provider: 'codex' }, { until: '2026-04-05' }];

/** Usage around the March/April DST changes of both hemispheres, every 7 to 90 minutes. */
function spread(n: number, seed: number, extra: Partial<UsageSpec> = {}): ReturnType<typeof usageEvent>[] {
  const out = [];
  let t = Date.parse('2026-03-06T00:00:00Z');
  let x = seed;
  const next = () => (x = (x * 1103515245 + 12345) % 2147483648);
  const models = ['claude-sonnet-4-5-20250929', 'claude-opus-4-1-20250805', null, '', 'gpt-5-codex'];
  for (let i = 0; i < n; i++) {
    t += (7 + (next() % 84)) * 60_000 + (next() % 60_000);
    const model = models[next() % models.length];
    out.push(
      usageEvent({
        ts: new Date(t).toISOString(),
        record: `r${seed}-${i}`,
        model,
        provider: model === 'gpt-5-codex' ? 'codex' : 'claude',
        input: next() % 5_000,
        output: next() % 3_000,
        // Now and then over the 200,000-token long-context threshold.
        cacheRead: next() % 7 === 0 ? 150_000 + (next() % 200_000) : next() % 50_000,
        cacheCreate: next() % 11 === 0 ? 210_000 : next() % 2_000,
        reasoning: next() % 500,
        ...extra,
      }),
    );
  }
  return out;
}

const sorted = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).sort();

function expectSameSums(db: Db, scopes: ReportOptions['scope'][]) {
  let compared = 0;
  for (const timezone of ZONES)
    for (const keys of KEYS)
      for (const o of OPTIONS)
        for (const scope of scopes) {
          const ctx = reportContext(db, { timezone, scope, ...o });
          const fromUsage = aggregate(db, ctx, keys, 'usage');
          expect(sorted(aggregate(db, ctx, keys, 'slots')), `${timezone} ${keys.join(',')} ${JSON.stringify(o)} ${JSON.stringify(scope)}`).toEqual(sorted(fromUsage));
          compared += fromUsage.length;
        }
  // Not vacuous: the comparisons saw real groups.
  expect(compared).toBeGreaterThan(1000);
}

describe('usage slots (migration 034)', () => {
  let db: Db;
  beforeAll(async () => {
    db = tempStore().db;
    await ingest(db, {
      adapters: [...ADAPTERS],
      env: { CLAUDE_CONFIG_DIR: join(FIXTURES_DIR, 'claude'), CODEX_HOME: join(FIXTURES_DIR, 'codex') },
      clock: fixedClock(1_800_000_000_000, 1),
    });
    write(db, spread(600, 1));
    write(db, spread(400, 2), { deviceId: PEER });
  });

  it('sum exactly what the usage rows sum, in every zone, grouping, filter and scope', () => {
    expect(db.prepare('SELECT COUNT(*) FROM usage_shared').pluck().get()).toBe(0);
    expectSameSums(db, [undefined, { kind: 'all' }, { kind: 'local' }, { kind: 'device', device: PEER }]);
  });

  it('stand for many usage rows each', () => {
    const slots = db.prepare('SELECT COUNT(*) AS n, SUM(requests) AS r FROM usage_slots').get() as { n: number; r: number };
    const usage = db.prepare('SELECT COUNT(*) FROM usage WHERE ts_ms > 0').pluck().get() as number;
    expect(slots.r).toBe(usage);
    expect(slots.n).toBeLessThan(usage);
  });

  it('answer daily, monthly and model reports without a project filter; the usage rows answer the rest', () => {
    const ctx = (o: ReportOptions) => reportContext(db, { timezone: 'UTC', ...o });
    const seg = { starts: [Number.MIN_SAFE_INTEGER], offsets: [0] };
    expect(slotsAnswer(db, ctx({}), ['day'], seg)).toBe(true);
    expect(slotsAnswer(db, ctx({}), [], seg)).toBe(true);
    expect(slotsAnswer(db, ctx({ byDevice: true }), ['day', 'device'], seg)).toBe(true);
    expect(slotsAnswer(db, ctx({}), ['session'], seg)).toBe(false);
    expect(slotsAnswer(db, ctx({}), ['project'], seg)).toBe(false);
    expect(slotsAnswer(db, ctx({ project: 'app' }), ['day'], seg)).toBe(false);
    // A slot could straddle two local days: an offset or a change off the 15-minute grid.
    expect(slotsAnswer(db, ctx({}), ['day'], { starts: [Number.MIN_SAFE_INTEGER], offsets: [1_172_000] })).toBe(false);
    expect(slotsAnswer(db, ctx({}), ['day'], { starts: [Number.MIN_SAFE_INTEGER, 1_774_000_000_000 + 60_000], offsets: [0, 3_600_000] })).toBe(false);
  });

  it('the reports read the slots when they answer, and give the same report either way', () => {
    const seen: string[] = [];
    const prepare = db.prepare.bind(db);
    (db as unknown as { prepare: (sql: string) => unknown }).prepare = (sql: string) => {
      if (/GROUP BY/.test(sql)) seen.push(/FROM usage_slots/.test(sql) ? 'slots' : 'usage');
      return prepare(sql);
    };
    try {
      dailyReport(db, { timezone: 'Asia/Kathmandu' });
      monthlyReport(db, { timezone: 'America/St_Johns', provider: 'claude' });
      modelReport(db, { timezone: 'UTC', since: '2026-03-08' });
      expect(seen).toEqual(['slots', 'slots', 'slots']);
      dailyReport(db, { timezone: 'UTC', project: 'app' });
      expect(seen.slice(3).every((s) => s === 'usage')).toBe(true);
    } finally {
      (db as unknown as { prepare: typeof prepare }).prepare = prepare;
    }
  });
});

describe('usage slots kept by triggers', () => {
  /** The slots as a fresh recompute from `usage` would build them (the migration's backfill). */
  const recompute = (db: Db) =>
    db
      .prepare(
        `SELECT slot_ms, device_id, provider, model_key, SUM(input_tokens), SUM(output_tokens), SUM(cache_creation_tokens), SUM(cache_read_tokens),
          SUM(reasoning_tokens), SUM(input_above), SUM(output_above), SUM(cache_creation_above), SUM(cache_read_above), COUNT(*), MIN(ts_ms), MAX(ts_ms)
        FROM usage_slot_rows GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`,
      )
      .raw()
      .all();
  const stored = (db: Db) => db.prepare('SELECT * FROM usage_slots ORDER BY 1, 2, 3, 4').raw().all();

  it('through inserts, rewrites of an event, an earlier record of the same key, and deletes', () => {
    const { db } = tempStore();
    write(db, spread(200, 3));
    expect(stored(db)).toEqual(recompute(db));

    // An event rewritten with other usage: its usage row is updated in place (events_usage_au).
    const claude = db.prepare(`SELECT record_id FROM events WHERE provider = 'claude' AND has_usage = 1 ORDER BY id`).pluck().all() as string[];
    write(db, [usageEvent({ ts: '2026-03-06T08:00:00Z', record: claude[5], input: 777_777, model: 'claude-opus-4-1-20250805' })], { clockMs: 1_800_000_000_000 });
    expect(db.prepare(`SELECT input_tokens FROM usage WHERE event_id = (SELECT id FROM events WHERE record_id = ?)`).pluck().get(claude[5])).toBe(777_777);
    expect(stored(db)).toEqual(recompute(db));

    // The same usage key billed again by an earlier record (ccusage bills the earliest): the row moves to another slot.
    write(db, [usageEvent({ ts: '2026-03-05T23:50:00Z', record: 'earlier', usageKey: 'key-r3-7', input: 1 })]);
    expect(db.prepare(`SELECT ts FROM usage WHERE usage_key = 'key-r3-7'`).pluck().get()).toBe('2026-03-05T23:50:00.000Z');
    expect(stored(db)).toEqual(recompute(db));

    // Nothing deletes usage today; if something ever does, the slots follow.
    db.prepare(`DELETE FROM usage WHERE usage_key IN (SELECT usage_key FROM usage ORDER BY ts_ms LIMIT 25)`).run();
    expect(stored(db)).toEqual(recompute(db));
  });

  it('a usage key on two devices marks it shared, and the all scope then sums the usage rows (last write wins)', () => {
    const { db } = tempStore();
    write(db, spread(50, 4), { clockMs: 1_000 });
    write(db, spread(50, 5), { deviceId: PEER, clockMs: 1_000 });
    const seg = { starts: [Number.MIN_SAFE_INTEGER], offsets: [0] };
    const all = () => reportContext(db, { timezone: 'UTC', scope: { kind: 'all' } });
    expect(slotsAnswer(db, all(), ['day'], seg)).toBe(true);

    // The peer also saw one of this device's records, with other content, written later.
    write(db, [usageEvent({ ts: '2026-03-06T00:30:00Z', record: 'r4-0', usageKey: 'key-r4-0', input: 5, output: 5, model: 'claude-sonnet-4-5-20250929' })], { deviceId: PEER, clockMs: 2_000 });
    expect(db.prepare('SELECT usage_key FROM usage_shared').pluck().all()).toEqual(['key-r4-0']);
    expect(slotsAnswer(db, all(), ['day'], seg)).toBe(false);
    // Local and device scopes never count a key twice: they still read the slots.
    expect(slotsAnswer(db, reportContext(db, { timezone: 'UTC', scope: { kind: 'local' } }), ['day'], seg)).toBe(true);

    const counted = dailyReport(db, { timezone: 'UTC', scope: { kind: 'all' } }).totals.inputTokens;
    const perDevice = (db.prepare('SELECT SUM(input_tokens) FROM usage').pluck().get() as number) - (db.prepare(`SELECT input_tokens FROM usage WHERE usage_key = 'key-r4-0' AND device_id <> ?`).pluck().get(PEER) as number);
    expect(counted).toBe(perDevice);
    expectSameSums(db, [{ kind: 'local' }, { kind: 'device', device: PEER }]);
  });
});
