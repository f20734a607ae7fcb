/**
 * One session as a conversation: its events in time order, tool traffic folded, tokens and
 * cost on the turn that carried them. Backs `stackunderflow show` and `GET /api/sessions/:id`.
 */
import type { Db } from '../store/db.js';
import type { EventsRow } from '../store/events.js';
import type { EventKind, Provider, TokenUsage } from '../model/event.js';
import { SuError } from '../errors.js';
import { responseCost } from '../query/pricing.js';
import { SYNTHETIC_MODEL } from '../query/synthetic.js';
import { eventsScopeSql, formatScope, knownDevices, resolveScope, usageScopeSql, usageTable, type ResolvedScope, type Scope } from '../query/scope.js';
import { defaultTimeZone } from '../query/timezone.js';
import { parseExtra, roleOf, type Role } from './roles.js';

export interface ShowOptions {
  /** Default: `all` once other devices are synced, else `local` (as reports). */
  scope?: Scope;
  /** Zone for the times of the text rendering (default: TZ / the system zone). */
  timezone?: string;
}

/** Tokens and cost of one billed request, on the turn that first carried it. */
export interface TurnUsage extends TokenUsage {
  model: string | null;
  /** USD; null when the model has no price. */
  cost: number | null;
  /** The cost the agent itself logged for this request, in its units (`extra.loggedCost` of the event), when it logged one. */
  loggedCost?: LoggedCost;
}

/** A cost an agent logs beside its usage: dollars (pi), or Copilot's premium requests and nano-AIU. */
interface LoggedCost {
  usd?: number;
  premiumRequests?: number;
  nanoAiu?: number;
}

function loggedCostOf(v: unknown): LoggedCost | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const out: LoggedCost = {};
  for (const k of ['usd', 'premiumRequests', 'nanoAiu'] as const) {
    const n = (v as Record<string, unknown>)[k];
    if (typeof n === 'number' && Number.isFinite(n)) out[k] = n;
  }
  return Object.keys(out).length ? out : undefined;
}

/** One event of the conversation. */
export interface ConversationTurn {
  timestamp: string;
  role: Role;
  kind: EventKind;
  deviceId: string;
  eventUid: string;
  model: string | null;
  sidechain: boolean;
  agent: string | null;
  /** Harness-injected context (Claude's isMeta records) rather than something typed. */
  meta: boolean;
  /** The stored text (capped at ingest), null when the event had none. */
  text: string | null;
  /** Tool calls, folded: the tool's name and a one-line summary of its arguments. */
  tools?: Array<{ name: string; args: string }>;
  /** Text the model wrote beside its tool calls in the same record (older Claude logs). */
  prose?: string;
  /** A tool result, folded: its first non-empty line and its size. */
  result?: { preview: string; bytes: number; lines: number; error: boolean };
  usage?: TurnUsage;
}

interface ConversationTotals extends TokenUsage {
  /** USD of priced models (the session report's `totalCost`). */
  totalCost: number;
  /** Billed requests. */
  requests: number;
  modelsUsed: string[];
  /** Models with tokens but no price: their usage is not in totalCost. */
  unpricedModels: string[];
}

export interface Conversation {
  session: {
    sessionId: string;
    provider: Provider;
    project: string;
    projectPath: string | null;
    deviceIds: string[];
    firstTimestamp: string;
    lastTimestamp: string;
    /** Events in scope (the turns list leaves out bookkeeping with nothing to show). */
    events: number;
  };
  turns: ConversationTurn[];
  totals: ConversationTotals;
  meta: { scope: string; timezone: string; devices: Array<{ deviceId: string; name: string | null; local: boolean }> };
}

interface Candidate {
  provider: Provider;
  session_id: string;
  project: string;
  last_ts: string;
}

function deviceClause(scope: ResolvedScope): { sql: string; params: unknown[] } {
  return scope.kind === 'all' ? { sql: '1', params: [] } : { sql: 'device_id = ?', params: [scope.deviceId] };
}

/**
 * Finds the one session `ref` names in scope: an exact session id, else a unique prefix.
 * Several matches are a USAGE error listing them; none is NOT_FOUND.
 */
function resolveSession(db: Db, ref: string, scope: ResolvedScope): { provider: Provider; sessionId: string } {
  const id = ref.trim();
  if (id === '') throw new SuError('USAGE', 'no session id given', { hint: 'list sessions with `stackunderflow sessions`' });
  const dev = deviceClause(scope);
  const base = `SELECT provider, session_id, MAX(project) AS project, MAX(last_ts) AS last_ts FROM sessions WHERE ${dev.sql}`;
  let found = db.prepare(`${base} AND session_id = ? GROUP BY provider, session_id`).all(...dev.params, id) as Candidate[];
  if (found.length === 0) {
    found = db
      .prepare(`${base} AND substr(session_id, 1, ?) = ? GROUP BY provider, session_id ORDER BY MAX(last_ts) DESC, session_id LIMIT 11`)
      .all(...dev.params, id.length, id) as Candidate[];
  }
  if (found.length === 1) return { provider: found[0].provider, sessionId: found[0].session_id };
  if (found.length === 0) {
    const elsewhere = scope.kind !== 'all' && db.prepare(`SELECT 1 FROM sessions WHERE substr(session_id, 1, ?) = ? LIMIT 1`).get(id.length, id) !== undefined;
    throw new SuError('NOT_FOUND', `no session ${scope.kind === 'all' ? '' : `in scope ${formatScope(scope)} `}matches '${id}'`, {
      hint: elsewhere ? 'it exists on another device: add --scope all' : 'list sessions with `stackunderflow sessions` (or find one with `stackunderflow search`)',
    });
  }
  const list = found
    .slice(0, 10)
    .map((c) => `${c.session_id} (${c.provider}, ${c.project}, ${c.last_ts ? c.last_ts.slice(0, 16).replace('T', ' ') : 'no time'})`)
    .join('; ');
  throw new SuError('USAGE', `session id '${id}' is ambiguous: it matches ${found.length > 10 ? 'more than 10' : found.length} sessions`, {
    hint: `give more characters of one of: ${list}${found.length > 10 ? '; …' : ''}`,
  });
}

type EventRow = Pick<EventsRow, 'id' | 'uid' | 'device_id' | 'project' | 'project_path' | 'ts' | 'kind' | 'model' | 'sidechain' | 'agent' | 'usage_key' | 'text' | 'extra'>;

interface UsageRow {
  usage_key: string;
  ts: string;
  device_id: string;
  /** The uid of the event the row was billed from (null if that event is gone). */
  uid: string | null;
  model: string | null;
  input_tokens: number;
  output_tokens: number;
  cache_creation_tokens: number;
  cache_1h_tokens: number;
  cache_read_tokens: number;
  reasoning_tokens: number;
  total_tokens: number;
}

function oneLine(s: string, max: number): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > max ? t.slice(0, max - 1) + '…' : t;
}

// Argument names that say what a call does better than the whole JSON (Claude Code's and Codex's tools).
const TELLING_ARGS = ['command', 'cmd', 'file_path', 'path', 'pattern', 'query', 'url', 'description', 'prompt', 'skill', 'subject', 'content'];

/** A one-line summary of a tool's arguments: the telling argument when there is one, else compact JSON. */
function summarizeArgs(raw: string | null, max = 100): string {
  if (!raw) return '';
  const s = raw.trim();
  if (s.startsWith('{')) {
    try {
      const v = JSON.parse(s) as Record<string, unknown>;
      for (const k of TELLING_ARGS) {
        const a = v[k];
        if (typeof a === 'string' && a.trim() !== '') return oneLine(a, max);
        if (Array.isArray(a) && a.every((x) => typeof x === 'string')) return oneLine(a.join(' '), max);
      }
      return oneLine(JSON.stringify(v), max);
    } catch {
      // Capped at ingest mid-JSON: show what is there.
    }
  }
  return oneLine(s, max);
}

/** Claude's assistant text holds its tool calls as `Name {json}` lines beside ordinary text. */
function splitClaudeTools(text: string | null, tools: string[]): { text: string | null; calls: Array<{ name: string; args: string }> } {
  if (!text) return { text, calls: tools.map((name) => ({ name, args: '' })) };
  const calls: Array<{ name: string; args: string }> = [];
  const rest: string[] = [];
  for (const line of text.split('\n')) {
    const name = tools.find((t) => line === t || line.startsWith(t + ' {'));
    if (name) calls.push({ name, args: summarizeArgs(line.slice(name.length)) });
    else rest.push(line);
  }
  for (const t of tools) if (!calls.some((c) => c.name === t)) calls.push({ name: t, args: '' });
  const leftover = rest.join('\n').trim();
  return { text: leftover === '' ? null : leftover, calls };
}

function folded(text: string | null, error: boolean): { preview: string; bytes: number; lines: number; error: boolean } {
  const t = text ?? '';
  const first = t.split('\n').find((l) => l.trim() !== '') ?? '';
  return { preview: oneLine(first, 100), bytes: Buffer.byteLength(t, 'utf8'), lines: t === '' ? 0 : t.replace(/\n$/, '').split('\n').length, error };
}

function usageOf(u: UsageRow): TurnUsage {
  const tokens = u.input_tokens + u.output_tokens + u.cache_creation_tokens + u.cache_read_tokens;
  const cost = responseCost(u.model, {
    inputTokens: u.input_tokens,
    outputTokens: u.output_tokens,
    cacheCreationTokens: u.cache_creation_tokens,
    cacheReadTokens: u.cache_read_tokens,
    cacheCreation1hTokens: u.cache_1h_tokens,
  });
  return {
    model: u.model,
    inputTokens: u.input_tokens,
    outputTokens: u.output_tokens,
    cacheCreationTokens: u.cache_creation_tokens,
    cacheReadTokens: u.cache_read_tokens,
    reasoningTokens: u.reasoning_tokens,
    totalTokens: tokens,
    cost,
  };
}

/**
 * One session's conversation under a scope. `ref` is a session id or a unique prefix of one.
 * Totals are the session's billed usage (each response once, at its final usage, under the scope), the
 * same numbers as its row in the session report.
 */
export function showSession(db: Db, ref: string, opts: ShowOptions = {}, env: NodeJS.ProcessEnv = process.env): Conversation {
  const scope = resolveScope(db, opts.scope);
  const { provider, sessionId } = resolveSession(db, ref, scope);
  const es = eventsScopeSql(scope, 'u');
  const events = db
    .prepare(
      `SELECT u.id, lower(hex(u.uid_bytes)) AS uid, u.device_id, u.project, u.project_path, u.ts, u.kind, u.model, u.sidechain, u.agent, u.usage_key, u.text, u.extra
       FROM events u WHERE u.provider = ? AND u.session_id = ? AND ${es.sql} ORDER BY u.ts, u.id`,
    )
    .all(provider, sessionId, ...es.params) as EventRow[];
  const us = usageScopeSql(scope, 'u');
  // ts_ms > 0: the reports leave out usage they cannot place on a day, and so do these totals.
  const usageRows = db
    .prepare(
      `SELECT u.usage_key, u.ts, u.device_id, nullif(lower(hex(e.uid_bytes)), '') AS uid, u.model, u.input_tokens, u.output_tokens, u.cache_creation_tokens, u.cache_1h_tokens,
         u.cache_read_tokens, u.reasoning_tokens, u.total_tokens
       FROM ${usageTable(scope)} u LEFT JOIN events e ON e.id = u.event_id
       WHERE u.provider = ? AND u.session_id = ? AND u.ts_ms > 0 AND ${us.sql} ORDER BY u.ts, u.usage_key`,
    )
    .all(provider, sessionId, ...us.params) as UsageRow[];
  // A response's bill (its final usage) is shown on its earliest line, the one it is dated by.
  const billed = new Map(usageRows.map((u) => [u.uid ?? u.usage_key, u] as const));

  const turns: ConversationTurn[] = [];
  for (const e of events) {
    const extra = parseExtra(e.extra);
    const role = roleOf(e.kind, extra);
    // Claude streams one reply over several records: the others show their text only.
    const row = e.usage_key !== null ? billed.get(e.uid) : undefined;
    if (row) billed.delete(e.uid);
    const usage = row ? usageOf(row) : undefined;
    const logged = usage ? loggedCostOf(extra?.loggedCost) : undefined;
    if (usage && logged) usage.loggedCost = logged;
    // Bookkeeping (Codex turn context; the second copy of a message, whose twin is shown) has nothing new to read.
    if (!usage && (e.kind === 'meta' || (role === 'usage' && e.text === null))) continue;
    const turn: ConversationTurn = {
      timestamp: e.ts,
      role,
      kind: e.kind,
      deviceId: e.device_id,
      eventUid: e.uid,
      model: e.model,
      sidechain: e.sidechain === 1,
      agent: e.agent,
      meta: extra?.isMeta === true,
      text: e.text,
    };
    if (role === 'tool_call') {
      // Claude, OpenCode and pi list a reply's tool calls in extra.tools beside its text; Codex logs one call per record.
      if (Array.isArray(extra?.tools)) {
        const split = splitClaudeTools(e.text, (extra?.tools as unknown[]).filter((t): t is string => typeof t === 'string'));
        turn.tools = split.calls;
        if (split.text) turn.prose = split.text;
      } else {
        turn.tools = [{ name: typeof extra?.name === 'string' ? extra.name : 'tool', args: summarizeArgs(e.text) }];
      }
    } else if (role === 'tool_result') {
      turn.result = folded(e.text, extra?.toolError === true);
    }
    if (usage) turn.usage = usage;
    turns.push(turn);
  }
  // A request billed to this session whose record now reads differently (the same record id
  // rewritten without usage by a later log) still counts: show it where it happened.
  for (const row of billed.values()) {
    turns.push({
      timestamp: row.ts, role: 'usage', kind: 'usage', deviceId: row.device_id, eventUid: row.uid ?? '', model: row.model,
      sidechain: false, agent: null, meta: false, text: null, usage: usageOf(row),
    });
  }
  if (billed.size > 0) turns.sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0));

  const totals: ConversationTotals = {
    inputTokens: 0,
    outputTokens: 0,
    cacheCreationTokens: 0,
    cacheReadTokens: 0,
    reasoningTokens: 0,
    totalTokens: 0,
    totalCost: 0,
    requests: 0,
    modelsUsed: [],
    unpricedModels: [],
  };
  const models = new Set<string>();
  const unpriced = new Set<string>();
  for (const r of usageRows) {
    const u = usageOf(r);
    totals.inputTokens += u.inputTokens;
    totals.outputTokens += u.outputTokens;
    totals.cacheCreationTokens += u.cacheCreationTokens;
    totals.cacheReadTokens += u.cacheReadTokens;
    totals.reasoningTokens += u.reasoningTokens;
    totals.totalTokens += u.totalTokens;
    totals.requests++;
    if (u.model !== SYNTHETIC_MODEL) models.add(u.model ?? 'unknown');
    if (u.cost === null) unpriced.add(u.model ?? 'unknown');
    else totals.totalCost += u.cost;
  }
  totals.modelsUsed = [...models];
  totals.unpricedModels = [...unpriced].sort();

  const timed = events.filter((e) => e.ts !== '');
  const last = events[events.length - 1];
  const names = knownDevices(db);
  const deviceIds = [...new Set(events.map((e) => e.device_id))].sort();
  return {
    session: {
      sessionId,
      provider,
      project: last?.project ?? '',
      projectPath: [...events].reverse().find((e) => e.project_path)?.project_path ?? null,
      deviceIds,
      firstTimestamp: timed[0]?.ts ?? '',
      lastTimestamp: timed[timed.length - 1]?.ts ?? '',
      events: events.length,
    },
    turns,
    totals,
    meta: {
      scope: formatScope(scope),
      timezone: opts.timezone ?? defaultTimeZone(env),
      devices: names.filter((d) => deviceIds.includes(d.deviceId)),
    },
  };
}
