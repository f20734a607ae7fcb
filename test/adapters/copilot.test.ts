import { appendFileSync, cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { copilotAdapter, copilotHome, shutdownDeltas } from '../../src/adapters/copilot/index.js';
import { eventUid } from '../../src/model/identity.js';
import { agentStore, billedByDay, parseFile } from '../helpers/agents.js';
import { FIXTURES_DIR, tempDir } from '../helpers/fixtures.js';

const ROOT = join(FIXTURES_DIR, 'copilot');
const MAIN = join(ROOT, 'session-state', '0f1e2d3c-4b5a-4697-8879-aabbccddeeff', 'events.jsonl');
const CRASHED = join(ROOT, 'session-state', '5a6b7c8d-1111-4222-8333-444455556666', 'events.jsonl');

const zero = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, reasoning: 0, premium: 0, nanoAiu: 0 };

describe('Copilot CLI: where the logs are', () => {
  it('COPILOT_HOME moves them; else ~/.copilot of the given HOME', () => {
    expect(copilotHome({ COPILOT_HOME: '/x/cp' })).toBe('/x/cp');
    expect(copilotHome({ HOME: '/home/u' })).toBe('/home/u/.copilot');
  });

  it('finds one events.jsonl per session folder; a missing home is simply not used', async () => {
    const found = await copilotAdapter.discover([ROOT]);
    expect(found.map((f) => f.path)).toEqual([MAIN, CRASHED]);
    expect(await copilotAdapter.discover([join(tempDir(), 'nope')])).toEqual([]);
  });
});

describe('Copilot CLI: shutdown totals are billed by difference', () => {
  it('a later shutdown bills what it adds; an unchanged model bills nothing', () => {
    const a = { ...zero, input: 100, output: 10 };
    const { deltas, reset } = shutdownDeltas({ m: a, n: { ...zero, input: 5 } }, { m: { ...a, input: 150, output: 12 }, n: { ...zero, input: 5 } });
    expect(reset).toBe(false);
    expect(deltas).toEqual({ m: { ...zero, input: 50, output: 2 } });
  });

  it('a counter that goes down is a reset: the whole snapshot is billed, never a negative', () => {
    const { deltas, reset } = shutdownDeltas({ m: { ...zero, input: 100, output: 10 } }, { m: { ...zero, input: 40, output: 30 } });
    expect(reset).toBe(true);
    expect(deltas).toEqual({ m: { ...zero, input: 40, output: 30 } });
  });

  it('a model gone from the totals is a reset too (its counter fell to zero)', () => {
    const { deltas, reset } = shutdownDeltas({ m: { ...zero, input: 100 }, n: { ...zero, input: 7 } }, { m: { ...zero, input: 120 } });
    expect(reset).toBe(true);
    expect(deltas).toEqual({ m: { ...zero, input: 120 } });
  });
});

describe('Copilot CLI: events.jsonl', () => {
  const { events, malformed } = parseFile(copilotAdapter, MAIN);
  const usage = events.filter((e) => e.usage);

  it('maps every record shape and skips the torn line', () => {
    expect(malformed).toEqual([15]);
    const kinds: Record<string, number> = {};
    for (const e of events) kinds[e.kind] = (kinds[e.kind] ?? 0) + 1;
    expect(kinds).toEqual({ meta: 8, user: 3, system: 2, reasoning: 1, assistant: 5, tool_call: 2, tool_result: 2, usage: 4 });
    const first = events[0];
    expect(first).toMatchObject({ provider: 'copilot', session: '0f1e2d3c-4b5a-4697-8879-aabbccddeeff', project: '-home-dev-shop', projectPath: '/home/dev/shop' });
    expect(first.uid).toBe(eventUid('copilot', first.session, first.record));
    const failed = events.find((e) => e.kind === 'tool_result' && e.text?.includes('missing script'));
    expect(JSON.parse(failed!.extra!)).toMatchObject({ toolError: true });
    const call = events.find((e) => e.kind === 'tool_call');
    expect(JSON.parse(call!.extra!)).toMatchObject({ name: 'edit', callId: 'call-1' });
    expect(call!.text).toContain('/healthz');
    const skill = events.find((e) => e.text === '<skill>markdown-style</skill>');
    expect(skill!.kind).toBe('system');
    const sub = events.find((e) => e.text?.startsWith('Found the route table'));
    expect(sub).toMatchObject({ sidechain: true, agent: 'explore-1', model: 'claude-haiku-4.5' });
  });

  it('first shutdown billed whole; the second only adds the new model; the third, lower, is a reset', () => {
    const rows = usage.map((e) => [e.ts.slice(0, 10), e.model, e.usage]);
    expect(rows).toEqual([
      // input includes cache reads and writes: 30000 − 20000 − 6000 uncached
      ['2026-05-01', 'claude-sonnet-4.5', { inputTokens: 4000, outputTokens: 900, cacheCreationTokens: 6000, cacheReadTokens: 20000, reasoningTokens: 0, totalTokens: 30900 }],
      ['2026-05-01', 'claude-haiku-4.5', { inputTokens: 1000, outputTokens: 100, cacheCreationTokens: 3000, cacheReadTokens: 0, reasoningTokens: 0, totalTokens: 4100 }],
      ['2026-05-02', 'gpt-5.1-codex', { inputTokens: 4000, outputTokens: 800, cacheCreationTokens: 0, cacheReadTokens: 8000, reasoningTokens: 300, totalTokens: 12800 }],
      ['2026-05-03', 'gpt-5.1-codex', { inputTokens: 2000, outputTokens: 200, cacheCreationTokens: 0, cacheReadTokens: 3000, reasoningTokens: 50, totalTokens: 5200 }],
    ]);
  });

  it('the cost Copilot logged travels beside the tokens, in its own units', () => {
    const sonnet = usage.find((e) => e.model === 'claude-sonnet-4.5')!;
    expect(JSON.parse(sonnet.extra!).loggedCost).toEqual({ nanoAiu: 2100000000, premiumRequests: 3 });
    const reset = usage.at(-1)!;
    expect(JSON.parse(reset.extra!)).toMatchObject({ reset: true, loggedCost: { premiumRequests: 1 } });
  });

  it('a session that never shut down (crash, /new) has no usage: Copilot never wrote it', () => {
    const crashed = parseFile(copilotAdapter, CRASHED).events;
    expect(crashed.map((e) => e.kind)).toEqual(['meta', 'user', 'assistant']);
    expect(crashed.some((e) => e.usage)).toBe(false);
  });
});

describe('Copilot CLI: ingest', () => {
  it('bills per day, stays incremental, and a resumed session appended later bills only its difference', async () => {
    const home = join(tempDir(), 'copilot');
    cpSync(ROOT, home, { recursive: true });
    const file = join(home, 'session-state', '0f1e2d3c-4b5a-4697-8879-aabbccddeeff', 'events.jsonl');
    const all = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    // the first 24 lines: through the second shutdown
    writeFileSync(file, all.slice(0, 24).join('\n') + '\n');
    const { db, run } = agentStore(copilotAdapter, { COPILOT_HOME: home });
    const first = await run();
    expect(first.byProvider.copilot.filesSeen).toBe(2);
    expect(first.malformedLines).toBe(1);
    expect(billedByDay(db, 'copilot').map((d) => d.date)).toEqual(['2026-05-01', '2026-05-02']);
    const again = await run();
    expect(again.filesRead).toBe(0);
    expect(again.linesRead).toBe(0);
    appendFileSync(file, all.slice(24).join('\n') + '\n');
    const third = await run();
    expect(third.filesRead).toBe(1);
    expect(third.linesRead).toBe(3);
    expect(billedByDay(db, 'copilot')).toEqual([
      { date: '2026-05-01', input: 5000, output: 1000, cacheCreation: 9000, cacheRead: 20000, reasoning: 0, total: 35000 },
      { date: '2026-05-02', input: 4000, output: 800, cacheCreation: 0, cacheRead: 8000, reasoning: 300, total: 12800 },
      { date: '2026-05-03', input: 2000, output: 200, cacheCreation: 0, cacheRead: 3000, reasoning: 50, total: 5200 },
    ]);
  });
});
