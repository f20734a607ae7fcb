import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADAPTERS } from '../../src/adapters/index.js';
import { eventUid } from '../../src/model/identity.js';
import type { EventRecord } from '../../src/model/event.js';
import { ingest } from '../../src/ingest/index.js';
import { ensureDeviceId, openDb, type Db } from '../../src/store/db.js';
import { LocalEventWriter } from '../../src/store/events.js';
import { SuError } from '../../src/errors.js';
import { Hlc, fixedClock } from '../../src/model/clock.js';
import { sessionReport, type SessionEntry } from '../../src/reports/index.js';
import { renderConversation, showSession, type Conversation } from '../../src/search/index.js';
import { FIXTURES_DIR, tempDir } from '../helpers/fixtures.js';
import { S, writeSearchLogs } from './logs.js';

/** A Claude session with a subagent and many tool rounds (fixture from claude-code-log). */
const CLAUDE_TOOLS = '29ccd257-68b1-427f-ae5f-6524b7cb6f20';

function expectTotalsMatchReport(conv: Conversation, entry: SessionEntry | undefined): void {
  expect(entry, conv.session.sessionId).toBeDefined();
  const t = conv.totals;
  expect([t.inputTokens, t.outputTokens, t.cacheCreationTokens, t.cacheReadTokens, t.totalTokens]).toEqual([
    entry!.inputTokens,
    entry!.outputTokens,
    entry!.cacheCreationTokens,
    entry!.cacheReadTokens,
    entry!.totalTokens,
  ]);
  expect(t.totalCost).toBeCloseTo(entry!.totalCost, 9);
  expect(t.unpricedModels).toEqual(entry!.unpricedModels);
}

function caught(fn: () => unknown): SuError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SuError);
    return e as SuError;
  }
  throw new Error('expected an error');
}

describe('show on the fixture logs', () => {
  let db: Db;
  beforeAll(async () => {
    db = openDb(join(tempDir('su-show-fx-'), 'store.db'));
    await ingest(db, { adapters: [...ADAPTERS], env: { CLAUDE_CONFIG_DIR: join(FIXTURES_DIR, 'claude'), CODEX_HOME: join(FIXTURES_DIR, 'codex') } });
  });
  afterAll(() => db.close());

  it('prints a Claude session as a conversation, tool calls and results folded, by a prefix of its id', () => {
    const conv = showSession(db, CLAUDE_TOOLS.slice(0, 8), {}, { TZ: 'UTC' });
    expect(conv.session).toMatchObject({ sessionId: CLAUDE_TOOLS, provider: 'claude', project: '-src-experiments-claude_p' });
    const times = conv.turns.map((t) => t.timestamp);
    expect(times).toEqual([...times].sort());
    expect(conv.turns[0]).toMatchObject({ role: 'user', sidechain: false });
    expect(conv.turns[0].text).toMatch(/^Use the Explore task/);

    const calls = conv.turns.filter((t) => t.role === 'tool_call');
    const results = conv.turns.filter((t) => t.role === 'tool_result');
    expect(calls.length).toBeGreaterThan(5);
    expect(results.length).toBeGreaterThan(5);
    const names = new Set(calls.flatMap((t) => t.tools!.map((c) => c.name)));
    expect([...names].sort()).toEqual(expect.arrayContaining(['Bash', 'Read', 'Task']));
    for (const c of calls.flatMap((t) => t.tools!)) {
      expect(c.args).not.toMatch(/\n/);
      expect(c.args.length).toBeLessThanOrEqual(100);
    }
    // The telling argument, not the JSON: Read shows its path, Bash its command.
    expect(calls.flatMap((t) => t.tools!).find((c) => c.name === 'Read')!.args).toMatch(/^\/workspace\/claude-code-log\//);
    for (const r of results) {
      expect(r.result!.preview).not.toMatch(/\n/);
      expect(r.result!.bytes).toBe(Buffer.byteLength(r.text ?? '', 'utf8'));
    }
    expect(conv.turns.some((t) => t.sidechain && t.role === 'assistant')).toBe(true);
  });

  it('shows tokens and cost on the turns that carried them; totals equal the session report', () => {
    const conv = showSession(db, CLAUDE_TOOLS, {});
    const billed = conv.turns.filter((t) => t.usage);
    expect(billed.length).toBe(conv.totals.requests);
    expect(billed.every((t) => t.usage!.cost !== null && t.usage!.cost > 0)).toBe(true);
    expect(billed.reduce((a, t) => a + t.usage!.totalTokens, 0)).toBe(conv.totals.totalTokens);
    expectTotalsMatchReport(conv, sessionReport(db).sessions.find((s) => s.sessionId === CLAUDE_TOOLS));
    expect(conv.totals.modelsUsed).toEqual(['claude-opus-4-5-20251101', 'claude-haiku-4-5-20251001']);
  });

  it('totals equal the session report for every session of the fixtures', () => {
    const report = sessionReport(db);
    expect(report.sessions.length).toBeGreaterThan(20);
    for (const entry of report.sessions) {
      const conv = showSession(db, entry.sessionId, {});
      if (conv.session.provider !== entry.provider) continue; // same id under both providers: not in the fixtures
      expectTotalsMatchReport(conv, entry);
      expect(conv.turns.reduce((a, t) => a + (t.usage?.totalTokens ?? 0), 0), entry.sessionId).toBe(conv.totals.totalTokens);
    }
  });

  it('renders a readable transcript: roles, folded tools, per-turn cost and the totals', () => {
    const text = renderConversation(showSession(db, CLAUDE_TOOLS, { timezone: 'UTC' }));
    expect(text).toMatch(/^Session 29ccd257-68b1-427f-ae5f-6524b7cb6f20 \(claude\)\n/);
    expect(text).toMatch(/\n17:34:42 {2}user\n {4}Use the Explore task/);
    expect(text).toMatch(/\n\d\d:\d\d:\d\d {2}→ Read {2}\/workspace\/claude-code-log\/README\.md\n/);
    expect(text).toMatch(/\n\d\d:\d\d:\d\d {2}← result {2}.+ \(\d+(\.\d)? (B|KB), \d+ lines?\)\n/);
    expect(text).toMatch(/↳ in [\d,]+ · out [\d,]+ .*· \$\d+\.\d{4}\n/);
    expect(text).toMatch(/\nTotals\n {2}Requests: {6}12 /);
    expect(text).not.toMatch(/\x1b\[/);
    expect(renderConversation(showSession(db, CLAUDE_TOOLS, {}), { color: true })).toMatch(/\x1b\[/);
  });
});

describe('show on hand-written logs', () => {
  let db: Db;
  beforeAll(async () => {
    const dir = tempDir('su-show-');
    db = openDb(join(dir, 'store.db'));
    await ingest(db, { adapters: [...ADAPTERS], env: writeSearchLogs(dir) });
  });
  afterAll(() => db.close());

  it('folds a Claude tool round trip to its command and first line', () => {
    const conv = showSession(db, S.tools, {});
    expect(conv.turns.map((t) => t.role)).toEqual(['user', 'assistant', 'tool_call', 'tool_result', 'assistant']);
    expect(conv.turns[2].tools).toEqual([{ name: 'Bash', args: 'grep -rn quokka src' }]);
    const output = 'src/quokka.ts:12: export const quokka = 1\nsrc/zoo.ts:3: import { quokka }\n';
    expect(conv.turns[3].text).toBe(output);
    expect(conv.turns[3].result).toEqual({ preview: 'src/quokka.ts:12: export const quokka = 1', bytes: Buffer.byteLength(output), lines: 2, error: false });
    expect(conv.turns.map((t) => t.usage?.inputTokens ?? null)).toEqual([null, 1000, 1100, null, 1200]);
    // claude-sonnet-4-5: $3 in, $15 out per million.
    expect(conv.turns[1].usage!.cost).toBeCloseTo((1000 * 3 + 200 * 15) / 1e6, 12);
    expect(conv.totals).toMatchObject({ inputTokens: 3300, outputTokens: 270, totalTokens: 3570, requests: 3 });
  });

  it('folds a Codex function call and shows the usage record that follows it', () => {
    const conv = showSession(db, S.codex, {});
    expect(conv.turns.map((t) => t.role)).toEqual(['user', 'tool_call', 'tool_result', 'usage', 'assistant']);
    expect(conv.turns[1].tools).toEqual([{ name: 'shell', args: 'bash -lc cat wombat.log' }]);
    expect(conv.turns[2].result).toMatchObject({ preview: 'wombat: stack overflow', lines: 2 });
    // Codex input 500 of which 100 cached: 400 fresh, 100 cache read.
    expect(conv.turns[3].usage).toMatchObject({ model: 'gpt-5-codex', inputTokens: 400, cacheReadTokens: 100, outputTokens: 50 });
    expectTotalsMatchReport(conv, sessionReport(db).sessions.find((s) => s.sessionId === S.codex));
  });

  it('a prefix matching several sessions is a USAGE error listing them; none is NOT_FOUND', () => {
    const amb = caught(() => showSession(db, 'bbbbbbbb', {}));
    expect(amb.code).toBe('USAGE');
    expect(amb.message).toMatch(/ambiguous: it matches 2 sessions/);
    expect(amb.hint).toContain(S.tools);
    expect(amb.hint).toContain(S.twin);
    expect(caught(() => showSession(db, S.twin.slice(0, -1), {})).code).toBe('USAGE');
    expect(showSession(db, S.twin, {}).session.sessionId).toBe(S.twin);
    expect(showSession(db, 'aaaaaaaa-0000-4000-8000-000000000001'.slice(0, -1) + '2', {}).session.sessionId).toBe(S.once);
  });

  it('not found, and empty ids', () => {
    expect(caught(() => showSession(db, 'zzzz', {})).code).toBe('NOT_FOUND');
    expect(caught(() => showSession(db, '  ', {})).code).toBe('USAGE');
  });

  it('an exact id wins over being the prefix of a longer one; other devices need --scope all', () => {
    const self = ensureDeviceId(db);
    const mk = (session: string, device: string, text: string): [string, EventRecord] => [
      device,
      {
        uid: eventUid('claude', session, 'r-' + device), provider: 'claude', project: '-p', projectPath: null, session, record: 'r-' + device,
        ts: '2026-04-01T00:00:00.000Z', kind: 'user', model: null, sidechain: false, agent: null, usageKey: null, usage: null, text, extra: null,
      },
    ];
    for (const [device, e] of [mk('abc', self, 'short id'), mk('abcd', self, 'longer id'), mk('remote-only', 'eeee0000eeee0000', 'elsewhere')]) {
      new LocalEventWriter(db, device, new Hlc(fixedClock(Date.now()))).write([e]);
    }
    expect(showSession(db, 'abc', { scope: { kind: 'local' } }).session.sessionId).toBe('abc');
    const local = caught(() => showSession(db, 'remote', { scope: { kind: 'local' } }));
    expect(local.code).toBe('NOT_FOUND');
    expect(local.hint).toMatch(/--scope all/);
    const conv = showSession(db, 'remote', { scope: { kind: 'all' } });
    expect(conv.session.deviceIds).toEqual(['eeee0000eeee0000']);
    expect(conv.turns.map((t) => t.text)).toEqual(['elsewhere']);
  });
});
