import { mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createUniqueHash, globUsageFiles, usageDataSchema } from 'ccusage/data-loader';
import {
  claudeAdapter,
  claudeFileInfo,
  claudeRoots,
  createClaudeParser,
  discoverClaudeFiles,
  TEXT_CAP_BYTES,
} from '../../src/adapters/claude/index.js';
import { eventUid } from '../../src/model/identity.js';
import type { EventRecord } from '../../src/model/event.js';
import type { SourceFile } from '../../src/adapters/types.js';
import { copyFixture, FIXTURES_DIR, tempDir } from '../helpers/fixtures.js';
import { generateClaudeLogs } from '../helpers/claudeGen.js';

const ROOT = join(FIXTURES_DIR, 'claude');
const P = (rel: string) => join(ROOT, 'projects', rel);

interface Parsed {
  events: EventRecord[];
  malformed: number[];
  lines: string[];
}

function parseLines(file: SourceFile, lines: string[], state: Record<string, unknown> | null = null) {
  const parser = createClaudeParser(file, state);
  const events: EventRecord[] = [];
  const malformed: number[] = [];
  lines.forEach((l, i) => {
    const t = l.trim();
    if (!t) return;
    const evs = parser.line(t);
    if (evs === null) malformed.push(i + 1);
    else events.push(...evs);
  });
  return { events, malformed, parser };
}

function parseFixture(rel: string): Parsed {
  const path = P(rel);
  const lines = readFileSync(path, 'utf8').split('\n');
  const { events, malformed } = parseLines({ provider: 'claude', path, root: ROOT }, lines);
  return { events, malformed, lines };
}

/** ccusage's own verdict on one record: billed (with its dedupe hash) or not. */
function ccusageVerdict(rec: unknown): { billed: boolean; hash: string | null } {
  const r = usageDataSchema['~standard'].validate(rec) as { issues?: unknown; value?: unknown };
  if (r instanceof Promise) throw new Error('schema is sync');
  if (r.issues) return { billed: false, hash: null };
  const data = r.value as Parameters<typeof createUniqueHash>[0];
  // ccusage formats the date next and drops the line if that throws (an impossible date).
  const billed = Number.isFinite(new Date(data.timestamp).getTime());
  return { billed, hash: createUniqueHash(data) };
}

describe('claude roots', () => {
  it('reads CLAUDE_CONFIG_DIR as a comma-separated list, dropping blanks and duplicates', () => {
    expect(claudeRoots({ CLAUDE_CONFIG_DIR: ' /a/b , ,/c,/a/b/ ' })).toEqual(['/a/b', '/c']);
  });
  it('defaults to ~/.config/claude and ~/.claude like ccusage, honouring XDG_CONFIG_HOME', () => {
    expect(claudeRoots({ HOME: '/h' })).toEqual(['/h/.config/claude', '/h/.claude']);
    expect(claudeRoots({ HOME: '/h', XDG_CONFIG_HOME: '/x' })).toEqual(['/x/claude', '/h/.claude']);
    expect(claudeRoots({ HOME: '/h', CLAUDE_CONFIG_DIR: '   ' })).toEqual(['/h/.config/claude', '/h/.claude']);
  });
});

describe('claude discovery', () => {
  it('finds the files ccusage reads, minus workflow journals, and no non-log files', async () => {
    const files = await discoverClaudeFiles([ROOT, join(tempDir(), 'no-such-root')]);
    const ours = files.map((f) => f.path);
    const theirs = (await globUsageFiles([ROOT])).map((f) => f.file);
    const journals = theirs.filter((p) => p.endsWith(`${sep}journal.jsonl`));
    expect(journals).toHaveLength(1);
    expect(ours.sort()).toEqual(theirs.filter((p) => !journals.includes(p)).sort());
    expect(files.every((f) => f.provider === 'claude' && f.root === ROOT)).toBe(true);
    const rels = ours.map((p) => relative(join(ROOT, 'projects'), p).split(sep).join('/'));
    expect(rels).toContain('-Users-dain-workspace-JSSoundRecorder/agent-3430b97e.jsonl');
    expect(rels).toContain('-experiments-worktrees/ef958aa1-0e93-49f0-bb71-150f63befcd1/subagents/agent-a36efb2a1231c41e2.jsonl');
    expect(rels).toContain('-repo/11110000-0000-4000-8000-000000000001/subagents/workflows/wf_demo01/agent-ag000002.jsonl');
    expect(rels).toContain('-Users-dain-workspace-JSSoundRecorder/2c5941bd-b9de-41d6-9414-221d175776f7.jsonl'); // empty file
    expect(rels.some((r) => !r.endsWith('.jsonl'))).toBe(false);
    expect(files).toHaveLength(75);
  });

  it('skips dot folders and dot files, follows symlinks, and merges several roots', async () => {
    const a = copyFixture('claude');
    const b = join(tempDir(), 'claude2');
    mkdirSync(join(b, 'projects', '-p', '.hidden'), { recursive: true });
    writeFileSync(join(b, 'projects', '-p', '.hidden', 'x.jsonl'), '{}\n');
    writeFileSync(join(b, 'projects', '-p', '.dot.jsonl'), '{}\n');
    writeFileSync(join(b, 'projects', '-p', 's.jsonl'), '{}\n');
    symlinkSync(join(a, 'projects', '-tmp'), join(b, 'projects', '-linked'));
    const files = await discoverClaudeFiles(claudeRoots({ CLAUDE_CONFIG_DIR: `${a},${b}` }));
    const inB = files.filter((f) => f.root === b).map((f) => relative(join(b, 'projects'), f.path));
    expect(inB.filter((p) => p.startsWith('-p'))).toEqual([join('-p', 's.jsonl')]);
    expect(inB.filter((p) => p.startsWith('-linked'))).toHaveLength(14);
    // Relative to the projects folder: a temp folder's random name may itself contain "-p".
    const theirs = (await globUsageFiles([b])).map((f) => relative(join(b, 'projects'), f.file));
    expect(theirs.filter((p) => p.startsWith(`-p${sep}`))).toEqual([join('-p', 's.jsonl')]);
    expect(files.filter((f) => f.root === a)).toHaveLength(75);
  });

  it('follows a symlink loop once: a folder linking to its ancestor, and a projects folder reached through a link', async () => {
    const real = join(tempDir(), 'claude-real');
    mkdirSync(join(real, 'projects', '-p', 'deep'), { recursive: true });
    writeFileSync(join(real, 'projects', '-p', 's.jsonl'), '{}\n');
    writeFileSync(join(real, 'projects', '-p', 'deep', 'agent-1.jsonl'), '{}\n');
    symlinkSync(join(real, 'projects'), join(real, 'projects', '-p', 'deep', 'up'));
    symlinkSync(join(real, 'projects', '-p'), join(real, 'projects', '-again'));
    const linkedRoot = join(tempDir(), 'claude-link');
    symlinkSync(real, linkedRoot);
    const files = await discoverClaudeFiles([linkedRoot]);
    // Each real file once, by whichever path reached it first (`-again` is the same folder as `-p`).
    expect(files.map((f) => realpathSync(f.path)).sort()).toEqual([join(real, 'projects', '-p', 'deep', 'agent-1.jsonl'), join(real, 'projects', '-p', 's.jsonl')].map((p) => realpathSync(p)));
    expect(files.every((f) => f.path.startsWith(join(linkedRoot, 'projects') + sep))).toBe(true);
  });

  it('derives slug, fallback session and agent from the path', () => {
    expect(claudeFileInfo(ROOT, P('-tmp/edge_cases.jsonl'))).toEqual({ slug: '-tmp', fallbackSession: 'edge_cases', agent: null });
    expect(claudeFileInfo(ROOT, P('-u/agent-0c4c3cf8.jsonl'))).toEqual({ slug: '-u', fallbackSession: 'agent-0c4c3cf8', agent: '0c4c3cf8' });
    expect(claudeFileInfo(ROOT, P('-r/sess-1/subagents/workflows/wf/agent-ag1.jsonl'))).toEqual({
      slug: '-r',
      fallbackSession: 'sess-1',
      agent: 'ag1',
    });
  });
});

/** What our parser makes of one line: a billed event, an event without usage, or a malformed line. */
function ourVerdict(rec: unknown): 'billed' | 'none' | 'malformed' {
  const evs = createClaudeParser({ provider: 'claude', path: P('-w/s.jsonl'), root: ROOT }, null).line(JSON.stringify(rec));
  if (evs === null) return 'malformed';
  return evs.some((e) => e.usage) ? 'billed' : 'none';
}

// Which lines report usage, here and in ccusage 18.0.11 (a documented comparison, docs/numbers.md):
// we bill every line with a valid ISO-8601 instant and message.usage counts; ccusage's schema
// also drops lines over optional fields it does not use (null requestId or model, odd content, version).
describe('which lines report usage, against ccusage 18.0.11', () => {
  const ok = {
    type: 'assistant',
    timestamp: '2025-01-02T03:04:05.678Z',
    sessionId: 's',
    cwd: '/w',
    version: '2.0.1',
    requestId: 'req_1',
    message: { id: 'msg_1', model: 'claude-x', content: [{ type: 'text', text: 'hi' }, { type: 'tool_use', name: 'Bash', input: {} }], usage: { input_tokens: 1, output_tokens: 2, cache_creation_input_tokens: 3, cache_read_input_tokens: 4 } },
  };
  const m = (patch: Record<string, unknown>) => ({ ...ok, message: { ...ok.message, ...patch } });
  const u = (patch: Record<string, unknown>) => m({ usage: { ...ok.message.usage, ...patch } });
  const cases: Array<[string, unknown, 'billed' | 'none' | 'malformed', boolean]> = [
    ['complete record', ok, 'billed', true],
    ['timestamp without millis', { ...ok, timestamp: '2025-01-02T03:04:05Z' }, 'billed', true],
    ['microsecond timestamp', { ...ok, timestamp: '2025-01-02T03:04:05.678901Z' }, 'billed', false],
    ['offset timestamp', { ...ok, timestamp: '2025-01-02T03:04:05.678+00:00' }, 'billed', false],
    ['impossible date', { ...ok, timestamp: '2025-13-45T03:04:05.678Z' }, 'malformed', false],
    ['no timestamp', { ...ok, timestamp: undefined }, 'none', false],
    ['requestId null', { ...ok, requestId: null }, 'billed', false],
    ['requestId empty', { ...ok, requestId: '' }, 'billed', false],
    ['no requestId', { ...ok, requestId: undefined }, 'billed', true],
    ['message.id missing', m({ id: undefined }), 'billed', true],
    ['model null', m({ model: null }), 'billed', false],
    ['model empty', m({ model: '' }), 'billed', false],
    ['synthetic model', m({ model: '<synthetic>' }), 'billed', true],
    ['content as string', m({ content: 'hello' }), 'billed', false],
    ['content item not an object', m({ content: ['x'] }), 'billed', false],
    ['content item text not a string', m({ content: [{ type: 'text', text: 5 }] }), 'billed', false],
    ['content empty array', m({ content: [] }), 'billed', true],
    ['no usage', m({ usage: undefined }), 'none', false],
    ['usage without output_tokens', u({ output_tokens: undefined }), 'none', false],
    ['input_tokens as string', u({ input_tokens: '1' }), 'malformed', false],
    ['cache tokens null', u({ cache_read_input_tokens: null }), 'billed', false],
    ['cache tokens absent', u({ cache_read_input_tokens: undefined, cache_creation_input_tokens: undefined }), 'billed', true],
    ['speed fast', u({ speed: 'fast' }), 'billed', true],
    ['speed unknown', u({ speed: 'turbo' }), 'billed', false],
    ['version malformed', { ...ok, version: 'v2' }, 'billed', false],
    ['sessionId empty', { ...ok, sessionId: '' }, 'billed', false],
    ['cwd null', { ...ok, cwd: null }, 'billed', false],
    ['costUSD', { ...ok, costUSD: 0.5 }, 'billed', true],
    ['costUSD as string', { ...ok, costUSD: '0.5' }, 'billed', false],
    ['isApiErrorMessage', { ...ok, isApiErrorMessage: true }, 'billed', true],
    ['isApiErrorMessage null', { ...ok, isApiErrorMessage: null }, 'billed', false],
    ['user record with usage', { ...ok, type: 'user' }, 'billed', true],
    ['progress record with usage', { ...ok, type: 'progress' }, 'billed', true],
    ['message is an array', { ...ok, message: [] }, 'none', false],
  ];
  it.each(cases)('%s: ours %s, ccusage bills it: %s', (_name, rec, ours, theirs) => {
    const json = JSON.parse(JSON.stringify(rec)) as Record<string, unknown>;
    expect(ourVerdict(json)).toBe(ours);
    expect(ccusageVerdict(json).billed).toBe(theirs);
  });

  it('bills every line ccusage bills, on every fixture and generated log', async () => {
    const gen = join(tempDir(), 'claude');
    generateClaudeLogs(gen, { seed: 11 });
    let billed = 0;
    let lines = 0;
    for (const f of await discoverClaudeFiles([ROOT, gen])) {
      for (const l of readFileSync(f.path, 'utf8').split('\n')) {
        if (!l.trim()) continue;
        let j: unknown;
        try {
          j = JSON.parse(l);
        } catch {
          continue;
        }
        lines++;
        const theirs = ccusageVerdict(j);
        const ours = ourVerdict(j);
        // Except an impossible count (the generator writes a few), which ccusage sums and we report as malformed.
        const impossible = /"input_tokens":(-|\d+\.|\d{17})/.test(l);
        if (theirs.billed) expect(ours, `${f.path}: ${l.slice(0, 120)}`).toBe(impossible ? 'malformed' : 'billed');
        if (ours === 'billed') billed++;
      }
    }
    expect(lines).toBeGreaterThan(3000);
    expect(billed).toBeGreaterThan(900);
  });
});

describe('claude parser on fixture shapes', () => {
  it('turns a plain session into user/assistant events with identity, project and usage', () => {
    const { events, malformed } = parseFixture('-Users-test-dev-ai-music/ba79134d-b6e9-4867-af0c-6941038c9e4b.jsonl');
    expect(malformed).toEqual([]);
    expect(events).toHaveLength(76);
    const e = events.find((x) => x.kind === 'assistant' && x.usage)!;
    expect(e.provider).toBe('claude');
    expect(e.project).toBe('-Users-test-dev-ai-music');
    expect(e.projectPath).toBe('/Users/test/dev/ai-music');
    expect(e.session).toBe('ba79134d-b6e9-4867-af0c-6941038c9e4b');
    expect(e.uid).toBe(eventUid('claude', e.session, e.record));
    // A billed record's id is its uuid plus the API message it carries (rewinds reuse uuids).
    expect(e.record).toMatch(/^[0-9a-f-]{36}#msg_[^:]+:req_/);
    expect(e.model).toBe('claude-sonnet-4-20250514');
    // The billing identity is the API message, whatever request, line or file carried it.
    expect(e.usageKey).toMatch(/^m:msg_/);
    const x = JSON.parse(e.extra!);
    expect(e.record.endsWith(`#${x.messageId}:${x.requestId}`)).toBe(true);
    expect(`m:${x.messageId}`).toBe(e.usageKey);
    expect(e.usage!.totalTokens).toBe(e.usage!.inputTokens + e.usage!.outputTokens + e.usage!.cacheCreationTokens + e.usage!.cacheReadTokens);
    expect(e.usage!.reasoningTokens).toBe(0);
    expect(new Set(events.map((x) => x.uid)).size).toBe(events.length);
    // Field order is the canonical wire order.
    expect(Object.keys(e)).toEqual(['uid', 'provider', 'project', 'projectPath', 'session', 'record', 'ts', 'kind', 'model', 'sidechain', 'agent', 'usageKey', 'usage', 'text', 'extra']);
  });

  it('streaming splits share one usage key (billed once downstream)', () => {
    const { events } = parseFixture('-Users-test-dev-ai-music/d3ad4cdc-5657-435d-98fa-0035d53e383d.jsonl');
    const byKey = new Map<string, EventRecord[]>();
    for (const e of events) if (e.usageKey) byKey.set(e.usageKey, [...(byKey.get(e.usageKey) ?? []), e]);
    const split = [...byKey.values()].filter((g) => g.length > 1);
    expect(split.length).toBeGreaterThan(5);
    for (const g of split) expect(new Set(g.map((e) => e.uid)).size).toBe(g.length);
  });

  it('marks inline sidechains and takes the agent from agentId', () => {
    const { events } = parseFixture('-Users-dain-workspace-claude-code-log/df749439-8556-41bf-9965-9f49cf38bf2a.jsonl');
    expect(events.some((e) => e.sidechain)).toBe(true);
    expect(events.some((e) => !e.sidechain)).toBe(true);
    // Its microsecond timestamps (which ccusage 18 drops) are instants like any other: billed.
    const withMessageUsage = events.filter((e) => e.kind === 'assistant');
    expect(withMessageUsage.length).toBeGreaterThan(0);
    expect(withMessageUsage.every((e) => e.usage !== null && e.usageKey?.startsWith('m:'))).toBe(true);
    expect(events[0].ts).toBe('2025-07-03T15:50:07.875Z');
  });

  it('reads the newer subagents layout as sidechain events of the parent session', () => {
    const { events } = parseFixture('-experiments-worktrees/ef958aa1-0e93-49f0-bb71-150f63befcd1/subagents/agent-a36efb2a1231c41e2.jsonl');
    expect(events).toHaveLength(18);
    for (const e of events) {
      expect(e.sidechain).toBe(true);
      expect(e.agent).toBe('a36efb2a1231c41e2');
      expect(e.session).toBe('ef958aa1-0e93-49f0-bb71-150f63befcd1');
      expect(e.project).toBe('-experiments-worktrees');
    }
    expect(events.filter((e) => e.usage)).toHaveLength(10);
  });

  it('reads workflow subagents; usage without requestId is keyed by its message id', () => {
    const { events } = parseFixture('-repo/11110000-0000-4000-8000-000000000001/subagents/workflows/wf_demo01/agent-ag000001.jsonl');
    expect(events).toHaveLength(3);
    expect(events.every((e) => e.agent === 'ag000001' && e.sidechain)).toBe(true);
    const billed = events.filter((e) => e.usage);
    expect(billed).toHaveLength(2);
    for (const e of billed) expect(e.usageKey).toBe(`m:${JSON.parse(e.extra!).messageId}`);
    expect(JSON.parse(billed[0].extra!).tools).toEqual(['StructuredOutput']);
    expect(billed[0].text).toContain('StructuredOutput {"area":"loader"');
  });

  it('takes the agent from an old flat agent-<id>.jsonl name when the record has none', () => {
    const path = P('-Users-test-user-agent-sample/agent-0c4c3cf8.jsonl');
    const lines = readFileSync(path, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const j = JSON.parse(l);
        delete j.agentId;
        return JSON.stringify(j);
      });
    const { events } = parseLines({ provider: 'claude', path, root: ROOT }, lines);
    expect(events).toHaveLength(2);
    expect(events.every((e) => e.agent === '0c4c3cf8' && e.sidechain && e.session === '7f2abd2d-7cfc-4447-9ddd-3ca8d14e02e9')).toBe(true);
  });

  it('keeps compaction records and skips bookkeeping lines', () => {
    const { events, lines, malformed } = parseFixture('-home-marco-projects-spotter-worktrees-spotter-4te/ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl');
    expect(malformed).toEqual([]);
    const boundary = events.filter((e) => e.kind === 'system' && JSON.parse(e.extra!).subtype === 'compact_boundary');
    expect(boundary).toHaveLength(1);
    const summaries = events.filter((e) => e.extra && JSON.parse(e.extra).compactSummary === true);
    expect(summaries.length).toBeGreaterThan(0);
    expect(summaries[0].kind).toBe('user');
    const types = lines.filter((l) => l.trim()).map((l) => JSON.parse(l).type as string);
    const kept = types.filter((t) => ['user', 'assistant', 'system', 'summary'].includes(t)).length;
    expect(types.filter((t) => t === 'progress').length).toBeGreaterThan(100);
    expect(events).toHaveLength(kept);
  });

  it('skips attachments, permission-mode, last-prompt, file-history-snapshot and queue-operation', () => {
    const { events, lines } = parseFixture('-experiments-worktrees/ef958aa1-0e93-49f0-bb71-150f63befcd1.jsonl');
    const types = lines.filter((l) => l.trim()).map((l) => JSON.parse(l).type as string);
    for (const t of ['attachment', 'permission-mode', 'last-prompt', 'file-history-snapshot']) expect(types).toContain(t);
    expect(new Set(events.map((e) => e.kind))).toEqual(new Set(['user', 'assistant', 'system']));
    expect(events).toHaveLength(types.filter((t) => ['user', 'assistant', 'system'].includes(t)).length);
    const q = parseFixture('-Users-dain-workspace-JSSoundRecorder/7acd37a8-2745-4b58-a8a9-46164b22ad9e.jsonl');
    expect(q.lines.some((l) => l.includes('"queue-operation"'))).toBe(true);
    expect(q.events.every((e) => ['user', 'assistant', 'system', 'summary'].includes(e.kind))).toBe(true);
  });

  it('counts malformed lines in edge_cases.jsonl and keeps the odd but valid records', () => {
    const { events, malformed } = parseFixture('-tmp/edge_cases.jsonl');
    // "massive error", {"silly": "this"}, 42, [1]
    expect(malformed).toEqual([13, 14, 15, 16]);
    const noTs = events.find((e) => e.record === 'edge_011' && e.ts === '');
    expect(noTs).toBeDefined();
    expect(noTs!.text).toBeNull();
    const todo = events.find((e) => e.record === 'assistant_004#msg_004:req_004')!;
    expect(todo.session).toBe('todowrite_session');
    expect(todo.usageKey).toBe('m:msg_004');
    expect(todo.usage).toMatchObject({ inputTokens: 168, outputTokens: 85, cacheCreationTokens: 0, cacheReadTokens: 0, totalTokens: 253 });
    const summary = events.find((e) => e.kind === 'summary')!;
    expect(summary.record).toMatch(/^d:[0-9a-f]{32}$/);
    expect(summary.session).toBe('edge_cases');
    expect(JSON.parse(summary.extra!)).toEqual({ leafUuid: 'edge_011' });
    // A tool_result carried in a user record, with string content items tolerated.
    expect(events.find((e) => e.record === 'edge_005')!.text).toContain('Command not found');
    expect(events.filter((e) => e.record === 'edge_010').map((e) => e.text)).toContain('wow error');
  });

  it('parses a summary-only file and produces nothing for an empty one', () => {
    const { events } = parseFixture('-Users-test-dev-ai-music/ff71dbed-a4f2-4284-a4fc-fe2fb90de929.jsonl');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ kind: 'summary', ts: '', session: 'ff71dbed-a4f2-4284-a4fc-fe2fb90de929', text: 'AI Music Generation from Word Embeddings', usage: null });
    expect(parseFixture('-Users-dain-workspace-JSSoundRecorder/2c5941bd-b9de-41d6-9414-221d175776f7.jsonl').events).toEqual([]);
  });

  it('never throws on any line of any fixture, and gives every record a distinct identity per file', async () => {
    for (const f of await discoverClaudeFiles([ROOT])) {
      const lines = readFileSync(f.path, 'utf8').split('\n');
      const { events } = parseLines(f, lines);
      const seen = new Map<string, number>();
      for (const e of events) seen.set(e.uid, (seen.get(e.uid) ?? 0) + 1);
      // Only edge_cases.jsonl repeats a uuid (edge_010, edge_011), on purpose.
      const dup = [...seen.values()].filter((n) => n > 1).length;
      expect(dup, f.path).toBe(f.path.endsWith('edge_cases.jsonl') ? 2 : 0);
    }
  });
});

describe('claude parser details', () => {
  const file: SourceFile = { provider: 'claude', path: join('/r', 'projects', '-w', 'sess.jsonl'), root: '/r' };

  it('gives records without uuid ordinal identities that survive resuming from saved state', () => {
    const lines = [
      JSON.stringify({ type: 'summary', summary: 'a', leafUuid: 'x' }),
      JSON.stringify({ type: 'summary', summary: 'b', leafUuid: 'y' }),
      JSON.stringify({ type: 'system', subtype: 'informational', content: 'c', timestamp: '2025-01-01T00:00:00Z' }),
      JSON.stringify({ type: 'system', subtype: 'informational', content: 'd', timestamp: '2025-01-01T00:00:00Z' }),
      JSON.stringify({ type: 'summary', summary: 'e', leafUuid: 'z' }),
    ];
    const whole = parseLines(file, lines).events.map((e) => e.record);
    expect(new Set(whole).size).toBe(5);
    const first = parseLines(file, lines.slice(0, 3));
    const saved = JSON.parse(JSON.stringify(first.parser.state()));
    const rest = parseLines(file, lines.slice(3), saved);
    expect([...first.events, ...rest.events].map((e) => e.record)).toEqual(whole);
  });

  it('caps text at 16 KiB on a character boundary and says so in extra', () => {
    const big = 'é'.repeat(20_000) + 'tail';
    const rec = {
      type: 'assistant',
      uuid: 'u1',
      sessionId: 's',
      timestamp: '2025-01-01T00:00:00.000Z',
      message: { id: 'm', content: [{ type: 'text', text: 'start' }, { type: 'tool_use', name: 'Write', input: { content: big } }] },
    };
    const [e] = createClaudeParser(file, null).line(JSON.stringify(rec))!;
    expect(Buffer.byteLength(e.text!, 'utf8')).toBeLessThanOrEqual(TEXT_CAP_BYTES);
    expect(Buffer.byteLength(e.text!, 'utf8')).toBeGreaterThan(TEXT_CAP_BYTES - 4);
    expect(e.text!.startsWith('start\nWrite {"content":"éé')).toBe(true);
    expect(e.text!.includes('\uFFFD')).toBe(false);
    expect(JSON.parse(e.extra!)).toMatchObject({ truncated: true, tools: ['Write'], messageId: 'm' });
  });

  it('treats non-objects and objects without a type as malformed, unknown types as skipped', () => {
    const p = createClaudeParser(file, null);
    for (const bad of ['{"type":"user",', 'null', '"x"', '7', '[]', '{"no":"type"}', '{"type":5}']) expect(p.line(bad)).toBeNull();
    expect(p.line('{"type":"brand-new-thing","timestamp":"2025-01-01T00:00:00Z"}')).toEqual([]);
    expect(p.line('{"type":"constructor"}')).toEqual([]);
  });

  it('bills usage found on any record type', () => {
    const rec = { type: 'progress', timestamp: '2025-01-01T00:00:00Z', requestId: 'r', message: { id: 'm', usage: { input_tokens: 1, output_tokens: 1 } } };
    const [e] = createClaudeParser(file, null).line(JSON.stringify(rec))!;
    expect(e.kind).toBe('usage');
    expect(e.usageKey).toBe('m:m');
    expect(e.record).toMatch(/^d:/);
    const { type: _t, ...untyped } = rec;
    const [u] = createClaudeParser(file, null).line(JSON.stringify(untyped))!;
    expect(u).toMatchObject({ kind: 'usage', usageKey: 'm:m' });
  });

  it('keeps <synthetic> API errors as billed zero usage and records costUSD and fast mode for pricing', () => {
    const p = createClaudeParser(file, null);
    const [syn] = p.line(JSON.stringify({ type: 'assistant', uuid: 'a', timestamp: '2025-01-01T00:00:00Z', isApiErrorMessage: true, message: { id: 'x', model: '<synthetic>', content: [{ type: 'text', text: 'API Error' }], usage: { input_tokens: 0, output_tokens: 0 } } }))!;
    expect(syn.model).toBe('<synthetic>');
    expect(syn.usage!.totalTokens).toBe(0);
    expect(JSON.parse(syn.extra!)).toMatchObject({ apiError: true });
    const [fast] = p.line(JSON.stringify({ type: 'assistant', uuid: 'b', timestamp: '2025-01-01T00:00:00Z', requestId: 'r', costUSD: 0.25, message: { id: 'y', model: 'claude-opus-4-6', usage: { input_tokens: 1, output_tokens: 2, speed: 'fast', cache_creation: { ephemeral_1h_input_tokens: 9 } } } }))!;
    expect(JSON.parse(fast.extra!)).toMatchObject({ costUSD: 0.25, speed: 'fast', cache1hTokens: 9 });
  });

  it('is exposed through the adapter', async () => {
    expect(claudeAdapter.provider).toBe('claude');
    expect(claudeAdapter.roots({ CLAUDE_CONFIG_DIR: ROOT })).toEqual([ROOT]);
    expect((await claudeAdapter.discover([ROOT])).length).toBe(75);
  });
});
