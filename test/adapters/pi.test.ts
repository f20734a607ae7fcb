import { appendFileSync, cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createPiParser, FORK_ROOTS, piAdapter, piRoots, sessionIdFromFileName } from '../../src/adapters/pi/index.js';
import { ingest } from '../../src/ingest/index.js';
import { openDb, type Db } from '../../src/store/db.js';
import { FIXTURES_DIR, tempDir } from '../helpers/fixtures.js';

const PI = join(FIXTURES_DIR, 'pi');
const SHOP = join(PI, 'sessions', '--home-dev-shop--');
const MAIN = join(SHOP, '2026-01-02T09-00-00-000Z_0b6c1f0e-5a4e-4c57-9d2f-6f1b2a9c3e11.jsonl');
const LARGE = join(PI, 'sessions', '--Users-badlogic-workspaces-pi-mono--', '2025-11-20T23-33-50-805Z_d703a1a9-1b7b-4fb1-b512-c9738b1fe617.jsonl');

function parse(path: string) {
  const p = createPiParser({ provider: 'pi', path, root: PI }, null);
  const out = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => p.line(l));
  return { events: out.flatMap((e) => e ?? []), malformed: out.filter((e) => e === null).length };
}

function store(roots: string) {
  const db = openDb(join(tempDir(), 'store.db'));
  return { db, run: () => ingest(db, { adapters: [piAdapter], env: { PI_AGENT_DIR: roots } }) };
}

const q = (db: Db, sql: string, ...args: unknown[]) => db.prepare(sql).get(...args) as Record<string, any>;

describe('pi adapter', () => {
  it('reads pi and its forks by default, and exactly the comma list in PI_AGENT_DIR', () => {
    expect(piRoots({ HOME: '/h' })).toEqual(['/h/.pi/agent/sessions', ...FORK_ROOTS.map((r) => `/h/${r}`)]);
    expect(piRoots({ HOME: '/h', PI_CODING_AGENT_DIR: '/cfg/pi/agent' })[0]).toBe('/cfg/pi/agent/sessions');
    expect(piRoots({ HOME: '/h', PI_AGENT_DIR: ' /a/sessions, ,/h/.omp/agent/sessions,/a/sessions' })).toEqual(['/a/sessions', '/h/.omp/agent/sessions']);
    expect(sessionIdFromFileName('/x/--p--/2026-01-02T09-00-00-000Z_0b6c1f0e.jsonl')).toBe('0b6c1f0e');
  });

  it('maps every entry and message shape', () => {
    const { events, malformed } = parse(MAIN);
    expect(malformed).toBe(1); // the torn last line
    expect(events.map((e) => e.kind)).toEqual([
      'meta', 'meta', 'meta', 'user', 'assistant', 'tool_result', 'tool_call', 'meta', 'assistant', 'assistant', 'summary', 'summary', 'meta', 'meta',
    ]);
    for (const e of events) expect(e).toMatchObject({ provider: 'pi', session: '0b6c1f0e-5a4e-4c57-9d2f-6f1b2a9c3e11', project: '-home-dev-shop', projectPath: '/home/dev/shop' });
    const [, , , user, reply, result, bash, , second, aborted, compaction] = events;
    expect(user).toMatchObject({ record: 'a0000003', text: 'Split checkout into smaller functions', ts: '2026-01-02T09:00:01.000Z' });
    expect(reply).toMatchObject({
      record: 'a0000004', model: 'claude-sonnet-4-5', text: 'Reading the cart module.',
      usage: { inputTokens: 12, outputTokens: 140, cacheReadTokens: 0, cacheCreationTokens: 5200, reasoningTokens: 0, totalTokens: 5352 },
    });
    expect(JSON.parse(reply.extra!)).toMatchObject({ loggedCost: { usd: 0.021636 }, provider: 'anthropic', tools: ['read'], stopReason: 'toolUse' });
    expect(reply.usageKey).toMatch(/^pi:[0-9a-f]{32}$/);
    expect(result).toMatchObject({ text: 'export function checkout() {}' });
    expect(bash.text).toBe('npm test\n2 passing');
    expect(second).toMatchObject({ model: 'gpt-5', usage: { inputTokens: 800, cacheReadTokens: 4096, outputTokens: 450, totalTokens: 5346 } });
    expect(aborted).toMatchObject({ usage: null, usageKey: null });
    expect(compaction.text).toContain('price, tax and total');
  });

  it('bills the sum of the four kinds, keeping a logged total that differs beside', () => {
    const p = createPiParser({ provider: 'pi', path: '/r/--a--/x_s.jsonl', root: '/r' }, null);
    const [e] = p.line(JSON.stringify({ type: 'message', id: 'f1', parentId: null, timestamp: '2026-01-01T00:00:00.000Z', message: { role: 'assistant', model: 'm', timestamp: 1, content: [], usage: { input: 1, output: 2, cacheRead: 3, cacheWrite: 4, totalTokens: 99 } } }))!;
    expect(e.usage!.totalTokens).toBe(10);
    expect(JSON.parse(e.extra!).logTotal).toBe(99);
    expect(p.line('[1,2]')).toBeNull();
    expect(p.line('{"no":"type"}')).toBeNull();
  });

  it('reads the real pi-mono capture (version 1, no entry ids)', () => {
    const { events, malformed } = parse(LARGE);
    expect(malformed).toBe(0);
    expect(events).toHaveLength(1019);
    expect(new Set(events.map((e) => e.uid)).size).toBe(1019);
    const billed = events.filter((e) => e.usage);
    expect(billed).toHaveLength(439); // 453 replies, 14 aborted with all-zero usage
    expect(billed.reduce((a, e) => a + e.usage!.totalTokens, 0)).toBe(47_609_906);
    const cost = billed.reduce((a, e) => a + JSON.parse(e.extra!).loggedCost.usd, 0);
    expect(cost).toBeCloseTo(30.330198, 5);
    expect(events[0]).toMatchObject({ kind: 'meta', session: 'd703a1a9-1b7b-4fb1-b512-c9738b1fe617', project: '-Users-badlogic-workspaces-pi-mono' });
  });

  it('gives the same identities read in two parts as in one (version 1: derived ids resume from the saved state)', () => {
    const lines = readFileSync(LARGE, 'utf8').split('\n').filter((l) => l.trim() !== '');
    const whole = parse(LARGE).events.map((e) => e.uid);
    const file = { provider: 'pi' as const, path: LARGE, root: PI };
    const first = createPiParser(file, null);
    const a = lines.slice(0, 500).flatMap((l) => first.line(l) ?? []);
    const second = createPiParser(file, JSON.parse(JSON.stringify(first.state())));
    const b = lines.slice(500).flatMap((l) => second.line(l) ?? []);
    expect([...a, ...b].map((e) => e.uid)).toEqual(whole);
  });

  it('bills a reply copied into a branched session once', async () => {
    const { db, run } = store(join(PI, 'sessions'));
    await run();
    const shop = "provider = 'pi' AND project = '-home-dev-shop'";
    expect(q(db, `SELECT COUNT(*) AS n FROM events WHERE ${shop} AND record_id = 'a0000004'`).n).toBe(2); // in both sessions' files
    expect(q(db, `SELECT COUNT(*) AS n, SUM(total_tokens) AS t FROM usage WHERE ${shop}`)).toEqual({ n: 2, t: 5352 + 5346 });
  });

  it("ingests forks' roots through the comma list, incrementally", async () => {
    const root = tempDir('su-pi-');
    cpSync(join(PI, 'sessions', '--home-dev-shop--'), join(root, 'pi', '--home-dev-shop--'), { recursive: true });
    cpSync(join(PI, 'omp'), join(root, 'omp'), { recursive: true });
    const { db, run } = store(`${join(root, 'pi')},${join(root, 'omp')}`);
    const first = await run();
    expect(first.filesRead).toBe(3);
    expect(first.malformedLines).toBe(1);
    expect(q(db, "SELECT model, input_tokens, total_tokens FROM usage WHERE project = '-home-dev-api'")).toEqual({ model: 'gemini-2.5-pro', input_tokens: 3000, total_tokens: 3700 });

    const again = await run();
    expect(again).toMatchObject({ filesUnchanged: 3, filesRead: 0, linesRead: 0, bytesRead: 0 });

    const file = join(root, 'omp', '--home-dev-api--', '2026-01-03T15-00-00-000Z_c4d5e6f7-0819-4a2b-9c3d-4e5f60718293.jsonl');
    appendFileSync(file, JSON.stringify({ type: 'message', id: 'c0000003', parentId: 'c0000002', timestamp: '2026-01-03T15:01:00.000Z', message: { role: 'user', content: 'thanks', timestamp: 1767452460000 } }) + '\n');
    const third = await run();
    expect(third).toMatchObject({ filesRead: 1, linesRead: 1, events: { inserted: 1 } });
  });

  it('takes the session from the file name and the project from its folder when the header is missing', () => {
    const dir = join(tempDir(), '--srv-app--');
    mkdirSync(dir);
    const f = join(dir, '2026-02-01T00-00-00-000Z_5f0c.jsonl');
    writeFileSync(f, readFileSync(MAIN, 'utf8').split('\n').slice(3, 5).join('\n') + '\n');
    const { events } = parse(f);
    expect(events[0]).toMatchObject({ session: '5f0c', project: '--srv-app--', projectPath: null, kind: 'user' });
  });
});
