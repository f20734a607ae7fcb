import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Db } from '../../src/store/db.js';
import { ingest } from '../../src/ingest/index.js';
import { ADAPTERS } from '../../src/adapters/index.js';
import { aggregate, slotsAnswer, type GroupKey } from '../../src/reports/aggregate.js';
import { reportContext } from '../../src/query/context.js';
import { dailyReport, modelReport, monthlyReport } from '../../src/reports/index.js';
import type { ReportOptions } from '../../src/query/options.js';
import { fixedClock } from '../../src/model/clock.js';
import { FIXTURES_DIR } from '../helpers/fixtures.js';
import { tempStore, usageEvent, write, type UsageSpec } from './helpers.js';

/**
 * The 15-minute usage slots (migrations 034, 035) must answer exactly what summing the bills
 * answers, whenever the reports choose them, for each device's bills and for the union's; and
 * the triggers must keep them so through every way the bills change.
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
      if (/GROUP BY/.test(sql)) seen.push(/FROM (usage|union)_slots/.test(sql) ? 'slots' : 'usage');
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
  /** The slots as a fresh recompute from the bills would build them (the migration's backfill). */
  const recompute = (db: Db, view = 'usage_slot_rows') =>
    db
      .prepare(
        `SELECT slot_ms, device_id, provider, model_key, SUM(input_tokens), SUM(output_tokens), SUM(cache_creation_tokens), SUM(cache_1h_tokens),
          SUM(cache_read_tokens), SUM(reasoning_tokens), SUM(input_above), SUM(output_above), SUM(cache_creation_above), SUM(cache_read_above),
          COUNT(*), MIN(ts_ms), MAX(ts_ms), SUM(cache_1h_above)
        FROM ${view} GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`,
      )
      .raw()
      .all();
  const stored = (db: Db, table = 'usage_slots') => db.prepare(`SELECT * FROM ${table} ORDER BY 1, 2, 3, 4`).raw().all();
  const exact = (db: Db) => {
    expect(stored(db)).toEqual(recompute(db));
    expect(stored(db, 'union_slots')).toEqual(recompute(db, 'union_slot_rows'));
  };

  it('through new bills, raised bills, a changed event, and a bill moved to an earlier line', () => {
    const { db } = tempStore();
    write(db, spread(200, 3));
    write(db, spread(30, 6), { deviceId: PEER });
    expect(stored(db, 'union_slots').length).toBeGreaterThan(0);
    exact(db);

    // Later lines of the same responses report more output (a raise: the slot takes the difference).
    const later = spread(200, 3).map((e, i) => ({ ...e, ...usageEvent({ ts: e.ts, record: `${e.record}-b`, usageKey: e.usageKey!, model: e.model, provider: e.provider, output: (e.usage!.outputTokens) + i, input: e.usage!.inputTokens, cacheRead: e.usage!.cacheReadTokens, cacheCreate: e.usage!.cacheCreationTokens, reasoning: e.usage!.reasoningTokens }) }));
    write(db, later);
    exact(db);

    // An event rewritten with more usage: its bill rises (events_usage_au).
    const claude = db.prepare(`SELECT record_id FROM events WHERE provider = 'claude' AND has_usage = 1 ORDER BY id`).pluck().all() as string[];
    write(db, [usageEvent({ ts: '2026-03-06T08:00:00Z', record: claude[5], input: 777_777 })], { clockMs: 1_800_000_000_000 });
    expect(db.prepare(`SELECT input_tokens FROM usage WHERE usage_key = ?`).pluck().get(`m:key-${claude[5]}`)).toBe(777_777);
    exact(db);

    // The same response seen on an earlier line: its bill moves to that line's slot, its counts stay the largest.
    const before = db.prepare(`SELECT input_tokens FROM usage WHERE usage_key = 'm:key-r3-7'`).pluck().get() as number;
    write(db, [usageEvent({ ts: '2026-03-05T23:50:00Z', record: 'earlier', usageKey: 'm:key-r3-7', input: 1 })]);
    expect(db.prepare(`SELECT ts, input_tokens FROM usage WHERE usage_key = 'm:key-r3-7'`).raw().get()).toEqual(['2026-03-05T23:50:00.000Z', before]);
    exact(db);
  });

  it('a response on two devices is billed once under all: largest counts, earliest line, in either landing order', () => {
    const runs = [0, 1].map((order) => {
      const { db } = tempStore();
      const self = db.prepare(`SELECT value FROM meta WHERE key = 'device_id'`).pluck().get() as string;
      const mine = () => write(db, [usageEvent({ ts: '2026-03-06T00:30:00Z', record: 'a', usageKey: 'm:shared', input: 5, output: 8, session: 's-resumed' })]);
      const peers = () => write(db, [usageEvent({ ts: '2026-03-06T00:30:00Z', record: 'b', usageKey: 'm:shared', input: 5, output: 436, session: 's-orig' })], { deviceId: PEER });
      if (order === 0) {
        mine();
        peers();
      } else {
        peers();
        mine();
      }
      const union = db.prepare(`SELECT device_id, session_id, output_tokens FROM usage_union WHERE usage_key = 'm:shared'`).get() as Record<string, unknown>;
      expect(union).toEqual({ device_id: PEER, session_id: 's-orig', output_tokens: 436 });
      const daily = dailyReport(db, { timezone: 'UTC', scope: { kind: 'all' } }).totals;
      const local = dailyReport(db, { timezone: 'UTC', scope: { kind: 'local' } }).totals;
      expect(local.outputTokens).toBe(8);
      expect(self).not.toBe(PEER);
      exact(db);
      return [daily.inputTokens, daily.outputTokens];
    });
    expect(runs[0]).toEqual([5, 436]);
    expect(runs[1]).toEqual(runs[0]);
  });
});
