import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { claudeAdapter } from '../../src/adapters/claude/index.js';
import { openDb } from '../../src/store/db.js';
import { ingest } from '../../src/ingest/index.js';
import { dailyReport } from '../../src/reports/index.js';
import { FIXTURES_DIR, tempDir } from '../helpers/fixtures.js';
import { storeDaily } from '../helpers/ccusage.js';

/**
 * How a Claude response is billed (docs/numbers.md, "How we count"): once per message.id
 * (else requestId, else the line), at the per-field maximum over its lines, dated by its
 * earliest line and attributed to that line's session and project.
 */

/** Writes `files` (relative to projects/) under a fresh Claude root and ingests them. */
async function ingestFiles(files: Record<string, Array<object | string>>) {
  const root = join(tempDir(), 'claude');
  for (const [rel, recs] of Object.entries(files)) {
    const p = join(root, 'projects', rel);
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, recs.map((r) => (typeof r === 'string' ? r : JSON.stringify(r)) + '\n').join(''));
  }
  const db = openDb(join(tempDir(), 'store.db'));
  const report = await ingest(db, { adapters: [claudeAdapter], env: { CLAUDE_CONFIG_DIR: root } });
  return { root, db, report };
}

const base = { sessionId: 's1', cwd: '/w', version: '2.0.1', timestamp: '2025-07-01T10:00:00.000Z' };
type Usage = Record<string, unknown>;
const assistant = (uuid: string, id: string | undefined, req: string | undefined, usage: Usage, more: Record<string, unknown> = {}) => ({
  ...base,
  type: 'assistant',
  uuid,
  ...(req ? { requestId: req } : {}),
  message: { ...(id ? { id } : {}), model: 'claude-sonnet-4-5-20250929', content: [{ type: 'text', text: 'ok' }], usage },
  ...more,
});
const u = (input: number, output: number, cacheCreate = 0, cacheRead = 0): Usage => ({
  input_tokens: input, output_tokens: output, cache_creation_input_tokens: cacheCreate, cache_read_input_tokens: cacheRead,
});
const bills = (db: ReturnType<typeof openDb>): unknown[][] =>
  db.prepare('SELECT usage_key, session_id, ts, input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens FROM usage ORDER BY usage_key').raw().all() as unknown[][];

describe('billing a Claude response', () => {
  it('real response: msg_01RcDNkcZxwfy4UY9xdcSoX3 streams output 8, 8, 436 over three lines and is billed 436 once, dated by its first line', async () => {
    const db = openDb(join(tempDir(), 'store.db'));
    await ingest(db, { adapters: [claudeAdapter], env: { CLAUDE_CONFIG_DIR: join(FIXTURES_DIR, 'claude') } });
    const row = db.prepare(`SELECT ts, session_id, input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens FROM usage WHERE usage_key = 'm:msg_01RcDNkcZxwfy4UY9xdcSoX3'`).get();
    expect(row).toEqual({
      ts: '2025-12-09T19:47:54.563Z', session_id: '7f2abd2d-7cfc-4447-9ddd-3ca8d14e02e9',
      input_tokens: 10, output_tokens: 436, cache_creation_tokens: 3893, cache_read_tokens: 12135,
    });
    // Another real one, with 1-hour cache writes: three lines, identical usage, one bill with its split.
    const h = db.prepare(`SELECT output_tokens, cache_creation_tokens, cache_1h_tokens FROM usage WHERE usage_key = 'm:msg_01XwTPVdM5y8bf1EDKvGBV35'`).raw().get() as number[];
    expect(h[0]).toBe(2201);
    expect(h[2]).toBe(27860);
    expect(h[2]).toBeLessThanOrEqual(h[1]);
    // Three lines carried it; one bill.
    expect(db.prepare(`SELECT COUNT(*) FROM events WHERE usage_key = 'm:msg_01RcDNkcZxwfy4UY9xdcSoX3'`).pluck().get()).toBe(3);
    expect(db.prepare(`SELECT COUNT(*) FROM usage WHERE usage_key = 'm:msg_01RcDNkcZxwfy4UY9xdcSoX3'`).pluck().get()).toBe(1);
  });

  it('takes each count at its maximum over the lines, in any order of lines or files', async () => {
    const early = assistant('a1', 'msg_A', 'req_1', u(5, 1, 100, 0), { timestamp: '2025-07-01T23:59:59.990Z' });
    const late = assistant('a2', 'msg_A', 'req_1', u(5, 300, 100, 40), { timestamp: '2025-07-02T00:00:00.010Z' });
    const orders: Array<Record<string, object[]>> = [{ '-w/a.jsonl': [early, late] }, { '-w/a.jsonl': [late, early] }, { '-w/a.jsonl': [late], '-w/b.jsonl': [early] }];
    for (const files of orders) {
      const { db } = await ingestFiles(files);
      // Across midnight: the day of the first line, the usage of the largest.
      expect(storeDaily(db)).toEqual([{ date: '2025-07-01', inputTokens: 5, outputTokens: 300, cacheCreationTokens: 100, cacheReadTokens: 40 }]);
    }
  });

  it('a sidechain replay under a new requestId, a line without requestId and a resumed copy are the same response', async () => {
    const orig = assistant('o1', 'msg_R', 'req_1', u(10, 50, 1000, 2000));
    const replay = assistant('r1', 'msg_R', 'req_9', u(10, 50, 1000, 2000), { isSidechain: true, timestamp: '2025-07-01T10:05:00.000Z' });
    const noReq = assistant('n1', 'msg_R', undefined, u(10, 60, 1000, 2000), { timestamp: '2025-07-01T10:00:01.000Z' });
    // Resuming copies the earlier lines, timestamps and all, into a new session's file.
    const resumed = { ...orig, sessionId: 's0-resumed', uuid: 'o1' };
    const { db } = await ingestFiles({ '-w/s1.jsonl': [orig, noReq], '-w/s1/subagents/agent-x.jsonl': [replay], '-w/s0-resumed.jsonl': [resumed] });
    // Same instant in two sessions: the tie goes to the lower session id, on every device alike.
    expect(bills(db)).toEqual([['m:msg_R', 's0-resumed', '2025-07-01T10:00:00.000Z', 10, 60, 1000, 2000]]);
  });

  it('without message.id the requestId is the identity; without both, each line is its own', async () => {
    const { db } = await ingestFiles({
      '-w/a.jsonl': [
        assistant('q1', undefined, 'req_Q', u(3, 1)),
        assistant('q2', undefined, 'req_Q', u(3, 9), { timestamp: '2025-07-01T10:00:02.000Z' }),
        assistant('l1', undefined, undefined, u(1, 1)),
        assistant('l2', undefined, undefined, u(1, 1)),
      ],
    });
    const keys = (bills(db)).map((r) => [String(r[0]).replace(/^uid:.*/, 'uid:…'), r[4]]);
    expect(keys).toEqual([['r:req_Q', 9], ['uid:…', 1], ['uid:…', 1]]);
  });

  it('toy ids reused in unrelated fixture files are one response under the rule (real ids are unique per response)', async () => {
    const db = openDb(join(tempDir(), 'store.db'));
    await ingest(db, { adapters: [claudeAdapter], env: { CLAUDE_CONFIG_DIR: join(FIXTURES_DIR, 'claude') } });
    // msg_004 appears in three -tmp files (85 output each), msg_002 in two (120 and 85): one bill each, at the largest.
    expect(db.prepare(`SELECT output_tokens FROM usage WHERE usage_key = 'm:msg_004'`).pluck().all()).toEqual([85]);
    expect(db.prepare(`SELECT output_tokens FROM usage WHERE usage_key = 'm:msg_002'`).pluck().all()).toEqual([120]);
  });

  it('accepts any ISO-8601 instant; an unparseable stamp or an impossible count makes the line malformed, counted and reported', async () => {
    const ok = [
      assistant('t1', 'msg_us', 'r', u(1, 1), { timestamp: '2025-07-01T10:00:00.123456Z' }),
      assistant('t2', 'msg_off', 'r', u(2, 2), { timestamp: '2025-07-01T12:00:00.5+02:00' }),
      assistant('t3', 'msg_basic', 'r', u(4, 4), { timestamp: '2025-07-01T10:00:00-0130' }),
    ];
    const bad = [
      assistant('b1', 'msg_b1', 'r', u(1, 1), { timestamp: '2025-07-01 10:00' }),
      assistant('b2', 'msg_b2', 'r', u(1, 1), { timestamp: '2025-02-30T10:00:00Z' }),
      assistant('b3', 'msg_b3', 'r', u(-5, 1)),
      assistant('b4', 'msg_b4', 'r', u(1.5, 1)),
      assistant('b6', 'msg_b6', 'r', u(1, 2 ** 53)),
      assistant('b7', 'msg_b7', 'r', { ...u(1, 1), cache_creation: { ephemeral_1h_input_tokens: '5' } }),
    ];
    const { db, report } = await ingestFiles({ '-w/a.jsonl': [...ok, ...bad, '{"type":"assistant","timestamp":"2025-07-01T10:00:00Z","message":{"id":"msg_b5","usage":{"input_tokens":1e400,"output_tokens":1}}}'] });
    expect(report.malformedLines).toBe(bad.length + 1);
    expect(report.malformed).toEqual([{ path: expect.stringContaining('a.jsonl'), lines: bad.length + 1 }]);
    expect(bills(db).map((r) => [r[0], r[2]])).toEqual([
      ['m:msg_basic', '2025-07-01T11:30:00.000Z'],
      ['m:msg_off', '2025-07-01T10:00:00.500Z'],
      ['m:msg_us', '2025-07-01T10:00:00.123Z'],
    ]);
    expect(dailyReport(db, { timezone: 'UTC' }).totals.inputTokens).toBe(7);
  });

  it('prices 1-hour cache writes at 2x base input and 5-minute writes at 1.25x', async () => {
    const split = (m5: number, h1: number): Usage => ({ ...u(0, 0, m5 + h1, 0), cache_creation: { ephemeral_5m_input_tokens: m5, ephemeral_1h_input_tokens: h1 } });
    const { db } = await ingestFiles({ '-w/a.jsonl': [assistant('c1', 'msg_c1', 'r', split(100_000, 0)), assistant('c2', 'msg_c2', 'r', split(0, 100_000))] });
    const r = dailyReport(db, { timezone: 'UTC' });
    // claude-sonnet-4-5: input $3/M, so 5-minute writes $3.75/M and 1-hour writes $6/M.
    expect(r.totals.cacheCreationTokens).toBe(200_000);
    expect(r.totals.totalCost).toBeCloseTo(0.375 + 0.6, 9);
  });
});
