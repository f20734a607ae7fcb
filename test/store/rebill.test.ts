import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createClaudeParser } from '../../src/adapters/claude/index.js';
import type { EventRecord } from '../../src/model/event.js';
import { ensureDeviceId, loadMigrations, migrate, openDb } from '../../src/store/db.js';
import { dailyReport } from '../../src/reports/index.js';
import { FIXTURES_DIR, tempDir } from '../helpers/fixtures.js';
import { usageEvent } from '../reports/helpers.js';
import { writeBefore044 } from '../helpers/old-store.js';

/**
 * A store written before the billing rule (keys `message.id:requestId`, the first line billed,
 * a usage key billed per device and last write wins across devices) is re-billed from its
 * events by migration 035, its own events and its peers' alike.
 */
const ROOT = join(FIXTURES_DIR, 'claude');
const FILE = join(ROOT, 'projects', '-Users-test-user-agent-sample', '7f2abd2d-7cfc-4447-9ddd-3ca8d14e02e9.jsonl');
const PEER = 'ffffffffffffffff';

/** The fixture's events as the previous version wrote them: old usage keys. */
function oldEvents(lines: string[]): EventRecord[] {
  const parser = createClaudeParser({ provider: 'claude', path: FILE, root: ROOT }, null);
  return lines.flatMap((l) => parser.line(l) ?? []).map((e) => {
    if (!e.usageKey) return e;
    const x = JSON.parse(e.extra!) as { messageId?: string; requestId?: string };
    return { ...e, usageKey: x.messageId && x.requestId ? `${x.messageId}:${x.requestId}` : `uid:${e.uid}` };
  });
}

describe('re-billing a store written by the old rule (migration 035)', () => {
  it('bills each response once at its final usage, for this device, for a peer, and for the union', () => {
    const path = join(tempDir('su-rebill-'), 'store.db');
    const raw = new Database(path);
    migrate(raw, loadMigrations().filter((m) => m.version < 35));
    const self = ensureDeviceId(raw);
    const lines = readFileSync(FILE, 'utf8').split('\n').filter((l) => l.trim() !== '');
    writeBefore044(raw, self, oldEvents(lines), 1_700_000_000_000);
    // The peer holds a copy that stops before the response's last line (output 8 so far).
    writeBefore044(raw, PEER, oldEvents(lines.slice(0, 4)), 1_800_000_000_000);
    // What the old rule billed: the first line of the response (output 8), on both devices.
    const key = 'msg_01RcDNkcZxwfy4UY9xdcSoX3:req_011CVwh2DE1xa9DhWJk67F7N';
    for (const d of [self, PEER]) {
      raw.prepare(`INSERT INTO usage SELECT usage_key, device_id, id, provider, project, session_id, ts, ts_ms, model, input_tokens, output_tokens,
        cache_creation_tokens, cache_read_tokens, reasoning_tokens, total_tokens, written_at FROM events WHERE usage_key = ? AND device_id = ? ORDER BY ts LIMIT 1`).run(key, d);
    }
    expect(raw.prepare('SELECT output_tokens FROM usage WHERE usage_key = ?').pluck().all(key)).toEqual([8, 8]);
    raw.close();

    const db = openDb(path);
    const bill = (table: string) => db.prepare(`SELECT device_id, output_tokens, ts FROM ${table} WHERE usage_key = 'm:msg_01RcDNkcZxwfy4UY9xdcSoX3' ORDER BY device_id`).raw().all();
    expect(bill('usage')).toEqual([[self, 436, '2025-12-09T19:47:54.563Z'], [PEER, 8, '2025-12-09T19:47:54.563Z']].sort((a, b) => String(a[0]).localeCompare(String(b[0]))));
    expect(bill('usage_union')).toEqual([[[self, PEER].sort()[0], 436, '2025-12-09T19:47:54.563Z']]);
    // No key of the old shape is left, and the reports read the new bills.
    expect(db.prepare(`SELECT COUNT(*) FROM usage WHERE usage_key NOT LIKE 'm:%' AND usage_key NOT LIKE 'r:%' AND usage_key NOT LIKE 'uid:%'`).pluck().get()).toBe(0);
    const local = dailyReport(db, { timezone: 'UTC', scope: { kind: 'local' } }).totals;
    const all = dailyReport(db, { timezone: 'UTC', scope: { kind: 'all' } }).totals;
    const sum = db.prepare(`SELECT SUM(output_tokens) FROM usage WHERE device_id = ?`).pluck().get(self) as number;
    expect(local.outputTokens).toBe(sum);
    expect(all.outputTokens).toBe(sum); // the peer's copy adds nothing its own lines do not already say
    // The slots the migration built are what the triggers would keep.
    const slots = (t: string) => db.prepare(`SELECT SUM(output_tokens), SUM(requests) FROM ${t}`).raw().get();
    expect(slots('usage_slots')).toEqual(db.prepare('SELECT SUM(output_tokens), COUNT(*) FROM usage WHERE ts_ms > 0').raw().get());
    expect(slots('union_slots')).toEqual(db.prepare('SELECT SUM(output_tokens), COUNT(*) FROM usage_union WHERE ts_ms > 0').raw().get());
  });
});

describe('re-summing the slots by the whole-request long-context rule (migration 043)', () => {
  it("a store whose slots held 035's per-kind excess reports the long-context response whole after the upgrade", () => {
    const path = join(tempDir('su-long-'), 'store.db');
    const raw = new Database(path);
    migrate(raw, loadMigrations().filter((m) => m.version < 43));
    const self = ensureDeviceId(raw);
    // Prompt 10k + 195k: long-context, though no one kind passes 200k (035 saw no excess at all).
    writeBefore044(raw, self, [
      usageEvent({ ts: '2026-03-01T10:00:00Z', input: 10_000, output: 2_000, cacheRead: 195_000 }),
      usageEvent({ ts: '2026-03-01T10:05:00Z', input: 100, output: 10, cacheRead: 250_000 }),
    ]);
    const above = (db: Database.Database) => db.prepare('SELECT SUM(input_above), SUM(output_above), SUM(cache_read_above) FROM usage_slots').raw().get();
    expect(above(raw)).toEqual([0, 0, 50_000]);
    raw.close();

    const db = openDb(path);
    expect(above(db)).toEqual([10_100, 2_010, 445_000]);
    // $6 / $22.50 / $0.60 for both responses' every token.
    const want = (10_100 * 6 + 2_010 * 22.5 + 445_000 * 0.6) / 1e6;
    expect(dailyReport(db, { timezone: 'UTC' }).totals.totalCost).toBeCloseTo(want, 10);
    db.close();
  });
});
