import { describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.js';
import { reportContext } from '../../src/query/context.js';
import { billedEntries, billedSum, sessionSum, type EntryRange } from '../../src/reports/entries.js';
import { tempStore, usageEvent, write } from './helpers.js';

/** Responses the sums must price as billedEntries prices them one by one. */
function store(): Db {
  const { db } = tempStore();
  write(db, [
    usageEvent({ ts: '2026-03-01T09:00:00Z', session: 'a', input: 1200, output: 300, cacheCreate: 5000, cache1h: 2000, cacheRead: 40_000 }),
    // Above the long-context threshold: billed at the higher rate, per response.
    usageEvent({ ts: '2026-03-01T09:10:00Z', session: 'a', input: 250_000, output: 1000, cacheRead: 210_000 }),
    usageEvent({ ts: '2026-03-01T09:20:00Z', session: 'a', model: 'claude-opus-4-6', input: 900, output: 4000 }),
    usageEvent({ ts: '2026-03-01T09:30:00Z', session: 'a', model: 'a-model-without-a-price', input: 1000, output: 1000 }),
    usageEvent({ ts: '2026-03-01T09:40:00Z', session: 'a', model: '<synthetic>', input: 0, output: 0 }),
    usageEvent({ ts: '2026-03-01T15:00:00Z', session: 'b', input: 300, output: 30 }),
    usageEvent({ ts: '2026-03-02T08:00:00Z', session: 'a', input: 700, output: 70 }),
  ]);
  return db;
}

function entriesCost(db: Db, range: EntryRange): { cost: number; responses: number } {
  const ctx = reportContext(db, { provider: 'claude', timezone: 'UTC' }, {});
  const entries = billedEntries(db, ctx, range);
  return { cost: entries.reduce((c, e) => c + (e.cost ?? 0), 0), responses: entries.length };
}

describe('billed sums (the status line)', () => {
  it('cost what the billed entries cost one by one: long-context excess, 1-hour writes, unpriced and synthetic models', () => {
    const db = store();
    const ctx = reportContext(db, { provider: 'claude', timezone: 'UTC' }, {});
    const from = Date.parse('2026-03-01T09:15:00Z');
    for (const range of [{}, { fromMs: from }, { fromMs: from, untilMs: Date.parse('2026-03-01T23:59:59Z') }, { session: 'b' }] as EntryRange[]) {
      const want = entriesCost(db, range);
      const got = billedSum(db, ctx, range);
      expect(got.responses, JSON.stringify(range)).toBe(want.responses);
      expect(got.cost, JSON.stringify(range)).toBeCloseTo(want.cost, 10);
    }
    expect(billedSum(db, ctx, {}).responses).toBe(7);
    expect(billedSum(db, ctx, { fromMs: Date.parse('2027-01-01T00:00:00Z') })).toEqual({ cost: 0, responses: 0 });
  });

  it("a session's sum covers all of its responses and no other session's", () => {
    const db = store();
    const ctx = reportContext(db, { provider: 'claude', timezone: 'UTC' }, {});
    const a = sessionSum(db, ctx, 'a');
    expect(a.responses).toBe(6);
    expect(a.cost).toBeCloseTo(entriesCost(db, { session: 'a' }).cost, 10);
    expect(a.cost + sessionSum(db, ctx, 'b').cost).toBeCloseTo(entriesCost(db, {}).cost, 10);
    expect(sessionSum(db, ctx, 'no-such-session')).toEqual({ cost: 0, responses: 0 });
  });

  it('an empty store sums to nothing', () => {
    const { db } = tempStore();
    const ctx = reportContext(db, { provider: 'claude', timezone: 'UTC' }, {});
    expect(billedSum(db, ctx)).toEqual({ cost: 0, responses: 0 });
    expect(sessionSum(db, ctx, 'a')).toEqual({ cost: 0, responses: 0 });
  });
});

/** The plans of the queries `fn` runs whose SQL contains `marker`. */
function plans(db: Db, marker: string, fn: (db: Db) => unknown): string {
  const sql: string[] = [];
  const prepare = db.prepare.bind(db);
  fn(Object.assign(Object.create(db) as Db, { prepare: (s: string) => (sql.push(s), prepare(s)) }));
  return sql
    .filter((s) => s.includes(marker))
    .map((q) => (prepare(`EXPLAIN QUERY PLAN ${q}`).all(...q.match(/\?/g)!.map(() => null)) as Array<{ detail: string }>).map((r) => r.detail).join('; '))
    .join(' | ');
}

describe("a session's sum reads its own bills alone", () => {
  it('from one range of the session index, no row of the table looked up', () => {
    const db = store();
    const ctx = reportContext(db, { provider: 'claude', timezone: 'UTC' }, {});
    expect(plans(db, 'GROUP BY u.model', (d) => sessionSum(d, ctx, 'a'))).toBe('SEARCH u USING COVERING INDEX usage_session (session_id=? AND provider=?)');
    // "Covering" as the bytecode has it: one cursor, on the index (an index on an expression was
    // called covering too, and still looked every row up in the table).
    const sql: string[] = [];
    const prepare = db.prepare.bind(db);
    sessionSum(Object.assign(Object.create(db) as Db, { prepare: (q: string) => (sql.push(q), prepare(q)) }), ctx, 'a');
    const q = sql.find((x) => x.includes('GROUP BY u.model'))!;
    const ops = (prepare(`EXPLAIN ${q}`).all(...q.match(/\?/g)!.map(() => null)) as Array<{ opcode: string }>).map((r) => r.opcode);
    expect(ops.filter((o) => o === 'OpenRead')).toHaveLength(1);
    expect(ops.filter((o) => /^(NotFound|NotExists|Found|SeekRowid|DeferredSeek|Seek)$/.test(o))).toEqual([]);
  });

  it('an index the reports do not pick up: their sums scan as before', () => {
    const db = store();
    const indexes = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND sql LIKE '%WHERE ts_ms > 0'`).pluck().all();
    expect(indexes.sort()).toEqual(['union_session', 'usage_session']);
    // The shapes of the reports' queries (src/reports/aggregate.ts, rollup.ts).
    const queries = (t: string) => [
      `SELECT u.session_id, u.project, u.model, SUM(u.input_tokens) FROM ${t} u WHERE +u.ts_ms > 0 GROUP BY u.session_id, u.project, u.provider, u.model`,
      `SELECT u.session_id, u.model, SUM(u.input_tokens) FROM ${t} u WHERE +u.ts_ms > 0 GROUP BY u.session_id, u.provider, u.model`,
      `SELECT u.model, SUM(u.input_tokens), SUM(u.cache_read_tokens) FROM ${t} u WHERE +u.ts_ms > 0 GROUP BY u.provider, u.model`,
      `SELECT u.device_id, u.project, u.session_id, u.provider, u.model, SUM(u.input_tokens) FROM ${t} u WHERE u.ts_ms > 0 GROUP BY u.device_id, u.ts_ms / 86400000, u.project, u.session_id, u.provider, u.model`,
    ];
    for (const table of ['usage', 'usage_union']) {
      for (const q of queries(table)) {
        const plan = (db.prepare(`EXPLAIN QUERY PLAN ${q}`).all() as Array<{ detail: string }>).map((r) => r.detail).join('; ');
        expect(plan, q).not.toMatch(/_session/);
      }
    }
  });
});

describe('lean entries (blocks)', () => {
  it('are the entries without device and session, read from the time index alone', () => {
    const db = store();
    const ctx = reportContext(db, { provider: 'claude', timezone: 'UTC' }, {});
    const fromMs = Date.parse('2026-03-01T09:05:00Z');
    const full = billedEntries(db, ctx, { fromMs });
    expect(billedEntries(db, ctx, { fromMs, lean: true })).toEqual(full.map((e) => ({ ...e, device: '', session: '' })));

    // The query's plan: one range of the covering time index, no lookup of the table's rows.
    expect(plans(db, 'ORDER BY u.ts_ms, u.usage_key', (d) => billedEntries(d, ctx, { fromMs, lean: true }))).toMatch(/^SEARCH u USING COVERING INDEX usage_day \(ts_ms>\?\)/);
  });
});
