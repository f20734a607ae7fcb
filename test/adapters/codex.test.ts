import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { codexAdapter, createCodexParser, sessionIdFromFileName, TEXT_CAP_BYTES } from '../../src/adapters/codex/index.js';
import { derivedRecordId, eventUid } from '../../src/model/identity.js';
import type { EventRecord } from '../../src/model/event.js';
import type { SourceFile } from '../../src/adapters/types.js';
import { ingest } from '../../src/ingest/index.js';
import { openDb, type Db } from '../../src/store/db.js';
import { fixedClock } from '../../src/model/clock.js';

const ROOT = fileURLToPath(new URL('../fixtures/codex', import.meta.url));

/** Fixture files by a short name (paths relative to the Codex home). */
const F = {
  archived: 'archived_sessions/rollout-2026-02-23T20-34-25-019c8bfe-ec25-79e0-97d7-bda6a9c575ff.jsonl',
  parentSpawn: 'sessions/2025/01/01/rollout-2025-01-01T00-00-00-parent-spawn-001.jsonl',
  subMatched1: 'sessions/2025/01/01/rollout-2025-01-01T00-00-00-subagent-matched-001.jsonl',
  subOrphan: 'sessions/2025/01/01/rollout-2025-01-01T00-00-02-subagent-orphan-001.jsonl',
  subMatched2: 'sessions/2025/01/01/rollout-2025-01-01T00-00-05-subagent-matched-002.jsonl',
  agtrace: 'sessions/2025/12/10/rollout-2025-12-10T04-55-16-019b04ae-b1c6-7c72-a134-a4c2de66058c.jsonl',
  reviewParent: 'sessions/2026/01/04/rollout-2026-01-04T11-59-02-019b88e0-0b0f-7bb0-a9ba-5cc2d8dffde9.jsonl',
  reviewChild: 'sessions/2026/01/04/rollout-2026-01-04T12-05-09-019b88e5-a2e4-7b90-8953-38fce393c653.jsonl',
  localpush1: 'sessions/2026/02/23/rollout-2026-02-23T12-41-04-019c8a4d-8f45-7010-8b5d-7fad920aa6f9.jsonl',
  localpush2: 'sessions/2026/02/23/rollout-2026-02-23T12-54-34-019c8a59-e9dd-71f0-9ae3-4079fe9726a9.jsonl',
  stackunderflow: 'sessions/2026/04/19/rollout-2026-04-19T20-00-00-test-uuid-0001.jsonl',
  iansherr: 'sessions/2026/06/19/rollout-2026-06-19T10-00-00-sample-session.jsonl',
} as const;

function src(path: string): SourceFile {
  return { provider: 'codex', path, root: ROOT };
}

function lines(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '');
}

/** Parse a file the way ingest feeds it: one trimmed, non-empty line at a time. */
function parse(path: string, asPath = path): { events: EventRecord[]; malformed: number[] } {
  const p = createCodexParser(src(asPath), null);
  const events: EventRecord[] = [];
  const malformed: number[] = [];
  lines(path).forEach((l, i) => {
    const r = p.line(l.trim());
    if (r === null) malformed.push(i + 1);
    else events.push(...r);
  });
  return { events, malformed };
}

function countKinds(events: EventRecord[]): Record<string, number> {
  const c: Record<string, number> = {};
  for (const e of events) c[e.kind] = (c[e.kind] ?? 0) + 1;
  return c;
}

interface DayTotals {
  inputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  totalTokens: number;
}

function sumByDay(events: EventRecord[]): Record<string, DayTotals> {
  const out: Record<string, DayTotals> = {};
  for (const e of events) {
    if (!e.usage) continue;
    const d = (out[e.ts.slice(0, 10)] ??= { inputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0, outputTokens: 0, reasoningTokens: 0, totalTokens: 0 });
    for (const k of Object.keys(d) as (keyof DayTotals)[]) d[k] += e.usage[k];
  }
  return out;
}

const tmps: string[] = [];
const dbs: Db[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'su-codex-'));
  tmps.push(d);
  return d;
}
function db(dir: string): Db {
  const d = openDb(join(dir, 'store.db'));
  dbs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dbs.splice(0)) d.close();
  for (const d of tmps.splice(0)) rmSync(d, { recursive: true, force: true });
});

function usageByDay(d: Db): Record<string, DayTotals> {
  const rows = d.prepare(`SELECT substr(ts, 1, 10) AS day, SUM(input_tokens) AS i, SUM(cache_read_tokens) AS cr,
      SUM(cache_creation_tokens) AS cc, SUM(output_tokens) AS o, SUM(reasoning_tokens) AS r, SUM(total_tokens) AS t
    FROM usage WHERE provider = 'codex' GROUP BY day ORDER BY day`).all() as Array<Record<string, number> & { day: string }>;
  return Object.fromEntries(rows.map((r) => [r.day, {
    inputTokens: r.i, cacheReadTokens: r.cr, cacheCreationTokens: r.cc, outputTokens: r.o, reasoningTokens: r.r, totalTokens: r.t,
  }]));
}

function dt(inputTokens: number, cacheReadTokens: number, outputTokens: number, reasoningTokens: number, totalTokens: number): DayTotals {
  return { inputTokens, cacheReadTokens, cacheCreationTokens: 0, outputTokens, reasoningTokens, totalTokens };
}

/*
 * Expected per-day usage (UTC), written from the fixture lines. For a cumulative file the
 * usage of a day is (last total_token_usage of that day) − (last total of the day before);
 * inputTokens = input − cached_input, cacheRead = cached_input, output as logged,
 * reasoning beside it, total = input + output.
 */
const EXPECTED_DAYS: Record<string, DayTotals> = {
  // agtrace codex_session, line 55: total {input 26740, cached 22912, output 408, reasoning 128, total 27148}.
  '2025-12-09': dt(26740 - 22912, 22912, 408, 128, 27148),
  // archived 20-34-25 line 62: {298373, 238848, 1123, 483, 299496}
  // + 12-41-04 last total {1751428, 1651968, 14600, 4293, 1766028}
  // + 12-54-34 last total dated 2026-02-23 (line before the first 2026-02-24 token_count):
  //   {18053038, 17322112, 67742, 24380, 18120780}.
  '2026-02-23': dt(
    (298373 - 238848) + (1751428 - 1651968) + (18053038 - 17322112),
    238848 + 1651968 + 17322112,
    1123 + 14600 + 67742,
    483 + 4293 + 24380,
    299496 + 1766028 + 18120780,
  ),
  // 12-54-34 final total {33810485, 31621504, 133999, 42113, 33944484} minus its 2026-02-23 total.
  '2026-02-24': dt(
    (33810485 - 31621504) - (18053038 - 17322112),
    31621504 - 17322112,
    133999 - 67742,
    42113 - 24380,
    33944484 - 18120780,
  ),
  // StackUnderflow (last_token_usage only): line 7 {1200, 200, 350, 150} + line 9 {800, 100, 200, 50};
  // reasoning is inside output, so output stays 350 + 200.
  '2026-04-19': dt((1200 - 200) + (800 - 100), 200 + 100, 350 + 200, 150 + 50, (1200 + 350) + (800 + 200)),
  // iansherr: older usage{prompt_tokens 100, completion_tokens 50}.
  '2026-06-19': dt(100, 0, 50, 0, 150),
};

describe('codex paths', () => {
  it('uses CODEX_HOME, else ~/.codex', () => {
    expect(codexAdapter.roots({ CODEX_HOME: '/x/codex' })).toEqual(['/x/codex']);
    expect(codexAdapter.roots({ CODEX_HOME: '' })).toEqual([join(homedir(), '.codex')]);
    expect(codexAdapter.roots({})).toEqual([join(homedir(), '.codex')]);
  });

  it('discovers rollouts in sessions/** and archived_sessions/** only', async () => {
    const files = await codexAdapter.discover([ROOT]);
    expect(files.map((f) => f.path.slice(ROOT.length + 1)).sort()).toEqual(Object.values(F).slice().sort());
    expect(files.every((f) => f.provider === 'codex' && f.root === ROOT)).toBe(true);

    const home = tmp();
    mkdirSync(join(home, 'sessions/2026/01/01'), { recursive: true });
    mkdirSync(join(home, 'archived_sessions'), { recursive: true });
    mkdirSync(join(home, 'log'), { recursive: true });
    writeFileSync(join(home, 'sessions/2026/01/01/rollout-a.jsonl'), '');
    writeFileSync(join(home, 'sessions/2026/01/01/notes.jsonl'), '');
    writeFileSync(join(home, 'sessions/2026/01/01/rollout-b.json'), '');
    writeFileSync(join(home, 'archived_sessions/rollout-c.jsonl'), '');
    writeFileSync(join(home, 'log/rollout-d.jsonl'), '');
    writeFileSync(join(home, 'history.jsonl'), '');
    const found = await codexAdapter.discover([home, join(home, 'missing')]);
    expect(found.map((f) => f.path.slice(home.length + 1)).sort()).toEqual([
      'archived_sessions/rollout-c.jsonl', 'sessions/2026/01/01/rollout-a.jsonl',
    ]);
  });

  it('takes a fallback session id from the file name', () => {
    expect(sessionIdFromFileName('/a/rollout-2025-12-10T04-55-16-019B04AE-b1c6-7c72-a134-a4c2de66058c.jsonl')).toBe('019b04ae-b1c6-7c72-a134-a4c2de66058c');
    expect(sessionIdFromFileName('/a/rollout-2026-06-19T10-00-00-sample-session.jsonl')).toBe('sample-session');
    expect(sessionIdFromFileName('/a/rollout-odd.jsonl')).toBe('rollout-odd');
  });
});

describe('codex parser on every fixture', () => {
  // Kinds per file, derived from the record types in each file (see the table in parser.ts):
  // mirrors = the second of an adjacent response_item/event_msg pair of the same role → meta;
  // token_count with info:null or a repeated total → no event.
  const cases: Array<{ file: string; kinds: Record<string, number>; malformed?: number[] }> = [
    {
      // 63 lines: session_meta, 6 turn_context, 6 reasoning mirrors, 6 reply mirrors, 1 user_message mirror = 20 meta;
      // 4 developer + task_started + task_complete = 6 system; 12 token_count − info:null − 5 repeats = 6 usage.
      file: F.archived,
      kinds: { meta: 20, system: 6, user: 3, reasoning: 6, assistant: 6, tool_call: 5, tool_result: 5, usage: 6 },
    },
    { file: F.parentSpawn, kinds: { meta: 1, user: 2, system: 2, assistant: 2 } },
    { file: F.subMatched1, kinds: { meta: 2, reasoning: 1, assistant: 1 } },
    { file: F.subOrphan, kinds: { meta: 2, reasoning: 1, assistant: 1 } },
    { file: F.subMatched2, kinds: { meta: 1, reasoning: 1, assistant: 1 } },
    {
      // 55 lines: meta = session_meta + 7 turn_context + 2 ghost_snapshot + 2 user mirrors + 6 reasoning mirrors
      // + 2 reply mirrors = 20; the <environment_context> user message is system; 4 function_call + 1
      // custom_tool_call; 14 token_count − info:null − 6 repeats = 7 usage.
      file: F.agtrace,
      kinds: { meta: 20, system: 1, user: 2, reasoning: 6, assistant: 2, tool_call: 5, tool_result: 5, usage: 7 },
    },
    { file: F.reviewParent, kinds: { meta: 2, user: 1, system: 1 } },
    { file: F.reviewChild, kinds: { meta: 1, user: 1 } },
    {
      // 417 lines: meta = 1 + 28 turn_context + 26 + 17 + 1 mirrors = 73; system = 4 developer + 2 task;
      // 56 token_count − 1 null − 27 repeats = 28 usage.
      file: F.localpush1,
      kinds: { meta: 73, system: 6, user: 3, reasoning: 26, assistant: 17, tool_call: 118, tool_result: 118, usage: 28 },
    },
    {
      // 2722 lines: meta = 1 + 286 turn_context + 38 user + 255 reply + 199 reasoning mirrors = 779;
      // system = 45 developer + 33 task_started + 33 task_complete + context_compacted = 112;
      // tool_call = 316 function + 49 custom + 7 web_search; tool_result = 316 + 49; compacted = summary;
      // 573 token_count − 1 null − 286 repeats = 286 usage.
      file: F.localpush2,
      kinds: { meta: 779, system: 112, user: 46, reasoning: 219, assistant: 255, tool_call: 372, tool_result: 365, usage: 286, summary: 1 },
    },
    {
      // line 10 is cut off mid-record.
      file: F.stackunderflow,
      kinds: { meta: 2, user: 2, assistant: 2, tool_call: 2, usage: 2 },
      malformed: [10],
    },
    {
      // developer message = system; the agent_message right after the assistant message is its mirror.
      file: F.iansherr,
      kinds: { meta: 3, system: 1, assistant: 2, tool_call: 1, tool_result: 1, usage: 1 },
    },
  ];

  for (const c of cases) {
    it(`kinds of ${c.file.split('/').pop()}`, () => {
      const { events, malformed } = parse(join(ROOT, c.file));
      expect(countKinds(events)).toEqual(c.kinds);
      expect(malformed).toEqual(c.malformed ?? []);
      expect(new Set(events.map((e) => e.uid)).size).toBe(events.length);
      for (const e of events) {
        expect(e.provider).toBe('codex');
        expect(e.uid).toBe(eventUid('codex', e.session, e.record));
        expect(e.usageKey).toBe(e.usage ? e.uid : null);
        if (e.usage) expect(e.model).not.toBeNull();
        if (e.text !== null) expect(Buffer.byteLength(e.text, 'utf8')).toBeLessThanOrEqual(TEXT_CAP_BYTES);
        if (e.extra !== null) expect(() => JSON.parse(e.extra!)).not.toThrow();
      }
    });
  }

  it('per-day token totals equal the hand-computed ones', () => {
    const all: EventRecord[] = [];
    for (const f of Object.values(F)) all.push(...parse(join(ROOT, f)).events);
    expect(sumByDay(all)).toEqual(EXPECTED_DAYS);
  });

  it('resuming from saved state at any line gives the same events as one pass', () => {
    for (const f of Object.values(F)) {
      const path = join(ROOT, f);
      const ls = lines(path);
      const whole = parse(path).events;
      const cuts = [1, 2, 3, Math.floor(ls.length / 3), Math.floor(ls.length / 2), ls.length - 1].filter((n) => n > 0 && n < ls.length);
      for (const cut of cuts) {
        const a = createCodexParser(src(path), null);
        const out: EventRecord[] = [];
        for (const l of ls.slice(0, cut)) out.push(...(a.line(l.trim()) ?? []));
        const saved = JSON.parse(JSON.stringify(a.state()));
        const b = createCodexParser(src(path), saved);
        for (const l of ls.slice(cut)) out.push(...(b.line(l.trim()) ?? []));
        expect(out, `${f} cut at ${cut}`).toEqual(whole);
      }
    }
  });
});

describe('codex usage', () => {
  const meta = '{"timestamp":"2026-03-01T10:00:00.000Z","type":"session_meta","payload":{"id":"s-usage","cwd":"/w/p","source":"cli"}}';
  const turn = (ts: string, model: string) => JSON.stringify({ timestamp: ts, type: 'turn_context', payload: { cwd: '/w/p', model } });
  const tc = (ts: string, total: number[] | null, last: number[] | null) => {
    const u = (a: number[]) => ({ input_tokens: a[0], cached_input_tokens: a[1], output_tokens: a[2], reasoning_output_tokens: a[3], total_tokens: a[0] + a[2] });
    const info = total === null && last === null ? null : { ...(total ? { total_token_usage: u(total) } : {}), ...(last ? { last_token_usage: u(last) } : {}) };
    return JSON.stringify({ timestamp: ts, type: 'event_msg', payload: { type: 'token_count', info } });
  };

  it('bills cumulative deltas, skips repeats and info:null, never adds reasoning to output', () => {
    const p = createCodexParser(src('/x/rollout-u.jsonl'), null);
    expect(p.line(meta)).toHaveLength(1);
    expect(p.line(turn('2026-03-01T10:00:01.000Z', 'gpt-5-codex'))).toHaveLength(1);
    expect(p.line(tc('2026-03-01T10:00:02.000Z', null, null))).toEqual([]);
    const [a] = p.line(tc('2026-03-01T10:00:03.000Z', [1000, 800, 100, 40], [1000, 800, 100, 40]))!;
    expect(a.kind).toBe('usage');
    expect(a.model).toBe('gpt-5-codex');
    expect(a.usage).toEqual({ inputTokens: 200, outputTokens: 100, cacheCreationTokens: 0, cacheReadTokens: 800, reasoningTokens: 40, totalTokens: 1100 });
    expect(p.line(tc('2026-03-01T10:00:04.000Z', [1000, 800, 100, 40], [1000, 800, 100, 40]))).toEqual([]);
    expect(p.line(turn('2026-03-01T10:00:05.000Z', 'gpt-5.1-codex'))).toHaveLength(1);
    const [b] = p.line(tc('2026-03-01T10:00:06.000Z', [2500, 1800, 130, 40], [1500, 1000, 30, 0]))!;
    expect(b.usage).toEqual({ inputTokens: 500, outputTokens: 30, cacheCreationTokens: 0, cacheReadTokens: 1000, reasoningTokens: 0, totalTokens: 1530 });
    expect(b.model).toBe('gpt-5.1-codex');
    expect(b.usageKey).toBe(b.uid);
    expect(b.uid).not.toBe(a.uid);
  });

  it('treats a falling total as a restarted counter and bills last_token_usage', () => {
    const p = createCodexParser(src('/x/rollout-u.jsonl'), null);
    p.line(meta);
    p.line(tc('2026-03-01T10:00:01.000Z', [5000, 4000, 300, 0], null));
    const [e] = p.line(tc('2026-03-01T10:00:02.000Z', [700, 100, 20, 0], [700, 100, 20, 0]))!;
    expect(e.usage).toMatchObject({ inputTokens: 600, cacheReadTokens: 100, outputTokens: 20, totalTokens: 720 });
    expect(JSON.parse(e.extra!).from).toBe('reset');
    // The restarted counter is the new base: the next delta is taken from it.
    const [f] = p.line(tc('2026-03-01T10:00:03.000Z', [900, 100, 50, 0], null))!;
    expect(f.usage).toMatchObject({ inputTokens: 200, cacheReadTokens: 0, outputTokens: 30, totalTokens: 230 });
  });

  it('bills last_token_usage when there is no total, and maps the older usage{prompt_tokens} shape', () => {
    const p = createCodexParser(src('/x/rollout-u.jsonl'), null);
    p.line(meta);
    const [a] = p.line(tc('2026-03-01T10:00:01.000Z', null, [300, 100, 60, 20]))!;
    expect(a.usage).toEqual({ inputTokens: 200, outputTokens: 60, cacheCreationTokens: 0, cacheReadTokens: 100, reasoningTokens: 20, totalTokens: 360 });
    expect(p.line(tc('2026-03-01T10:00:02.000Z', null, [0, 0, 0, 0]))).toEqual([]);
    const legacy = JSON.stringify({
      timestamp: '2026-03-01T10:00:03.000Z', type: 'event_msg',
      payload: { type: 'token_count', usage: { prompt_tokens: 900, completion_tokens: 70, total_tokens: 970, prompt_tokens_details: { cached_tokens: 500 }, completion_tokens_details: { reasoning_tokens: 30 } } },
    });
    const [b] = p.line(legacy)!;
    expect(b.usage).toEqual({ inputTokens: 400, outputTokens: 70, cacheCreationTokens: 0, cacheReadTokens: 500, reasoningTokens: 30, totalTokens: 970 });
  });

  it('fixture token_count lines: repeats and info:null give no event, each real delta one', () => {
    const path = join(ROOT, F.agtrace);
    const p = createCodexParser(src(path), null);
    const byLine: Record<number, EventRecord[] | null> = {};
    lines(path).forEach((l, i) => (byLine[i + 1] = p.line(l)));
    expect(byLine[7]).toEqual([]); // info: null
    expect(byLine[11]![0].usage).toMatchObject({ inputTokens: 3505 - 3072, cacheReadTokens: 3072, outputTokens: 101, reasoningTokens: 64, totalTokens: 3606 });
    expect(byLine[14]).toEqual([]); // same total as line 11
    // line 18: total 7216/6144/141 after 3505/3072/101 → the delta equals its last_token_usage 3711/3072/40.
    expect(byLine[18]![0].usage).toMatchObject({ inputTokens: 3711 - 3072, cacheReadTokens: 3072, outputTokens: 40, reasoningTokens: 0, totalTokens: 3751 });
    expect(byLine[21]).toEqual([]);
    expect(byLine[18]![0].model).toBe('gpt-5.1-codex-max');
  });

  it('StackUnderflow sample: output excludes a second count of reasoning', () => {
    const { events } = parse(join(ROOT, F.stackunderflow));
    const u = events.filter((e) => e.usage);
    expect(u.map((e) => e.usage!.outputTokens)).toEqual([350, 200]);
    expect(u.map((e) => e.usage!.reasoningTokens)).toEqual([150, 50]);
    expect(u.map((e) => e.usage!.totalTokens)).toEqual([1550, 1000]);
    expect(u.every((e) => e.model === 'gpt-5.4')).toBe(true);
  });
});

describe('codex identity, records and subagents', () => {
  it('takes session and project from session_meta; the project is shared with Claude for the same folder', () => {
    const { events } = parse(join(ROOT, F.agtrace));
    expect(new Set(events.map((e) => e.session))).toEqual(new Set(['019b04ae-b1c6-7c72-a134-a4c2de66058c']));
    // Claude Code's folder for /Users/test_user/agent-sample is -Users-test-user-agent-sample.
    expect(new Set(events.map((e) => e.project))).toEqual(new Set(['-Users-test-user-agent-sample']));
    expect(events.every((e) => e.projectPath === '/Users/test_user/agent-sample')).toBe(true);
    expect(events.every((e) => !e.sidechain && e.agent === null)).toBe(true);
  });

  it('falls back to the file name and project "unknown" without session id or cwd', () => {
    const { events } = parse(join(ROOT, F.iansherr));
    expect(events.every((e) => e.session === 'sample-session' && e.project === 'unknown' && e.projectPath === null)).toBe(true);
    // No session_meta first at all: same fallback, even if a cwd shows up later.
    const p = createCodexParser(src('/h/sessions/rollout-2026-01-01T00-00-00-0199aaaa-0000-7000-8000-000000000001.jsonl'), null);
    const [e] = p.line('{"timestamp":"2026-01-01T00:00:01Z","type":"turn_context","payload":{"cwd":"/w/q","model":"gpt-5"}}')!;
    const [f] = p.line('{"timestamp":"2026-01-01T00:00:02Z","type":"session_meta","payload":{"id":"other","cwd":"/w/q"}}')!;
    for (const x of [e, f]) {
      expect(x.session).toBe('0199aaaa-0000-7000-8000-000000000001');
      expect(x.project).toBe('unknown');
    }
    expect(e.record).toBe(derivedRecordId('codex', 'unknown', '0199aaaa-0000-7000-8000-000000000001', '2026-01-01T00:00:01.000Z', 0));
  });

  it('derives record ids from (slug, session, ts, ordinal) with the ordinal counting same-ts lines', () => {
    const { events } = parse(join(ROOT, F.archived));
    const slug = '-redacted-path-ea96e59ed9'; // cwd /redacted/path/ea96e59ed9
    const session = '019c8bfe-ec25-79e0-97d7-bda6a9c575ff';
    // Lines 1-4 share 19:34:26.098Z, lines 5-10 share 19:34:26.099Z; line 9 is the 5th of those (ordinal 4).
    const at098 = events.filter((e) => e.ts === '2026-02-23T19:34:26.098Z');
    expect(at098.map((e) => e.record)).toEqual([0, 1, 2, 3].map((n) => derivedRecordId('codex', slug, session, '2026-02-23T19:34:26.098Z', n)));
    const line9 = events.filter((e) => e.kind === 'user')[2];
    expect(line9.record).toBe(derivedRecordId('codex', slug, session, '2026-02-23T19:34:26.099Z', 4));

    // Lines that give no event (a repeated total) still take their ordinal.
    const ts = '2026-03-01T10:00:00.000Z';
    const p = createCodexParser(src('/h/rollout-x.jsonl'), null);
    p.line(JSON.stringify({ timestamp: '2026-03-01T09:00:00Z', type: 'session_meta', payload: { id: 's', cwd: '/w' } }));
    const total = { total_token_usage: { input_tokens: 10, cached_input_tokens: 0, output_tokens: 1, reasoning_output_tokens: 0 } };
    const tcLine = JSON.stringify({ timestamp: ts, type: 'event_msg', payload: { type: 'token_count', info: total } });
    expect(p.line(tcLine)).toHaveLength(1);
    expect(p.line(tcLine)).toEqual([]);
    const [msg] = p.line(JSON.stringify({ timestamp: ts, type: 'event_msg', payload: { type: 'agent_message', message: 'hi' } }))!;
    expect(msg.record).toBe(derivedRecordId('codex', '-w', 's', ts, 2));
  });

  it('gives the same uids to the same rollout at another path (sessions vs archived_sessions)', () => {
    const a = parse(join(ROOT, F.archived)).events;
    const b = parse(join(ROOT, F.archived), '/elsewhere/sessions/2026/02/23/' + F.archived.split('/').pop()).events;
    expect(b).toEqual(a);
  });

  it('marks subagent rollouts as sidechain with their kind as agent', () => {
    for (const f of [F.subMatched1, F.subOrphan, F.subMatched2, F.reviewChild]) {
      const { events } = parse(join(ROOT, f));
      expect(events.length).toBeGreaterThan(0);
      expect(events.every((e) => e.sidechain && e.agent === 'review'), f).toBe(true);
    }
    for (const f of [F.parentSpawn, F.reviewParent, F.localpush2]) {
      expect(parse(join(ROOT, f)).events.every((e) => !e.sidechain && e.agent === null), f).toBe(true);
    }
    const sub = parse(join(ROOT, F.subMatched1)).events;
    expect(sub[0].session).toBe('subagent-matched-001');
    expect(JSON.parse(sub[0].extra!)).toMatchObject({ type: 'session_meta', source: 'subagent' });
    expect(sub.find((e) => e.kind === 'assistant')!.model).toBe('gpt-5.1-codex-max');
    // Review subagent without a turn_context: the model is unknown, not guessed.
    expect(parse(join(ROOT, F.subMatched2)).events.find((e) => e.kind === 'assistant')!.model).toBeNull();
  });

  it('reads thread_spawn subagents: role as agent, parent thread in extra', () => {
    const p = createCodexParser(src('/h/rollout-x.jsonl'), null);
    const [m] = p.line(JSON.stringify({
      timestamp: '2026-05-01T00:00:00Z', type: 'session_meta',
      payload: { id: 'child-1', cwd: '/w/r', source: { subagent: { thread_spawn: { parent_thread_id: 'parent-9', depth: 1, agent_role: 'explorer', agent_nickname: 'Ada' } } } },
    }))!;
    expect(m).toMatchObject({ sidechain: true, agent: 'explorer', session: 'child-1', project: '-w-r' });
    expect(JSON.parse(m.extra!)).toMatchObject({ parent: 'parent-9', source: 'subagent' });
    const [u] = p.line('{"timestamp":"2026-05-01T00:00:01Z","type":"event_msg","payload":{"type":"user_message","message":"go"}}')!;
    expect(u).toMatchObject({ kind: 'user', sidechain: true, agent: 'explorer', text: 'go' });
  });

  it('counts a mirrored message once: the adjacent twin becomes meta, without repeating its text', () => {
    const path = join(ROOT, F.agtrace);
    const p = createCodexParser(src(path), null);
    const byLine: Record<number, EventRecord[]> = {};
    lines(path).forEach((l, i) => (byLine[i + 1] = p.line(l) ?? []));
    expect(byLine[2][0]).toMatchObject({ kind: 'system' }); // <environment_context>
    expect(byLine[3][0]).toMatchObject({ kind: 'user', text: 'add myapp directory and create myapp/hoge.py which shows result of print(1+1).' });
    expect(byLine[4][0]).toMatchObject({ kind: 'meta', text: null });
    expect(JSON.parse(byLine[4][0].extra!)).toMatchObject({ type: 'event_msg/user_message', mirror: 'user' });
    expect(byLine[8][0]).toMatchObject({ kind: 'reasoning', text: '**Creating directory and file using shell and patch**', model: 'gpt-5.1-codex-max' });
    expect(byLine[9][0]).toMatchObject({ kind: 'meta', text: null });
    expect(byLine[22][0].kind).toBe('assistant');
    expect(byLine[23][0].kind).toBe('meta');
    expect(byLine[10][0]).toMatchObject({ kind: 'tool_call', model: 'gpt-5.1-codex-max' });
    expect(JSON.parse(byLine[10][0].extra!)).toEqual({ type: 'response_item/function_call', name: 'shell_command', callId: 'call_DyhFJrJJb2y0MiOOHVP7KaVG' });
    expect(byLine[12][0]).toMatchObject({ kind: 'tool_result', model: null });
    expect(byLine[12][0].text).toMatch(/^Exit code: 0/);
    expect(JSON.parse(byLine[17][0].extra!)).toMatchObject({ name: 'apply_patch', callId: 'call_pBXH93fl6ZXH2svDOFIlr8GA' });
    expect(byLine[17][0].text).toMatch(/^\*\*\* Begin Patch/);
  });

  it('keeps the compaction summary and marks injected context as system', () => {
    const { events } = parse(join(ROOT, F.localpush2));
    const s = events.filter((e) => e.kind === 'summary');
    expect(s).toHaveLength(1);
    expect(s[0].ts).toBe('2026-02-24T09:51:48.878Z');
    expect(JSON.parse(s[0].extra!)).toMatchObject({ type: 'compacted' });
    expect(events.some((e) => e.kind === 'system' && JSON.parse(e.extra!).type === 'event_msg/context_compacted')).toBe(true);
  });

  it('caps text at 16 KiB of UTF-8 without splitting a character', () => {
    const p = createCodexParser(src('/h/rollout-x.jsonl'), null);
    p.line(JSON.stringify({ timestamp: '2026-05-01T00:00:00Z', type: 'session_meta', payload: { id: 's', cwd: '/w' } }));
    const big = 'é'.repeat(20_000) + 'tail';
    const [e] = p.line(JSON.stringify({ timestamp: '2026-05-01T00:00:01Z', type: 'response_item', payload: { type: 'function_call_output', call_id: 'c1', output: big } }))!;
    expect(Buffer.byteLength(e.text!, 'utf8')).toBe(TEXT_CAP_BYTES);
    expect(e.text!.includes('\uFFFD')).toBe(false);
    expect(big.startsWith(e.text!)).toBe(true);
  });

  it('returns null for malformed lines and never throws on odd shapes', () => {
    const p = createCodexParser(src('/h/rollout-x.jsonl'), null);
    expect(p.line('{"timestamp": "2026-04-19T20:00:09.000Z", "type": "response_item", "payload": {"type": "message", "role": "user", "content": [{"type":')).toBeNull();
    for (const bad of ['', 'null', '42', '"str"', '[1,2]', '{}', '{"type":7}', 'not json']) expect(p.line(bad), bad).toBeNull();
    const odd = [
      '{"type":"session_meta","payload":null}',
      '{"type":"response_item","payload":{"type":"message","role":"user","content":{"x":1}}}',
      '{"type":"response_item","payload":{"type":"function_call","arguments":{"a":[1]}}}',
      '{"type":"response_item","payload":{"type":"local_shell_call","action":{"type":"exec","command":["ls","-la"]}}}',
      '{"type":"response_item","payload":{"type":"function_call_output","output":{"content":[{"type":"input_text","text":"ok"}]}}}',
      '{"type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":"x"}}}',
      '{"type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":{"input_tokens":-5,"output_tokens":"9"}}}}',
      '{"type":"event_msg","payload":"text"}',
      '{"type":"turn_context","payload":{"model":42}}',
      '{"type":"compacted","payload":{"message":"sum","replacement_history":"no"}}',
      '{"type":"future_record","timestamp":"bogus","payload":{}}',
    ];
    for (const l of odd) expect(() => p.line(l)).not.toThrow();
    const evs = odd.flatMap((l) => p.line(l) ?? []);
    expect(evs.every((e) => e.ts === '' && e.usage === null)).toBe(true);
    expect(evs.find((e) => JSON.parse(e.extra!).type === 'response_item/local_shell_call')!.text).toBe('ls -la');
    expect(evs.find((e) => e.kind === 'tool_result')!.text).toBe('ok');
  });
});

describe('codex through the real ingest engine', () => {
  it('per-day usage in the store equals the hand-computed totals; the malformed line is reported', async () => {
    const d = db(tmp());
    const r = await ingest(d, { adapters: [codexAdapter], env: { CODEX_HOME: ROOT }, clock: fixedClock(1_700_000_000_000, 1) });
    expect(r.filesRead).toBe(12);
    expect(r.malformedLines).toBe(1);
    expect(r.malformed.map((m) => m.path.slice(ROOT.length + 1))).toEqual([F.stackunderflow]);
    expect(usageByDay(d)).toEqual(EXPECTED_DAYS);
    // Codex projects live beside Claude's under the same slug rule.
    const projects = d.prepare("SELECT slug, path FROM projects WHERE provider = 'codex' ORDER BY slug").all();
    expect(projects).toContainEqual({ slug: '-Users-test-user-agent-sample', path: '/Users/test_user/agent-sample' });
    expect(projects).toContainEqual({ slug: 'unknown', path: null });
    // A second run with nothing new parses nothing.
    const again = await ingest(d, { adapters: [codexAdapter], env: { CODEX_HOME: ROOT } });
    expect(again.filesUnchanged).toBe(12);
    expect(again.events.inserted + again.events.updated).toBe(0);
  });

  it('counts a rollout present in both sessions/ and archived_sessions/ once', async () => {
    const home = tmp();
    const name = F.archived.split('/').pop()!;
    mkdirSync(join(home, 'sessions/2026/02/23'), { recursive: true });
    mkdirSync(join(home, 'archived_sessions'), { recursive: true });
    copyFileSync(join(ROOT, F.archived), join(home, 'sessions/2026/02/23', name));
    copyFileSync(join(ROOT, F.archived), join(home, 'archived_sessions', name));
    const d = db(home);
    const r = await ingest(d, { adapters: [codexAdapter], env: { CODEX_HOME: home } });
    expect(r.filesRead).toBe(2);
    // 57 events per copy (63 lines − info:null − 5 repeated totals); the second copy changes nothing.
    expect(r.events).toEqual({ inserted: 57, updated: 0, unchanged: 57 });
    expect(d.prepare('SELECT COUNT(*) FROM events').pluck().get()).toBe(57);
    expect(usageByDay(d)).toEqual({ '2026-02-23': dt(298373 - 238848, 238848, 1123, 483, 299496) });
    expect(d.prepare("SELECT events FROM sessions WHERE session_id = '019c8bfe-ec25-79e0-97d7-bda6a9c575ff'").pluck().get()).toBe(57);
  });

  it('appending token_count lines in steps gives the same usage as one step', async () => {
    const all = lines(join(ROOT, F.agtrace));
    const name = 'rollout-2025-12-10T04-55-16-019b04ae-b1c6-7c72-a134-a4c2de66058c.jsonl';
    const setup = (home: string) => {
      mkdirSync(join(home, 'sessions/2025/12/10'), { recursive: true });
      return join(home, 'sessions/2025/12/10', name);
    };
    // One step.
    const h1 = tmp();
    writeFileSync(setup(h1), all.join('\n') + '\n');
    const d1 = db(h1);
    await ingest(d1, { adapters: [codexAdapter], env: { CODEX_HOME: h1 } });

    // Three steps. Cut after line 3 (a user message whose mirror is line 4) and after line 18 (a total
    // repeated on line 21), so both the mirror pairing and the previous total must survive in state.
    const h2 = tmp();
    const f2 = setup(h2);
    const d2 = db(h2);
    writeFileSync(f2, all.slice(0, 3).join('\n') + '\n');
    await ingest(d2, { adapters: [codexAdapter], env: { CODEX_HOME: h2 } });
    appendFileSync(f2, all.slice(3, 18).join('\n') + '\n');
    const mid = await ingest(d2, { adapters: [codexAdapter], env: { CODEX_HOME: h2 } });
    expect(mid.filesRewritten).toBe(0);
    appendFileSync(f2, all.slice(18).join('\n') + '\n');
    await ingest(d2, { adapters: [codexAdapter], env: { CODEX_HOME: h2 } });

    const expected = { '2025-12-09': EXPECTED_DAYS['2025-12-09'] };
    expect(usageByDay(d1)).toEqual(expected);
    expect(usageByDay(d2)).toEqual(expected);
    const rows = (d: Db) => d.prepare('SELECT lower(hex(uid_bytes)) AS uid, kind, input_tokens, output_tokens, total_tokens, text FROM events ORDER BY uid').all();
    expect(rows(d2)).toEqual(rows(d1));
  });

  it('appending only token_count lines, including a repeat across the cut, bills each delta once', async () => {
    const home = tmp();
    mkdirSync(join(home, 'sessions/2026/03/01'), { recursive: true });
    const f = join(home, 'sessions/2026/03/01/rollout-2026-03-01T10-00-00-0199bbbb-0000-7000-8000-000000000002.jsonl');
    const tc = (s: number, t: number[]) => JSON.stringify({
      timestamp: `2026-03-01T10:00:${String(s).padStart(2, '0')}.000Z`, type: 'event_msg',
      payload: { type: 'token_count', info: { total_token_usage: { input_tokens: t[0], cached_input_tokens: t[1], output_tokens: t[2], reasoning_output_tokens: t[3], total_tokens: t[0] + t[2] } } },
    });
    const head = [
      '{"timestamp":"2026-03-01T10:00:00.000Z","type":"session_meta","payload":{"id":"0199bbbb-0000-7000-8000-000000000002","cwd":"/w/p"}}',
      '{"timestamp":"2026-03-01T10:00:01.000Z","type":"turn_context","payload":{"model":"gpt-5-codex"}}',
    ];
    const step1 = [tc(2, [1000, 600, 50, 10]), tc(3, [1000, 600, 50, 10])];
    const step2 = [tc(4, [1000, 600, 50, 10]), tc(5, [3000, 2200, 90, 30]), tc(6, [3000, 2200, 90, 30])];
    writeFileSync(f, head.join('\n') + '\n');
    const d = db(home);
    await ingest(d, { adapters: [codexAdapter], env: { CODEX_HOME: home } });
    appendFileSync(f, step1.join('\n') + '\n');
    await ingest(d, { adapters: [codexAdapter], env: { CODEX_HOME: home } });
    appendFileSync(f, step2.join('\n') + '\n');
    await ingest(d, { adapters: [codexAdapter], env: { CODEX_HOME: home } });
    // Final total 3000/2200/90/30: input 800, cache read 2200, output 90, total 3090, in two billed events.
    expect(usageByDay(d)).toEqual({ '2026-03-01': dt(800, 2200, 90, 30, 3090) });
    expect(d.prepare("SELECT COUNT(*) FROM usage WHERE provider = 'codex'").pluck().get()).toBe(2);
    expect(d.prepare("SELECT DISTINCT model FROM usage").pluck().all()).toEqual(['gpt-5-codex']);

    const h2 = tmp();
    mkdirSync(join(h2, 'sessions/2026/03/01'), { recursive: true });
    writeFileSync(join(h2, 'sessions/2026/03/01', f.split('/').pop()!), [...head, ...step1, ...step2].join('\n') + '\n');
    const d2 = db(h2);
    await ingest(d2, { adapters: [codexAdapter], env: { CODEX_HOME: h2 } });
    expect(usageByDay(d2)).toEqual(usageByDay(d));
    const keys = (x: Db) => x.prepare('SELECT usage_key FROM usage ORDER BY usage_key').pluck().all();
    expect(keys(d2)).toEqual(keys(d));
  });
});
