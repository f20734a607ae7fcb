import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { generate, genEnv, OTHER_AGENTS, type GenerateOptions, type GenerateResult } from '../../bench/gen.js';
import { ingest } from '../../src/ingest/index.js';
import { openDb } from '../../src/store/db.js';
import { billedByDay } from '../helpers/agents.js';
import { ADAPTERS } from '../../src/adapters/index.js';
import type { EventRecord } from '../../src/model/event.js';

// Large enough that every layout and record shape shows up for this seed, small enough to stay fast.
const OPTS: Omit<GenerateOptions, 'outDir'> = { seed: 1, targetBytes: 3_000_000, days: 3, projects: 2, codexShare: 0.35, malformedRate: 1 / 400 };

function treeDigest(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(relative(dir, p), createHash('sha256').update(readFileSync(p)).digest('hex') + (e.name === 'manifest.json' ? '' : ':' + Math.trunc(statSync(p).mtimeMs)));
    }
  };
  walk(dir);
  return out;
}

type Day = { inputTokens: number; outputTokens: number; cacheCreationTokens: number; cacheReadTokens: number };

describe('bench log generator', () => {
  const dirs: string[] = [];
  const mk = () => {
    const d = mkdtempSync(join(tmpdir(), 'su-gen-'));
    dirs.push(d);
    return d;
  };
  let dir: string;
  let result: GenerateResult;

  beforeAll(() => {
    dir = mk();
    result = generate({ ...OPTS, outDir: dir });
  });
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const again = mk();
    const other = mk();
    expect(generate({ ...OPTS, outDir: again })).toEqual(result);
    const a = treeDigest(dir);
    expect(a.size).toBe(result.files + 1 + [...a.keys()].filter((k) => k.endsWith('.meta.json')).length);
    expect(treeDigest(again)).toEqual(a);
    generate({ ...OPTS, seed: 2, outDir: other });
    expect(treeDigest(other)).not.toEqual(a);
  });

  it('writes every layout and the tricky record shapes', () => {
    const files = [...treeDigest(dir).keys()];
    expect(files.some((f) => /^claude\/projects\/[^/]+\/[0-9a-f-]{36}\.jsonl$/.test(f))).toBe(true);
    expect(files.some((f) => /\/[0-9a-f-]{36}\/subagents\/agent-a[0-9a-f]{16}\.jsonl$/.test(f))).toBe(true);
    expect(files.some((f) => /^claude\/projects\/[^/]+\/agent-[0-9a-f]{8}\.jsonl$/.test(f))).toBe(true);
    expect(files.some((f) => /^codex\/sessions\/\d{4}\/\d{2}\/\d{2}\/rollout-.+\.jsonl$/.test(f))).toBe(true);
    const all = files.filter((f) => f.endsWith('.jsonl')).map((f) => readFileSync(join(dir, f), 'utf8')).join('');
    for (const needle of ['"ephemeral_1h_input_tokens":', '"model":"<synthetic>"', '"type":"summary"', '"type":"file-history-snapshot"', '"type":"progress"', '"isSidechain":true', '"type":"tool_result"', '"subtype":"turn_duration"', '"type":"turn_context"', '"type":"function_call_output"', '"type":"reasoning"', '"info":null', '"total_token_usage"']) {
      expect(all.includes(needle), needle).toBe(true);
    }
    expect(/"ephemeral_1h_input_tokens":[1-9]/.test(all)).toBe(true);
    // The oldest logs keep subagent turns inline in the session file.
    expect(/"isSidechain":true,"userType":"external","cwd":"[^"]*","sessionId":"[^"]*","version":"1\./.test(all)).toBe(true);
    // Streaming splits and resumed sessions repeat billing keys; garbage lines exist.
    expect(result.claude.usageLines).toBeGreaterThan(result.claude.uniqueUsage * 1.5);
    expect(result.malformedLines).toBeGreaterThan(0);
    const claudeDays = Object.keys(result.expected.claude);
    expect(claudeDays.length).toBeGreaterThanOrEqual(2);
  });

  it('parses with our adapters: only the torn lines fail, billed usage equals the expected totals', async () => {
    const env = genEnv(dir);
    let malformed = 0;
    let files = 0;
    const claude: Record<string, Day> = {};
    const codex: Record<string, Day> = {};
    // The rule, from the parsed events: per usage key the max of each count, on the day of the earliest line.
    const bills = new Map<string, { provider: string; ts: string; c: number[] }>();
    for (const adapter of ADAPTERS) {
      for (const file of await adapter.discover(adapter.roots(env))) {
        files++;
        const parser = adapter.parser(file, null);
        for (const line of readFileSync(file.path, 'utf8').split('\n')) {
          if (line.trim() === '') continue;
          const evs: EventRecord[] | null = parser.line(line);
          if (evs === null) {
            malformed++;
            continue;
          }
          for (const e of evs) {
            if (!e.usage || !e.usageKey) continue;
            const c = [e.usage.inputTokens, e.usage.outputTokens, e.usage.cacheCreationTokens, e.usage.cacheReadTokens];
            const b = bills.get(e.usageKey);
            if (!b) bills.set(e.usageKey, { provider: e.provider, ts: e.ts, c });
            else {
              if (e.ts < b.ts) b.ts = e.ts;
              b.c = b.c.map((x, i) => Math.max(x, c[i]));
            }
          }
        }
      }
    }
    for (const b of bills.values()) {
      const d = ((b.provider === 'claude' ? claude : codex)[b.ts.slice(0, 10)] ??= { inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0 });
      d.inputTokens += b.c[0];
      d.outputTokens += b.c[1];
      d.cacheCreationTokens += b.c[2];
      d.cacheReadTokens += b.c[3];
    }
    expect(files).toBe(result.files);
    expect(malformed).toBe(result.malformedLines);
    const nonzero = (r: Record<string, Day>) => Object.fromEntries(Object.entries(r).filter(([, d]) => d.inputTokens + d.outputTokens + d.cacheCreationTokens + d.cacheReadTokens > 0));
    expect(nonzero(claude)).toEqual(result.expected.claude);
    const codexExpected = Object.fromEntries(Object.entries(result.expected.codex).map(([day, e]) => [day, { inputTokens: e.inputTokens, outputTokens: e.outputTokens, cacheCreationTokens: 0, cacheReadTokens: e.cacheReadTokens }]));
    expect(nonzero(codex)).toEqual(codexExpected);
  });

  it('writes Copilot, Gemini, Qwen, OpenCode and pi sessions when asked, and our ingest bills exactly their expected totals', async () => {
    const other = mk();
    const r = generate({ ...OPTS, targetBytes: 4_000_000, otherShare: 0.9, outDir: other });
    for (const a of OTHER_AGENTS) expect(r[a].sessions, a).toBeGreaterThan(2);
    const db = openDb(join(mk(), 'store.db'));
    const env = genEnv(other);
    const report = await ingest(db, { adapters: [...ADAPTERS], env });
    expect(report.filesSeen).toBe(r.files);
    expect(report.malformedLines).toBe(r.malformedLines);
    // OpenCode is one database; pi has branched sessions whose copied replies must bill once.
    expect(r.opencode.files).toBe(1);
    const tree = [...treeDigest(other).keys()];
    expect(tree.filter((f) => f.startsWith('pi/')).some((f) => readFileSync(join(other, f), 'utf8').includes('"parentSession"'))).toBe(true);
    for (const a of OTHER_AGENTS) {
      expect(report.byProvider[a].filesSeen, a).toBe(r[a].files);
      const got = billedByDay(db, a).map(({ date, input, output, cacheCreation, cacheRead, reasoning, total }) => [date, { inputTokens: input, outputTokens: output, cacheCreationTokens: cacheCreation, cacheReadTokens: cacheRead, reasoningTokens: reasoning, totalTokens: total }]);
      expect(Object.fromEntries(got), a).toEqual(r.expected[a]);
    }
    // The same seed without the other agents is the tree earlier versions wrote.
    expect(generate({ ...OPTS, outDir: mk() })).toEqual(result);
    db.close();
  }, 60_000);

  it('is read by ccusage 18.0.11 on the same days, never below the rule (it bills lines without requestId again)', () => {
    const bin = join(createRequire(import.meta.url).resolve('ccusage/package.json'), '..', 'dist', 'index.js');
    const out = execFileSync(process.execPath, [bin, 'daily', '--offline', '--json', '-z', 'UTC'], {
      env: { ...process.env, CLAUDE_CONFIG_DIR: join(dir, 'claude'), NO_COLOR: '1' },
      encoding: 'utf8',
    });
    const daily = (JSON.parse(out) as { daily: Array<Day & { date: string }> }).daily;
    const got = Object.fromEntries(daily.map((d) => [d.date, { inputTokens: d.inputTokens, outputTokens: d.outputTokens, cacheCreationTokens: d.cacheCreationTokens, cacheReadTokens: d.cacheReadTokens }]));
    expect(Object.keys(got)).toEqual(Object.keys(result.expected.claude));
    for (const [day, e] of Object.entries(result.expected.claude)) {
      for (const k of ['inputTokens', 'outputTokens', 'cacheCreationTokens', 'cacheReadTokens'] as const) expect(got[day][k], `${day} ${k}`).toBeGreaterThanOrEqual(e[k]);
    }
  }, 60_000);
});
