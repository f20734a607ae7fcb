import { beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { Db } from '../../src/store/db.js';
import { ingest } from '../../src/ingest/index.js';
import { ADAPTERS } from '../../src/adapters/index.js';
import { dailyReport, listSessions, modelReport, monthlyReport, projectReport, renderReport, sessionReport } from '../../src/reports/index.js';
import { defaultScope } from '../../src/query/scope.js';
import { parseReportOptions } from '../../src/query/options.js';
import { aggregate } from '../../src/reports/aggregate.js';
import { billedEntries, billedSum } from '../../src/reports/entries.js';
import { groupCost } from '../../src/query/pricing.js';
import { dashboardSessions } from '../../src/reports/dashboard.js';
import { reportContext } from '../../src/query/context.js';
import { fixedClock } from '../../src/model/clock.js';
import { tempStore, usageEvent, write } from './helpers.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

// ccusage 18's `daily --json` field names, in its order (node_modules/ccusage/dist/index.js).
const CCUSAGE_DAILY_KEYS = ['date', 'inputTokens', 'outputTokens', 'cacheCreationTokens', 'cacheReadTokens', 'totalTokens', 'totalCost', 'modelsUsed', 'modelBreakdowns'];
const CCUSAGE_BREAKDOWN_KEYS = ['modelName', 'inputTokens', 'outputTokens', 'cacheCreationTokens', 'cacheReadTokens', 'cost'];
const CCUSAGE_TOTALS_KEYS = ['inputTokens', 'outputTokens', 'cacheCreationTokens', 'cacheReadTokens', 'totalCost', 'totalTokens'];

describe('reports over the real ingest of the fixtures', () => {
  let db: Db;
  beforeAll(async () => {
    const t = tempStore();
    db = t.db;
    await ingest(db, {
      adapters: [...ADAPTERS],
      env: { CLAUDE_CONFIG_DIR: join(FIXTURES, 'claude'), CODEX_HOME: join(FIXTURES, 'codex') },
      clock: fixedClock(1_800_000_000_000, 1),
    });
  });

  it('daily --json has ccusage field names first, in ccusage order', () => {
    const r = dailyReport(db, { timezone: 'UTC' });
    expect(r.daily.length).toBeGreaterThan(5);
    for (const d of r.daily) {
      expect(Object.keys(d).slice(0, CCUSAGE_DAILY_KEYS.length)).toEqual(CCUSAGE_DAILY_KEYS);
      expect(d.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      for (const b of d.modelBreakdowns) expect(Object.keys(b).slice(0, CCUSAGE_BREAKDOWN_KEYS.length)).toEqual(CCUSAGE_BREAKDOWN_KEYS);
      expect(d.totalTokens).toBe(d.inputTokens + d.outputTokens + d.cacheCreationTokens + d.cacheReadTokens);
      expect(d.modelsUsed).not.toContain('<synthetic>');
      // The breakdown tokens add up to the day's (synthetic records carry none).
      expect(d.modelBreakdowns.reduce((a, b) => a + b.inputTokens + b.outputTokens + b.cacheCreationTokens + b.cacheReadTokens, 0)).toBe(d.totalTokens);
    }
    expect(Object.keys(r.totals).slice(0, CCUSAGE_TOTALS_KEYS.length)).toEqual(CCUSAGE_TOTALS_KEYS);
    expect(r.totals.totalTokens).toBe(r.daily.reduce((a, d) => a + d.totalTokens, 0));
    expect(r.daily.map((d) => d.date)).toEqual([...r.daily.map((d) => d.date)].sort());
  });

  it('daily and monthly sums from the usage rows read only the usage_day index, never the usage table (migration 032)', () => {
    const plans: string[] = [];
    const prepare = db.prepare.bind(db);
    const spy = (sql: string) => {
      // The aggregation queries: plan them with the parameters they are about to get.
      if (/GROUP BY/.test(sql) && /FROM usage u/.test(sql)) {
        const st = prepare(sql);
        const proxy: typeof st = new Proxy(st, {
          get: (t, k) =>
            k === 'all'
              ? (...params: unknown[]) => {
                  plans.push((prepare('EXPLAIN QUERY PLAN ' + sql).all(...params) as Array<{ detail: string }>).map((r) => r.detail).join(' | '));
                  return t.all(...params);
                }
              : k === 'raw'
                ? (on = true) => (t.raw(on), proxy)
                : Reflect.get(t, k),
        });
        return proxy;
      }
      return prepare(sql);
    };
    (db as unknown as { prepare: typeof spy }).prepare = spy;
    try {
      // The reports read the usage slots first (test/reports/slots.test.ts); this is the path they fall back to.
      aggregate(db, reportContext(db, { timezone: 'UTC' }), ['day'], 'usage');
      aggregate(db, reportContext(db, { timezone: 'Europe/Berlin', provider: 'claude' }), ['day'], 'usage');
      aggregate(db, reportContext(db, { timezone: 'UTC', scope: { kind: 'local' } }), ['day'], 'usage');
    } finally {
      (db as unknown as { prepare: typeof prepare }).prepare = prepare;
    }
    expect(plans.length).toBeGreaterThanOrEqual(3);
    for (const p of plans) expect(p).toMatch(/^SCAN u USING COVERING INDEX usage_day\b/);
  });

  it('every report covers the same usage', () => {
    const total = dailyReport(db, { timezone: 'UTC' }).totals;
    for (const r of [monthlyReport(db, { timezone: 'UTC' }), sessionReport(db, { timezone: 'UTC' }), projectReport(db, { timezone: 'UTC' }), modelReport(db, { timezone: 'UTC' })]) {
      expect({ ...r.totals, totalCost: 0 }).toEqual({ ...total, totalCost: 0 });
      expect(r.totals.totalCost).toBeCloseTo(total.totalCost, 9);
    }
    const m = monthlyReport(db, { timezone: 'UTC' });
    expect(m.monthly.every((x) => /^\d{4}-\d{2}$/.test(x.month))).toBe(true);
    const s = sessionReport(db, { timezone: 'UTC' });
    expect(Object.keys(s.sessions[0]).slice(0, 11)).toEqual([
      'sessionId', 'inputTokens', 'outputTokens', 'cacheCreationTokens', 'cacheReadTokens', 'totalTokens', 'totalCost', 'lastActivity', 'modelsUsed', 'modelBreakdowns', 'projectPath',
    ]);
  });

  it('filters by provider and project', () => {
    const codex = dailyReport(db, { timezone: 'UTC', provider: 'codex' });
    expect(codex.daily.length).toBeGreaterThan(0);
    expect(codex.daily.every((d) => d.providers.join() === 'codex')).toBe(true);
    expect(codex.daily.every((d) => d.cacheCreationTokens === 0)).toBe(true);
    const claude = dailyReport(db, { timezone: 'UTC', provider: 'claude' });
    expect(codex.totals.totalTokens + claude.totals.totalTokens).toBe(dailyReport(db, { timezone: 'UTC' }).totals.totalTokens);

    const exact = projectReport(db, { project: '-Users-test-dev-ai-music' });
    expect(exact.projects.map((p) => p.project)).toEqual(['-Users-test-dev-ai-music']);
    const part = projectReport(db, { project: 'SPOTTER' });
    expect(part.projects.map((p) => p.project).sort()).toEqual(['-home-marco-projects-spotter', '-home-marco-projects-spotter-worktrees-spotter-4te']);
    const byPath = projectReport(db, { project: '/home/marco/projects/spotter' });
    expect(byPath.projects.map((p) => p.project)).toEqual(['-home-marco-projects-spotter']);
    expect(projectReport(db, { project: 'no-such-project-anywhere' }).projects).toEqual([]);
  });

  it('a model without a price has unknown cost and is listed, never silently zero', () => {
    const models = modelReport(db, {});
    const unpriced = models.models.filter((m) => !m.priced);
    expect(unpriced.length).toBeGreaterThan(0);
    for (const m of unpriced) expect(m.totalCost).toBeNull();
    expect(models.totals.unpricedModels).toEqual(unpriced.map((m) => m.modelName).sort());
    expect(models.totals.unpricedTokens).toBe(unpriced.reduce((a, m) => a + m.totalTokens, 0));
    const day = dailyReport(db, { timezone: 'UTC' }).daily.find((d) => d.unpricedModels.length > 0)!;
    const b = day.modelBreakdowns.find((x) => x.modelName === day.unpricedModels[0])!;
    expect(b.cost).toBeNull();
    const text = renderReport('model', models);
    expect(text).toMatch(/\?/);
    expect(text).toMatch(/Cost excludes .* tokens of models without a price/);
  });

  it('sessions listing has activity, events and whole-session tokens', () => {
    const list = listSessions(db, { timezone: 'UTC' });
    expect(list.sessions.length).toBeGreaterThan(10);
    const times = list.sessions.map((s) => s.lastTimestamp);
    expect(times).toEqual([...times].sort().reverse());
    expect(list.sessions.every((s) => s.events > 0)).toBe(true);
    const limited = listSessions(db, { limit: 3, provider: 'codex' });
    expect(limited.sessions).toHaveLength(3);
    expect(limited.sessions.every((s) => s.provider === 'codex')).toBe(true);
  });
});

describe('unit reports on hand-made usage', () => {
  it('prices, orders breakdowns by cost and totals the cost of priced usage only', () => {
    const { db } = tempStore();
    write(db, [
      usageEvent({ ts: '2026-03-01T10:00:00Z', model: 'claude-opus-4-7', input: 1_000_000, output: 0 }),
      usageEvent({ ts: '2026-03-01T11:00:00Z', model: 'claude-haiku-4-5-20251001', input: 1_000_000, output: 0 }),
      usageEvent({ ts: '2026-03-01T12:00:00Z', model: 'mystery-model', input: 500, output: 500 }),
      usageEvent({ ts: '2026-03-01T12:30:00Z', model: '<synthetic>', input: 0, output: 0 }),
      usageEvent({ ts: '2026-03-01T13:00:00Z', provider: 'codex', model: 'gpt-5-codex', input: 200_000, cacheRead: 800_000, output: 100_000 }),
    ]);
    const [d] = dailyReport(db, { timezone: 'UTC' }).daily;
    expect(d.modelBreakdowns.map((b) => [b.modelName, b.cost])).toEqual([
      ['claude-opus-4-7', 5],
      ['gpt-5-codex', 0.2 * 1.25 + 0.8 * 0.125 + 0.1 * 10],
      ['claude-haiku-4-5-20251001', 1],
      ['mystery-model', null],
    ]);
    expect(d.totalCost).toBeCloseTo(5 + 1 + 1.35, 10);
    expect(d.unpricedModels).toEqual(['mystery-model']);
    expect(d.unpricedTokens).toBe(1000);
    expect(d.modelsUsed).toEqual(['claude-opus-4-7', 'claude-haiku-4-5-20251001', 'mystery-model', 'gpt-5-codex']);
    expect(d.providers).toEqual(['claude', 'codex']);
  });

  it('bill a long-context response whole, from the slots and from the bills alike, and as the billed entries do', () => {
    const { db } = tempStore();
    write(db, [
      // Prompt 205k: all at $6 / $22.50 / $0.60 → 0.222.
      usageEvent({ ts: '2026-03-01T10:00:00Z', input: 10_000, output: 2_000, cacheRead: 195_000 }),
      // Prompt 199,999: the base rates → 0.103497.
      usageEvent({ ts: '2026-03-01T10:05:00Z', input: 4_999, output: 2_000, cacheRead: 195_000 }),
      // 1-hour writes of a long request at $12, the 5-minute rest at $7.50 → 2.781.
      usageEvent({ ts: '2026-03-01T11:00:00Z', input: 1_000, output: 0, cacheCreate: 250_000, cache1h: 200_000 }),
    ]);
    const want = 0.222 + 0.103497 + (0.006 + 2.4 + 0.375);
    for (const from of ['slots', 'usage'] as const) {
      const rows = aggregate(db, reportContext(db, { timezone: 'UTC' }), ['day'], from);
      expect(rows.reduce((c, r) => c + (groupCost(r) ?? 0), 0), from).toBeCloseTo(want, 10);
    }
    expect(dailyReport(db, { timezone: 'UTC' }).totals.totalCost).toBeCloseTo(want, 10);
    const ctx = reportContext(db, { timezone: 'UTC' });
    expect(billedEntries(db, ctx, {}).reduce((c, e) => c + (e.cost ?? 0), 0)).toBeCloseTo(want, 10);
    expect(billedSum(db, ctx, {}).cost).toBeCloseTo(want, 10);
  });
});

describe('recent sessions', () => {
  it('the listing and the dashboard choose them by the same local days, also where a DST change skips midnight', () => {
    const { db } = tempStore();
    // Asunción went from -04 to -03 at local midnight on 2024-10-06: that day began at 01:00, 04:00 UTC.
    write(db, [
      usageEvent({ ts: '2024-10-06T03:30:00Z', session: 'saturday-night' }), // 23:30 on the 5th
      usageEvent({ ts: '2024-10-06T04:30:00Z', session: 'sunday-morning' }), // 01:30 on the 6th
    ]);
    const ids = (r: { sessions: Array<{ sessionId: string }> }) => r.sessions.map((s) => s.sessionId);
    const base = { timezone: 'America/Asuncion', scope: { kind: 'local' as const } };
    for (const [range, expected] of [[{ since: '2024-10-06' }, ['sunday-morning']], [{ until: '2024-10-05' }, ['saturday-night']], [{}, ['sunday-morning', 'saturday-night']]] as const) {
      expect(ids(listSessions(db, { ...base, ...range })), JSON.stringify(range)).toEqual(expected);
      expect(ids(dashboardSessions(db, { ...base, ...range })), JSON.stringify(range)).toEqual(expected);
    }
  });
});

describe('scope: local, all (union: each response once), device', () => {
  const PEER = 'ffffffffffffffff';
  const LOW = '0000000000000000';

  function setup() {
    const { db } = tempStore();
    const self = db.prepare(`SELECT value FROM meta WHERE key = 'device_id'`).pluck().get() as string;
    return { db, self };
  }

  it('defaults to local until another device has events, then to all', () => {
    const { db } = setup();
    write(db, [usageEvent({ ts: '2026-03-01T10:00:00Z', record: 'a', input: 100 })]);
    expect(defaultScope(db)).toEqual({ kind: 'local' });
    write(db, [usageEvent({ ts: '2026-03-01T11:00:00Z', record: 'b', input: 5 })], { deviceId: PEER });
    expect(defaultScope(db)).toEqual({ kind: 'all' });
    expect(dailyReport(db, { timezone: 'UTC' }).totals.inputTokens).toBe(105);
    expect(dailyReport(db, { timezone: 'UTC', scope: { kind: 'local' } }).totals.inputTokens).toBe(100);
    expect(dailyReport(db, { timezone: 'UTC', scope: { kind: 'device', device: PEER } }).totals.inputTokens).toBe(5);
    // A unique id prefix names a device too; an unknown one is an error with the known devices as hint.
    expect(dailyReport(db, { timezone: 'UTC', scope: { kind: 'device', device: 'ffff' } }).meta.scope).toBe(`device:${PEER}`);
    expect(() => dailyReport(db, { scope: { kind: 'device', device: 'abcdef' } })).toThrow(/no single device/);
  });

  it('counts an event seen on two devices once, and bills its response once at the largest usage either device saw', () => {
    const { db } = setup();
    // The same record (same uid and usage key) on both devices, with different content.
    write(db, [usageEvent({ ts: '2026-03-01T10:00:00Z', record: 'same', input: 100 })], { clockMs: 1_000 });
    write(db, [usageEvent({ ts: '2026-03-01T10:00:00Z', record: 'same', input: 999 })], { deviceId: PEER, clockMs: 2_000 });
    expect(dailyReport(db, { timezone: 'UTC', scope: { kind: 'all' } }).totals.inputTokens).toBe(999);
    expect(dailyReport(db, { timezone: 'UTC', scope: { kind: 'local' } }).totals.inputTokens).toBe(100);
    expect(listSessions(db, { scope: { kind: 'all' } }).sessions[0].events).toBe(1);
    expect(listSessions(db, { scope: { kind: 'local' } }).sessions[0].events).toBe(1);

    // Rewritten later on this device with more: the local bill rises; the union keeps the largest.
    write(db, [usageEvent({ ts: '2026-03-01T10:00:00Z', record: 'same', input: 1234 })], { clockMs: 3_000 });
    expect(dailyReport(db, { timezone: 'UTC', scope: { kind: 'local' } }).totals.inputTokens).toBe(1234);
    expect(dailyReport(db, { timezone: 'UTC', scope: { kind: 'all' } }).totals.inputTokens).toBe(1234);
    const byDevice = dailyReport(db, { timezone: 'UTC', scope: { kind: 'all' }, byDevice: true });
    expect(byDevice.daily[0].devices?.map((d) => d.inputTokens)).toEqual([1234]);
  });

  it('attributes a response both devices saw at the same instant to the lower device id, on every device', () => {
    const { db } = setup();
    write(db, [usageEvent({ ts: '2026-03-01T10:00:00Z', record: 'tie', input: 1 })], { deviceId: LOW, clockMs: 5_000 });
    write(db, [usageEvent({ ts: '2026-03-01T10:00:00Z', record: 'tie', input: 2 })], { deviceId: PEER, clockMs: 5_000 });
    const all = dailyReport(db, { timezone: 'UTC', scope: { kind: 'all' }, byDevice: true });
    expect(all.totals.inputTokens).toBe(2);
    expect(all.daily[0].devices?.map((d) => [d.deviceId, d.inputTokens])).toEqual([[LOW, 2]]);
    expect(dailyReport(db, { timezone: 'UTC', scope: { kind: 'device', device: LOW } }).totals.inputTokens).toBe(1);
  });

  it('byDevice splits rows per device', () => {
    const { db, self } = setup();
    write(db, [usageEvent({ ts: '2026-03-01T10:00:00Z', record: 'x', input: 10 })]);
    write(db, [usageEvent({ ts: '2026-03-01T12:00:00Z', record: 'y', input: 20 })], { deviceId: PEER });
    const r = dailyReport(db, { timezone: 'UTC', byDevice: true });
    expect(r.daily[0].devices?.map((d) => [d.deviceId, d.inputTokens])).toEqual([[self, 10], [PEER, 20]].sort((a, b) => String(a[0]).localeCompare(String(b[0]))));
    const text = renderReport('daily', r);
    expect(text).toContain('└');
  });
});

describe('parseReportOptions', () => {
  it('validates what the CLI and the API hand in', () => {
    expect(parseReportOptions({ since: '2026-01-01', until: '20260131', tz: 'UTC', provider: 'Codex', scope: 'device:abc', byDevice: 'true' })).toEqual({
      since: '2026-01-01',
      until: '2026-01-31',
      timezone: 'UTC',
      provider: 'codex',
      scope: { kind: 'device', device: 'abc' },
      byDevice: true,
    });
    expect(() => parseReportOptions({ since: '2026-02-01', until: '2026-01-01' })).toThrow(/after/);
    expect(() => parseReportOptions({ provider: 'amp' })).toThrow(/unknown provider/);
    expect(() => parseReportOptions({ scope: 'device:' })).toThrow(/invalid scope/);
  });
});
