/**
 * The one rule of adapters/tokens.ts, for every agent: a record whose token count is
 * impossible (negative, fractional, beyond a double, above 2^53) is malformed: counted and
 * reported by ingest, and nothing of it reaches the store or a report. Each case takes a real
 * usage record of the agent's fixture, gives it a new identity and one impossible count, and
 * compares the ingest with that of the untouched fixture.
 */
import Database from 'better-sqlite3';
import { appendFileSync, cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { copilotAdapter } from '../../src/adapters/copilot/index.js';
import { geminiAdapter } from '../../src/adapters/gemini/index.js';
import { opencodeAdapter } from '../../src/adapters/opencode/index.js';
import { piAdapter } from '../../src/adapters/pi/index.js';
import { qwenAdapter } from '../../src/adapters/qwen/index.js';
import type { Adapter } from '../../src/adapters/types.js';
import { dailyReport } from '../../src/reports/reports.js';
import { agentStore, billedByDay } from '../helpers/agents.js';
import { writeOpencodeDb } from '../helpers/agentLogs.js';
import { FIXTURES_DIR, tempDir } from '../helpers/fixtures.js';

/** As they appear in a log's JSON text (1e400 parses to Infinity; 2^53 is not a safe integer). */
const IMPOSSIBLE = ['-1', '1.5', '1e400', String(2 ** 53)];
/** Stands for the impossible count in a record until its text is written. */
const MARK = 987654321;

type Obj = Record<string, any>;

/** A copy of `line` (a record with usage) with a new identity and MARK at one count, as `mutate` places them. */
function spoiled(line: string, mutate: (o: Obj, n: number) => void): string[] {
  return IMPOSSIBLE.map((v, n) => {
    const o = JSON.parse(line) as Obj;
    mutate(o, n);
    return JSON.stringify(o).replace(String(MARK), v);
  });
}

/** Appends to `file` the spoiled copies of its first line containing `marker`, one per id; returns the ids. */
function appendSpoiled(file: string, marker: string, ids: string[], mutate: (o: Obj, id: string, n: number) => void): string[] {
  const line = readFileSync(file, 'utf8').split('\n').find((l) => l.includes(marker))!;
  appendFileSync(file, spoiled(line, (o, n) => mutate(o, ids[n], n)).join('\n') + '\n');
  return ids;
}

const idsLike = (f: (n: number) => string) => IMPOSSIBLE.map((_, n) => f(n));

interface Case {
  adapter: Adapter;
  /** Lays the agent's fixture out under `dir` and returns its environment. */
  lay(dir: string): NodeJS.ProcessEnv;
  /** Adds one record per impossible count; returns the record ids they carry. */
  spoil(dir: string): string[];
}

const CASES: Record<string, Case> = {
  copilot: {
    adapter: copilotAdapter,
    lay: (dir) => (cpSync(join(FIXTURES_DIR, 'copilot'), dir, { recursive: true }), { COPILOT_HOME: dir }),
    spoil: (dir) => {
      // A later shutdown of the same session: running totals, one of them impossible.
      const file = join(dir, 'session-state', '0f1e2d3c-4b5a-4697-8879-aabbccddeeff', 'events.jsonl');
      return appendSpoiled(file, '"session.shutdown"', idsLike((n) => `bad-${n}`), (o, id) => {
        o.id = id;
        (Object.values(o.data.modelMetrics as Obj)[0] as Obj).usage.inputTokens = MARK;
      });
    },
  },
  gemini: {
    adapter: geminiAdapter,
    lay: (dir) => (cpSync(join(FIXTURES_DIR, 'gemini'), dir, { recursive: true }), { GEMINI_CLI_HOME: dir }),
    spoil: (dir) => {
      const file = join(dir, '.gemini', 'tmp', 'shop', 'chats', 'session-2026-05-04T09-00-4f0c2a1e.jsonl');
      return appendSpoiled(file, '"tokens":{', idsLike((n) => `bad-${n}`), (o, id) => {
        o.id = id;
        o.tokens.output = MARK;
      });
    },
  },
  qwen: {
    adapter: qwenAdapter,
    lay: (dir) => (cpSync(join(FIXTURES_DIR, 'qwen'), dir, { recursive: true }), { QWEN_DATA_DIR: dir }),
    spoil: (dir) => {
      const file = join(dir, 'projects', '-home-dev-api', 'chats', '7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f.jsonl');
      return appendSpoiled(file, '"usageMetadata"', idsLike((n) => `b0000000-0000-4000-8000-00000000000${n}`), (o, id) => {
        o.uuid = id;
        o.usageMetadata.promptTokenCount = MARK;
      });
    },
  },
  pi: {
    adapter: piAdapter,
    lay: (dir) => (cpSync(join(FIXTURES_DIR, 'pi', 'sessions'), dir, { recursive: true }), { PI_AGENT_DIR: dir }),
    spoil: (dir) => {
      const file = join(dir, '--home-dev-shop--', '2026-01-02T09-00-00-000Z_0b6c1f0e-5a4e-4c57-9d2f-6f1b2a9c3e11.jsonl');
      return appendSpoiled(file, '"usage":{', idsLike((n) => `bad0000${n}`), (o, id, n) => {
        o.id = id;
        o.message.timestamp += 1000 + n;
        o.message.usage.cacheRead = MARK;
      });
    },
  },
  opencode: {
    adapter: opencodeAdapter,
    lay: (dir) => (writeOpencodeDb(dir), { OPENCODE_DATA_DIR: dir }),
    spoil: (dir) => {
      const db = new Database(join(dir, 'opencode.db'));
      const row = db.prepare("SELECT * FROM message WHERE data LIKE '%\"tokens\"%' ORDER BY id LIMIT 1").get() as Obj;
      const ids = idsLike((n) => `msg_bad${n}`);
      const insert = db.prepare('INSERT INTO message VALUES (?, ?, ?, ?, ?)');
      spoiled(row.data as string, (o) => {
        o.tokens.cache.write = MARK;
      }).forEach((data, n) => insert.run(ids[n], row.session_id, row.time_created + 1 + n, row.time_updated + 1 + n, data));
      db.close();
      return ids;
    },
  },
};

describe('an impossible token count makes the record malformed, for every agent', () => {
  for (const [name, c] of Object.entries(CASES)) {
    it(`${name}: counted malformed, never in the store or a report`, async () => {
      const clean = agentStore(c.adapter, c.lay(tempDir(`su-${name}-`)));
      const base = await clean.run();

      const dir = tempDir(`su-${name}-`);
      const spoilt = agentStore(c.adapter, c.lay(dir));
      const ids = c.spoil(dir);
      const r = await spoilt.run();

      expect(r.malformedLines).toBe(base.malformedLines + IMPOSSIBLE.length);
      expect(r.malformed.reduce((a, m) => a + m.lines, 0)).toBe(r.malformedLines);
      expect(spoilt.db.prepare(`SELECT COUNT(*) FROM events WHERE record_id IN (${ids.map(() => '?').join(',')})`).pluck().get(...ids)).toBe(0);
      expect(billedByDay(spoilt.db, name)).toEqual(billedByDay(clean.db, name));
      expect(billedByDay(spoilt.db, name).length).toBeGreaterThan(0);
      expect(dailyReport(spoilt.db, { timezone: 'UTC' }).totals).toEqual(dailyReport(clean.db, { timezone: 'UTC' }).totals);
    });
  }
});
