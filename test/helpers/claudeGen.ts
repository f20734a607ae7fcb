import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { slugFromPath } from '../../src/model/identity.js';

/**
 * A seedable generator of realistic Claude Code transcripts, for parity and ingest tests.
 * Same seed, same bytes. It produces what real logs contain and what makes billing tricky:
 * streaming splits (one API message over several lines with the same message.id/requestId,
 * usage either repeated or growing, timestamps a few ms apart or equal, sometimes across UTC
 * midnight), tool_use/tool_result rounds, sessions over several days, sidechains in the old flat
 * `agent-*.jsonl` layout and the newer `<session>/subagents/` and `subagents/workflows/<wf>/` ones
 * (with `.meta.json` and `journal.jsonl`), resumed sessions that copy earlier records into a new
 * file, lines without requestId, `<synthetic>` API errors, costUSD, microsecond timestamps,
 * `requestId: null`, subagent transcripts replaying the parent's responses under new request ids,
 * 1-hour cache writes, bookkeeping lines (progress, file-history-snapshot, queue-operation,
 * summaries), torn and junk lines, impossible token counts, and empty files.
 *
 * It also returns the ground truth by the billing rule (docs/numbers.md), from what it meant to
 * write: each response (message.id, else requestId, else the line) once, each count at its
 * maximum over the response's lines, on the UTC day of its earliest line.
 */
export interface ClaudeGenOptions {
  seed: number;
  projects?: number;
  sessionsPerProject?: number;
  turnsPerSession?: number;
  /** First day (UTC), YYYY-MM-DD. */
  startDate?: string;
  /** Days the sessions are spread over. */
  days?: number;
}

export interface ClaudeGenResult {
  /** Files written, relative to the root. */
  files: string[];
  /** Lines that are not a JSON object with a string `type` (the adapter's malformed lines). */
  malformedLines: number;
  /** Per UTC day, the four token kinds as the rule bills them, oldest first. */
  daily: Array<{ date: string; inputTokens: number; outputTokens: number; cacheCreationTokens: number; cacheReadTokens: number }>;
  /** Responses billed, and lines that carried their usage. */
  responses: number;
  usageLines: number;
}

interface Truth {
  ms: number;
  c: [number, number, number, number];
}

/** A small seedable PRNG (uniform in [0, 1)): same seed, same sequence. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MODELS = ['claude-sonnet-4-5-20250929', 'claude-opus-4-1-20250805', 'claude-haiku-4-5-20251001', 'claude-sonnet-4-20250514'];
const TOOLS = ['Read', 'Bash', 'Edit', 'Grep', 'Write', 'TodoWrite'];
const WORDS = 'the a fix test build refactor parser store sync bucket token usage report daily session file line error check run add remove update cache'.split(' ');

type Rec = Record<string, unknown>;

/** Writes generated transcripts under `<root>/projects/` and returns what was written. */
export function generateClaudeLogs(root: string, opts: ClaudeGenOptions): ClaudeGenResult {
  const rnd = mulberry32(opts.seed);
  const int = (a: number, b: number) => a + Math.floor(rnd() * (b - a + 1));
  const chance = (p: number) => rnd() < p;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(rnd() * 16).toString(16)).join('');
  const uuid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;
  const words = (n: number) => Array.from({ length: n }, () => pick(WORDS)).join(' ');
  const iso = (ms: number) => new Date(ms).toISOString();

  const files = new Map<string, string[]>();
  let malformed = 0;
  let usageLines = 0;
  const truth = new Map<string, Truth>();
  const emit = (rel: string, line: string) => {
    let f = files.get(rel);
    if (!f) files.set(rel, (f = []));
    f.push(line);
  };
  /** Writes a record and books its usage by the rule. */
  const emitRec = (rel: string, r: Rec) => {
    emit(rel, JSON.stringify(r));
    const m = r.message as Rec | undefined;
    const u = m?.usage as Record<string, number> | undefined;
    if (!u || u.input_tokens === undefined || u.output_tokens === undefined || typeof r.timestamp !== 'string') return;
    usageLines++;
    const key = m!.id ? `m:${m!.id as string}` : r.requestId ? `r:${r.requestId as string}` : `line:${r.sessionId as string}:${r.uuid as string}`;
    const c: Truth['c'] = [u.input_tokens, u.output_tokens, u.cache_creation_input_tokens ?? 0, u.cache_read_input_tokens ?? 0];
    const ms = Date.parse((r.timestamp).replace(/(\.\d{3})\d+Z$/, '$1Z'));
    const t = truth.get(key);
    if (!t) truth.set(key, { ms, c });
    else {
      t.ms = Math.min(t.ms, ms);
      t.c = t.c.map((x, i) => Math.max(x, c[i])) as Truth['c'];
    }
  };
  const start = Date.parse(`${opts.startDate ?? '2025-10-01'}T00:00:00.000Z`);
  const days = opts.days ?? 5;
  const nProjects = opts.projects ?? 3;
  const nSessions = opts.sessionsPerProject ?? 3;
  const nTurns = opts.turnsPerSession ?? 12;

  for (let p = 0; p < nProjects; p++) {
    const cwd = pick(['/home/dev/', '/Users/dev/work/', '/srv/']) + `proj_${p}.${pick(['api', 'web', 'cli'])}`;
    const slug = slugFromPath(cwd);
    let prevSession: { id: string; lines: Rec[]; end: number } | null = null;
    for (let s = 0; s < nSessions; s++) {
      const sessionId = uuid();
      const rel = `projects/${slug}/${sessionId}.jsonl`;
      const base = { userType: 'external', cwd, sessionId, version: pick(['1.0.83', '2.0.14', '2.1.39']), gitBranch: pick(['main', 'dev']) };
      let t = start + int(0, days - 1) * 86_400_000 + int(0, 23) * 3_600_000 + int(0, 3_599_999);
      let parent: string | null = null;
      const mine: Rec[] = [];
      const put = (r: Rec, file = rel) => {
        if (file === rel) mine.push(r);
        emitRec(file, r);
      };

      // A resumed session starts (later) with copies of the previous session's last records.
      if (prevSession && chance(0.5)) {
        t = prevSession.end + int(60_000, 2 * 86_400_000);
        const keepSession = chance(0.5);
        for (const r of prevSession.lines.slice(-int(2, 6))) {
          // Verbatim copies keep their session (same identity); rewritten ones get the new id.
          if (keepSession && r.type === 'assistant' && r.requestId === undefined) continue;
          emitRec(rel, keepSession ? r : { ...r, sessionId });
        }
      }
      if (chance(0.3)) emit(rel, JSON.stringify({ type: 'summary', summary: words(6), leafUuid: uuid() }));

      for (let turn = 0; turn < nTurns; turn++) {
        // Mostly minutes apart, now and then hours (so sessions cross UTC midnight).
        t += chance(0.15) ? int(1, 9) * 3_600_000 : int(5_000, 600_000);
        if (chance(0.1)) emit(rel, JSON.stringify({ type: 'file-history-snapshot', messageId: uuid(), snapshot: { trackedFileBackups: {} }, isSnapshotUpdate: false }));
        if (chance(0.1)) emit(rel, JSON.stringify({ type: 'queue-operation', operation: 'enqueue', timestamp: iso(t), content: [{ type: 'text', text: words(4) }], sessionId }));
        const u = uuid();
        put({ parentUuid: parent, isSidechain: false, ...base, type: 'user', message: { role: 'user', content: chance(0.5) ? words(int(3, 30)) : [{ type: 'text', text: words(int(3, 30)) }] }, uuid: u, timestamp: iso(t) });
        parent = u;

        const rounds = int(1, 4);
        for (let r = 0; r < rounds; r++) {
          t += int(800, 30_000);
          const model = pick(MODELS);
          const msgId = `msg_01${hex(22)}`;
          const reqId = `req_011${hex(21)}`;
          const cacheCreate = chance(0.6) ? int(0, 30_000) : 0;
          // Now and then part of the writes go to the 1-hour cache.
          const oneHour = chance(0.2) ? int(0, cacheCreate) : 0;
          const usage = {
            input_tokens: int(1, 40),
            cache_creation_input_tokens: cacheCreate,
            cache_read_input_tokens: int(0, 200_000),
            output_tokens: int(1, 3_000),
            service_tier: 'standard',
            cache_creation: { ephemeral_5m_input_tokens: cacheCreate - oneHour, ephemeral_1h_input_tokens: oneHour },
          };
          const splits = int(1, 4);
          const growing = chance(0.5);
          const noRequestId = chance(0.05);
          const useTool = r < rounds - 1;
          const toolId = `toolu_01${hex(22)}`;
          for (let k = 0; k < splits; k++) {
            const last = k === splits - 1;
            // Newer Claude Code logs partial output counts on early splits; older repeats the final usage.
            const out = growing && !last ? Math.max(1, Math.floor((usage.output_tokens * (k + 1)) / (splits + 1))) : usage.output_tokens;
            const content = last && useTool
              ? [{ type: 'tool_use', id: toolId, name: pick(TOOLS), input: { command: words(3), path: `/src/${hex(4)}.ts` } }]
              : k === 0 && chance(0.3)
                ? [{ type: 'thinking', thinking: words(10), signature: hex(40) }]
                : [{ type: 'text', text: words(int(5, 40)) }];
            const a = uuid();
            const rec: Rec = {
              parentUuid: parent, isSidechain: false, ...base,
              message: { id: msgId, type: 'message', role: 'assistant', model, content, stop_reason: last ? (useTool ? 'tool_use' : 'end_turn') : null, stop_sequence: null, usage: { ...usage, output_tokens: out } },
              type: 'assistant', uuid: a, timestamp: iso(t),
            };
            if (!noRequestId) rec.requestId = reqId;
            if (chance(0.03)) rec.costUSD = Math.round(rnd() * 1e4) / 1e5;
            put(rec);
            parent = a;
            // Splits land a few ms apart, sometimes in the same millisecond.
            t += chance(0.3) ? 0 : int(1, 900);
          }
          if (chance(0.2)) put({ parentUuid: parent, isSidechain: false, ...base, type: 'progress', data: { type: 'hook_progress', hookEvent: 'PostToolUse' }, toolUseID: toolId, timestamp: iso(t), uuid: uuid() });
          if (useTool) {
            t += int(100, 20_000);
            const tr = uuid();
            put({ parentUuid: parent, isSidechain: false, ...base, type: 'user', message: { role: 'user', content: [{ tool_use_id: toolId, type: 'tool_result', content: words(int(3, 60)), is_error: chance(0.1) }] }, uuid: tr, timestamp: iso(t), toolUseResult: { stdout: words(5) } });
            parent = tr;
          }
        }

        // Rarer record shapes.
        if (chance(0.05)) {
          const a = uuid();
          put({ parentUuid: parent, isSidechain: false, ...base, type: 'assistant', uuid: a, timestamp: iso(t + 1), isApiErrorMessage: true, message: { id: uuid(), model: '<synthetic>', role: 'assistant', type: 'message', content: [{ type: 'text', text: 'API Error: 529 overloaded' }], usage: { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 } } });
          parent = a;
        }
        if (chance(0.04)) {
          // Microsecond timestamps (ccusage 18 drops these lines; they are instants like any other).
          put({ parentUuid: parent, isSidechain: false, ...base, type: 'assistant', uuid: uuid(), timestamp: iso(t + 2).replace('Z', '123Z'), requestId: `req_${hex(20)}`, message: { id: `msg_${hex(20)}`, model: pick(MODELS), role: 'assistant', content: [{ type: 'text', text: words(4) }], usage: { input_tokens: 7, output_tokens: 9 } } });
        }
        if (chance(0.04)) {
          // requestId: null (ccusage 18's schema drops the line; the message id still names the response).
          put({ parentUuid: parent, isSidechain: false, ...base, type: 'assistant', uuid: uuid(), timestamp: iso(t + 3), requestId: null, message: { id: `msg_${hex(20)}`, model: pick(MODELS), role: 'assistant', content: [{ type: 'text', text: words(4) }], usage: { input_tokens: 11, output_tokens: 13 } } });
        }
        if (chance(0.03)) {
          // An impossible count makes the line malformed: counted, never billed.
          emit(rel, JSON.stringify({ ...base, type: 'assistant', uuid: uuid(), timestamp: iso(t + 6), requestId: `req_${hex(20)}`, message: { id: `msg_${hex(20)}`, model: pick(MODELS), usage: { input_tokens: pick([-5, 1.5, 2 ** 60]), output_tokens: 1 } } }));
          malformed++;
        }
        if (chance(0.05)) put({ parentUuid: parent, isSidechain: false, ...base, type: 'system', subtype: 'turn_duration', durationMs: int(1000, 90_000), timestamp: iso(t + 4), uuid: uuid(), isMeta: false });
        if (chance(0.03)) {
          // A torn line (crash mid-write) followed by the next record on a fresh line.
          emit(rel, JSON.stringify({ ...base, type: 'assistant', uuid: uuid(), timestamp: iso(t + 5), message: { usage: { input_tokens: 5 } } }).slice(0, 40));
          malformed++;
        }

        // Subagents: old flat layout, new subagents/ folder, or a workflow run.
        if (chance(0.25)) {
          const agentId = chance(0.5) ? hex(8) : `a${hex(16)}`;
          const layout = pick(['flat', 'subagents', 'workflow'] as const);
          const arel =
            layout === 'flat'
              ? `projects/${slug}/agent-${agentId}.jsonl`
              : layout === 'subagents'
                ? `projects/${slug}/${sessionId}/subagents/agent-${agentId}.jsonl`
                : `projects/${slug}/${sessionId}/subagents/workflows/wf_${hex(6)}/agent-${agentId}.jsonl`;
          if (layout !== 'flat') emit(arel.replace(/\.jsonl$/, '.meta.json'), JSON.stringify({ agentType: 'general-purpose', description: words(3) }));
          if (layout === 'workflow') emit(join(dirname(arel), 'journal.jsonl'), JSON.stringify({ type: 'started', key: `v2:${hex(6)}`, agentId }));
          let at = t + int(100, 5_000);
          let ap: string | null = null;
          // A subagent transcript may open by replaying the parent's latest responses: same
          // message ids, new request ids, later timestamps (billed once, where they first happened).
          if (chance(0.5)) {
            for (const r of mine.filter((x) => x.type === 'assistant').slice(-int(1, 3))) {
              put({ ...r, isSidechain: true, agentId, requestId: `req_011${hex(21)}`, uuid: uuid(), timestamp: iso(at) }, arel);
              at += int(1, 50);
            }
          }
          for (let k = 0; k < int(1, 4); k++) {
            const au = uuid();
            put({ parentUuid: ap, isSidechain: true, ...base, agentId, type: 'user', message: { role: 'user', content: words(8) }, uuid: au, timestamp: iso(at) }, arel);
            at += int(500, 10_000);
            const aa = uuid();
            put({ parentUuid: au, isSidechain: true, ...base, agentId, type: 'assistant', requestId: `req_011${hex(21)}`, uuid: aa, timestamp: iso(at), message: { id: `msg_01${hex(22)}`, type: 'message', role: 'assistant', model: 'claude-haiku-4-5-20251001', content: [{ type: 'text', text: words(12) }], usage: { input_tokens: int(1, 10), cache_creation_input_tokens: int(0, 5000), cache_read_input_tokens: int(0, 20000), output_tokens: int(1, 800) } } }, arel);
            ap = aa;
          }
        }
      }
      if (chance(0.2)) {
        emit(rel, '{"type":"user","message":');
        malformed++;
      }
      if (chance(0.2)) {
        emit(rel, '"just a string"');
        malformed++;
      }
      prevSession = { id: sessionId, lines: mine.filter((r) => r.type === 'assistant' || r.type === 'user'), end: t };
    }
    // Claude Code leaves empty transcripts behind for sessions that never got a message.
    files.set(`projects/${slug}/${uuid()}.jsonl`, []);
  }

  for (const [rel, lines] of files) {
    const abs = join(root, rel);
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, lines.length ? lines.join('\n') + '\n' : '');
  }
  const byDay = new Map<string, [number, number, number, number]>();
  for (const t of truth.values()) {
    const d = new Date(t.ms).toISOString().slice(0, 10);
    const cur = byDay.get(d) ?? [0, 0, 0, 0];
    byDay.set(d, cur.map((x, i) => x + t.c[i]) as [number, number, number, number]);
  }
  const daily = [...byDay.entries()]
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([date, c]) => ({ date, inputTokens: c[0], outputTokens: c[1], cacheCreationTokens: c[2], cacheReadTokens: c[3] }));
  return { files: [...files.keys()].sort(), malformedLines: malformed, daily, responses: truth.size, usageLines };
}
