import { appendFileSync, cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { geminiAdapter, geminiFileInfo, geminiHome, geminiUsage } from '../../src/adapters/gemini/index.js';
import { agentStore, billedByDay, latest, parseFile } from '../helpers/agents.js';
import { FIXTURES_DIR, tempDir } from '../helpers/fixtures.js';

const HOME = join(FIXTURES_DIR, 'gemini');
const TMP = join(HOME, '.gemini', 'tmp');
const MAIN = join(TMP, 'shop', 'chats', 'session-2026-05-04T09-00-4f0c2a1e.jsonl');
const SUB = join(TMP, 'shop', 'chats', '4f0c2a1e-7b3d-4c55-9e21-0d6a1b2c3d4e', '9d8e7f60-1a2b-4c3d-8e9f-a0b1c2d3e4f5.jsonl');
const LEGACY = join(TMP, '3c5d1a8f0b9e2d7c6a4f1e0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b', 'chats', 'session-2026-03-01T10-00-1e2d3c4b.json');

describe('Gemini CLI: where the logs are', () => {
  it('GEMINI_CLI_HOME holds .gemini; else HOME; GEMINI_DATA_DIR names .gemini itself', () => {
    expect(geminiHome({ GEMINI_CLI_HOME: '/x/g' })).toBe('/x/g');
    expect(geminiHome({ HOME: '/home/u' })).toBe('/home/u');
    expect(geminiAdapter.roots({ HOME: '/home/u' })).toEqual(['/home/u/.gemini']);
    // ccusage's variable names the .gemini folder (or its tmp) itself, and wins
    expect(geminiAdapter.roots({ GEMINI_CLI_HOME: '/x/g', GEMINI_DATA_DIR: '/d/.gemini' })).toEqual(['/d/.gemini']);
    expect(geminiAdapter.roots({ GEMINI_DATA_DIR: '/d/.gemini/tmp' })).toEqual(['/d/.gemini']);
  });

  it('finds main chats, subagent chats and legacy .json chats (read as documents); nothing where Gemini never ran', async () => {
    const found = await geminiAdapter.discover(geminiAdapter.roots({ GEMINI_CLI_HOME: HOME }));
    expect(found.map((f) => [f.path, f.reader ? 'whole' : 'lines'])).toEqual([
      [LEGACY, 'whole'],
      [SUB, 'lines'],
      [MAIN, 'lines'],
    ]);
    expect(await geminiAdapter.discover([join(tempDir(), '.gemini')])).toEqual([]);
  });

  it('a subagent file names its parent session', () => {
    expect(geminiFileInfo(SUB)).toMatchObject({ project: 'shop', parent: '4f0c2a1e-7b3d-4c55-9e21-0d6a1b2c3d4e' });
    expect(geminiFileInfo(MAIN)).toMatchObject({ project: 'shop', parent: null });
  });
});

describe('Gemini token counts', () => {
  it('input includes cached; thoughts are output; tool-use prompt is input; the total is the log\'s', () => {
    expect(geminiUsage({ input: 20000, output: 250, cached: 15000, thoughts: 120, tool: 600, total: 20970 })).toEqual({
      usage: { inputTokens: 5600, outputTokens: 370, cacheCreationTokens: 0, cacheReadTokens: 15000, reasoningTokens: 120, totalTokens: 20970 },
      shape: 'api',
      logTotal: null,
    });
  });

  it('reasoning already inside the candidates (an OpenAI-style backend) is not added twice', () => {
    const r = geminiUsage({ input: 1000, output: 300, cached: 400, thoughts: 200, tool: 0, total: 1300 })!;
    expect(r.shape).toBe('thoughts-in-output');
    expect(r.usage).toMatchObject({ inputTokens: 600, cacheReadTokens: 400, outputTokens: 300, reasoningTokens: 200, totalTokens: 1300 });
  });

  it('a prompt logged without its cached part is not reduced again', () => {
    const r = geminiUsage({ input: 600, output: 100, cached: 400, thoughts: 0, tool: 0, total: 1100 })!;
    expect(r.shape).toBe('uncached-prompt');
    expect(r.usage).toMatchObject({ inputTokens: 600, cacheReadTokens: 400, totalTokens: 1100 });
  });

  it('a total its parts do not add up to is kept beside, the parts are billed', () => {
    const r = geminiUsage({ input: 100, output: 10, cached: 0, thoughts: 0, tool: 0, total: 999 })!;
    expect(r.usage.totalTokens).toBe(110);
    expect(r.logTotal).toBe(999);
    expect(geminiUsage({ input: 0, output: 0, cached: 0, thoughts: 0, tool: 0, total: 0 })).toBeNull();
  });
});

describe('Gemini CLI: chat files', () => {
  const { events, malformed } = parseFile(geminiAdapter, MAIN);
  const kept = latest(events);

  it('a message re-appended with the same id is one event: the last copy wins', () => {
    const g1 = events.filter((e) => e.record === 'g-1');
    expect(g1).toHaveLength(3);
    expect(g1[0].usage).toBeNull(); // first copy: tokens null
    const last = kept.find((e) => e.record === 'g-1')!;
    expect(last.usage).toEqual({ inputTokens: 4000, outputTokens: 840, cacheCreationTokens: 0, cacheReadTokens: 8000, reasoningTokens: 500, totalTokens: 12840 });
    expect(last).toMatchObject({ kind: 'assistant', model: 'gemini-2.5-pro', usageKey: last.uid, project: '-home-dev-shop', projectPath: '/home/dev/shop' });
    expect(last.session).toBe('4f0c2a1e-7b3d-4c55-9e21-0d6a1b2c3d4e');
  });

  it('thoughts, tool calls and their results are events of their own; a failed tool is marked', () => {
    expect(kept.find((e) => e.record === 'g-1#thoughts')).toMatchObject({ kind: 'reasoning', text: 'Reading cart.ts: total() rounds before applyDiscount()' });
    expect(kept.find((e) => e.record === 'g-1#call:read_file-1')!.text).toContain('cart.ts');
    expect(kept.find((e) => e.record === 'g-1#result:read_file-1')!.text).toContain('applyDiscount(round(');
    const failed = kept.find((e) => e.record === 'g-2#result:run_shell_command-2')!;
    expect(failed.text).toBe('npm ERR! missing script: test');
    expect(JSON.parse(failed.extra!).toolError).toBe(true);
  });

  it('$rewindTo un-spends nothing; a $set checkpoint repeats known messages; the torn line is malformed', () => {
    expect(malformed).toEqual([13]);
    expect(kept.filter((e) => e.usage).map((e) => e.record)).toEqual(['g-1', 'g-2', 'g-3']);
    const kinds: Record<string, number> = {};
    for (const e of kept) kinds[e.kind] = (kinds[e.kind] ?? 0) + 1;
    expect(kinds).toEqual({ user: 3, assistant: 3, reasoning: 1, tool_call: 2, tool_result: 2, system: 1 });
  });

  it('a subagent chat is a sidechain of its own session, naming its parent', () => {
    const sub = parseFile(geminiAdapter, SUB).events;
    expect(sub.every((e) => e.sidechain && e.agent === 'subagent')).toBe(true);
    expect(sub[0].session).toBe('9d8e7f60-1a2b-4c3d-8e9f-a0b1c2d3e4f5');
    expect(JSON.parse(sub[0].extra!).parent).toBe('4f0c2a1e-7b3d-4c55-9e21-0d6a1b2c3d4e');
  });

  it('a legacy .json chat is read whole; without a .project_root its folder is the project', () => {
    const { events: legacy, malformed: bad } = parseFile(geminiAdapter, LEGACY);
    expect(bad).toEqual([]);
    expect(legacy.map((e) => e.kind)).toEqual(['user', 'assistant', 'system']);
    expect(legacy[1].usage).toMatchObject({ inputTokens: 5000, outputTokens: 450, reasoningTokens: 300, totalTokens: 5450 });
    expect(legacy[1]).toMatchObject({ project: '3c5d1a8f0b9e2d7c6a4f1e0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b', projectPath: null });
  });
});

describe('Gemini CLI: ingest', () => {
  it('bills per day; a later copy of a message updates it; nothing new is nothing read', async () => {
    const home = join(tempDir(), 'g');
    cpSync(HOME, home, { recursive: true });
    const file = join(home, '.gemini', 'tmp', 'shop', 'chats', 'session-2026-05-04T09-00-4f0c2a1e.jsonl');
    const all = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    // through the first, token-less copy of g-1
    writeFileSync(file, all.slice(0, 3).join('\n') + '\n');
    const { db, run } = agentStore(geminiAdapter, { GEMINI_CLI_HOME: home });
    const first = await run();
    expect(first.byProvider.gemini.filesSeen).toBe(3);
    expect(billedByDay(db, 'gemini').map((d) => d.date)).toEqual(['2026-03-01', '2026-05-04']);
    appendFileSync(file, all.slice(3).join('\n') + '\n');
    const second = await run();
    expect(second.filesRead).toBe(1);
    expect(second.events.updated).toBeGreaterThanOrEqual(1);
    expect(billedByDay(db, 'gemini')).toEqual([
      { date: '2026-03-01', input: 5000, output: 450, cacheCreation: 0, cacheRead: 0, reasoning: 300, total: 5450 },
      { date: '2026-05-04', input: 12600, output: 1330, cacheCreation: 0, cacheRead: 23000, reasoning: 660, total: 36930 },
      { date: '2026-05-05', input: 9000, output: 200, cacheCreation: 0, cacheRead: 0, reasoning: 0, total: 9200 },
    ]);
    const third = await run();
    expect(third.filesRead).toBe(0);
    expect(third.bytesRead).toBe(0);
  });

  it('a legacy .json that Gemini copied to a .jsonl on resume is counted once', async () => {
    const home = join(tempDir(), 'g');
    cpSync(HOME, home, { recursive: true });
    const legacy = join(home, '.gemini', 'tmp', '3c5d1a8f0b9e2d7c6a4f1e0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b', 'chats', 'session-2026-03-01T10-00-1e2d3c4b.json');
    const { messages, ...meta } = JSON.parse(readFileSync(legacy, 'utf8'));
    // What the recorder appends on resume: the metadata, every message, then the new turn.
    const resumed = [meta, ...messages, { id: 'm-4', timestamp: '2026-03-02T09:00:00.000Z', type: 'gemini', content: 'Done.', model: 'gemini-2.5-pro', tokens: { input: 100, output: 10, cached: 0, thoughts: 0, total: 110 } }];
    writeFileSync(legacy + 'l', resumed.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const { db, run } = agentStore(geminiAdapter, { GEMINI_CLI_HOME: home });
    const r = await run();
    expect(r.byProvider.gemini.filesSeen).toBe(4);
    const days = billedByDay(db, 'gemini');
    expect(days.find((d) => d.date === '2026-03-01')).toMatchObject({ input: 5000, output: 450, total: 5450 });
    expect(days.find((d) => d.date === '2026-03-02')).toMatchObject({ input: 100, output: 10, total: 110 });
  });

  it('a legacy .json rewritten whole is read again; unchanged messages stay unchanged', async () => {
    const home = join(tempDir(), 'g');
    cpSync(HOME, home, { recursive: true });
    const file = join(home, '.gemini', 'tmp', '3c5d1a8f0b9e2d7c6a4f1e0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b', 'chats', 'session-2026-03-01T10-00-1e2d3c4b.json');
    const { db, run } = agentStore(geminiAdapter, { GEMINI_CLI_HOME: home });
    await run();
    const rec = JSON.parse(readFileSync(file, 'utf8'));
    rec.messages.push({ id: 'm-4', timestamp: '2026-03-02T09:00:00.000Z', type: 'gemini', content: 'Done.', model: 'gemini-2.5-pro', tokens: { input: 100, output: 10, cached: 0, thoughts: 0, total: 110 } });
    writeFileSync(file, JSON.stringify(rec, null, 2));
    const r = await run();
    expect(r.filesRead).toBe(1);
    expect(r.events.inserted).toBe(1);
    expect(r.events.unchanged).toBe(3);
    expect(billedByDay(db, 'gemini').find((d) => d.date === '2026-03-02')).toMatchObject({ input: 100, output: 10, total: 110 });
    // a write in progress (torn document) is not consumed, and is read again when complete
    writeFileSync(file, '{"sessionId": "1e2d');
    expect((await run()).malformedLines).toBe(1);
    writeFileSync(file, JSON.stringify(rec));
    expect((await run()).malformedLines).toBe(0);
  });
});
