import { appendFileSync, cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { qwenAdapter, qwenHome } from '../../src/adapters/qwen/index.js';
import { agentStore, billedByDay, latest, parseFile } from '../helpers/agents.js';
import { FIXTURES_DIR, tempDir } from '../helpers/fixtures.js';

const ROOT = join(FIXTURES_DIR, 'qwen');
const FILE = join(ROOT, 'projects', '-home-dev-api', 'chats', '7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f.jsonl');

describe('Qwen Code: where the logs are', () => {
  it('QWEN_DATA_DIR moves them; else ~/.qwen', async () => {
    expect(qwenHome({ QWEN_DATA_DIR: '/x/q' })).toBe('/x/q');
    expect(qwenHome({ HOME: '/home/u' })).toBe('/home/u/.qwen');
    expect((await qwenAdapter.discover([ROOT])).map((f) => f.path)).toEqual([FILE]);
    expect(await qwenAdapter.discover([join(tempDir(), 'none')])).toEqual([]);
  });
});

describe('Qwen Code: chat records', () => {
  const { events, malformed } = parseFile(qwenAdapter, FILE);
  const kept = latest(events);
  const billed = kept.filter((e) => e.usage);

  it('maps every record shape; the torn line is malformed', () => {
    expect(malformed).toEqual([7]);
    const kinds: Record<string, number> = {};
    for (const e of kept) kinds[e.kind] = (kinds[e.kind] ?? 0) + 1;
    expect(kinds).toEqual({ user: 2, assistant: 4, reasoning: 1, tool_call: 1, tool_result: 1, system: 2 });
    expect(kept[0]).toMatchObject({ provider: 'qwen', project: '-home-dev-api', projectPath: '/home/dev/api', session: '7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f' });
    expect(kept.find((e) => e.kind === 'tool_result')!.text).toBe('Edited src/routes/login.ts (+6 -0)');
    expect(JSON.parse(kept.find((e) => e.kind === 'tool_call')!.extra!)).toMatchObject({ name: 'edit', callId: 'call_1' });
    expect(kept.find((e) => e.model === 'qwen3-coder-flash')).toMatchObject({ sidechain: true, agent: 'Explore' });
  });

  it('promptTokenCount includes the cached tokens: they are billed once, as cache reads', () => {
    expect(billed[0].usage).toEqual({ inputTokens: 4000, outputTokens: 420, cacheCreationTokens: 0, cacheReadTokens: 11000, reasoningTokens: 150, totalTokens: 15420 });
    expect(billed[1].usage).toEqual({ inputTokens: 600, outputTokens: 60, cacheCreationTokens: 0, cacheReadTokens: 15000, reasoningTokens: 0, totalTokens: 15660 });
  });

  it('reasoning inside candidates (OpenAI-style backends) is not added again; beside them (Gemini API) it is output', () => {
    expect(billed[0].usage!.outputTokens).toBe(420);
    const gem = billed.find((e) => e.model === 'coder-model')!;
    expect(gem.usage).toEqual({ inputTokens: 2000, outputTokens: 290, cacheCreationTokens: 0, cacheReadTokens: 1000, reasoningTokens: 200, totalTokens: 3290 });
  });

  it('a record written again with the same uuid is one event, billed at its last copy', () => {
    const copies = events.filter((e) => e.record === 'a0000001-0000-4000-8000-00000000000a');
    expect(copies.map((e) => e.usage === null)).toEqual([true, false]);
    expect(new Set(copies.map((e) => e.uid)).size).toBe(1);
  });
});

describe('Qwen Code: ingest', () => {
  it('bills per day, incrementally', async () => {
    const home = join(tempDir(), 'q');
    cpSync(ROOT, home, { recursive: true });
    const file = join(home, 'projects', '-home-dev-api', 'chats', '7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f.jsonl');
    const all = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    writeFileSync(file, all.slice(0, 10).join('\n') + '\n');
    const { db, run } = agentStore(qwenAdapter, { QWEN_DATA_DIR: home });
    await run();
    appendFileSync(file, all.slice(10).join('\n') + '\n');
    const r = await run();
    expect(r.linesRead).toBe(1);
    expect(r.events.updated).toBe(1);
    expect(billedByDay(db, 'qwen')).toEqual([
      { date: '2026-05-06', input: 8600, output: 510, cacheCreation: 0, cacheRead: 26000, reasoning: 150, total: 35110 },
      { date: '2026-05-07', input: 2000, output: 290, cacheCreation: 0, cacheRead: 1000, reasoning: 200, total: 3290 },
    ]);
    expect((await run()).filesRead).toBe(0);
  });
});
