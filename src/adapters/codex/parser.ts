/**
 * Codex rollout parser (`~/.codex/sessions/**\/rollout-*.jsonl`).
 *
 * A rollout is JSONL; every line is `{timestamp, type, payload}`. One line gives at most
 * one event. What each record becomes:
 *
 * | record                                                         | kind          |
 * |----------------------------------------------------------------|---------------|
 * | `session_meta`                                                 | `meta`        |
 * | `turn_context` (sets the current model)                        | `meta`        |
 * | `response_item/message` role `user`                            | `user`, or `system` when it is context Codex injects (`<environment_context>`, AGENTS.md, ...) |
 * | `response_item/message` role `assistant`                       | `assistant`   |
 * | `response_item/message` role `developer` / `system`            | `system`      |
 * | `response_item/reasoning`                                      | `reasoning` (summary text; encrypted content dropped) |
 * | `response_item/*_call` (function, custom, local_shell, web_search...) | `tool_call` |
 * | `response_item/*_output` (function_call_output, custom_tool_call_output...) | `tool_result` |
 * | `response_item/ghost_snapshot` and other response items         | `meta`        |
 * | `event_msg/user_message`, `agent_message`, `agent_reasoning`    | `user`, `assistant`, `reasoning` (see mirrors) |
 * | `event_msg/token_count` with new usage                          | `usage`       |
 * | `event_msg/token_count` without new usage (repeat, `info:null`) | no event      |
 * | other `event_msg` (task_started/complete, context_compacted, review mode, errors...) | `system` |
 * | `compacted` (the compaction summary)                            | `summary`     |
 * | any other typed record                                          | `meta`        |
 * | not JSON, not an object, or no `type`                           | malformed (`null`) |
 *
 * Mirrors. Codex writes the user prompt, each reply and each reasoning summary twice: as a
 * `response_item` (model history) and as an `event_msg` (UI stream), on adjacent lines
 * (user: response_item first; reply and reasoning: event_msg first). Counting both would
 * double every message, and either side alone is missing from some logs. So the first of
 * such an adjacent pair (same role, opposite stream) carries the kind and the second
 * becomes `meta` with `extra.mirror`; its text is dropped when identical to the first.
 * A record without its twin simply keeps its kind; any other line in between (malformed
 * included) breaks the pair.
 *
 * Identity. Codex has no record ids: record = `derivedRecordId('codex', slug, session, ts,
 * ordinal)`, ordinal = number of earlier parsed lines of this file with the same
 * timestamp (every parsed line counts, event or not; malformed lines don't). Session and
 * slug are fixed by the first parsed line: normally `session_meta` (session = `payload.id`,
 * project = `slugFromPath(payload.cwd)`, projectPath = cwd). A file whose first record is
 * not a `session_meta`, or whose `session_meta` lacks them, takes its session from the
 * file name (see `sessionIdFromFileName`) and the project slug `unknown`. Nothing depends
 * on the file's path, so a rollout copied into `archived_sessions` yields the same uids.
 *
 * Usage (`event_msg/token_count`). `info.total_token_usage` is cumulative per session, and
 * Codex repeats it unchanged, so each event bills `total − previous total` per field and a
 * repeat (zero delta) yields no event. A total that goes down means the counter restarted:
 * that event bills `last_token_usage` (or the new total when absent). With no total, a
 * non-zero `last_token_usage` is billed as is. The older `payload.usage` variant
 * (`prompt_tokens`, `completion_tokens`, optional `prompt_tokens_details.cached_tokens`,
 * `completion_tokens_details.reasoning_tokens`, as in OpenAI API responses) is read as the
 * usage of one request, like `last_token_usage`. Mapping (Codex's `total_tokens` equals
 * input + output, so reasoning is already inside output): inputTokens = input − cached,
 * cacheReadTokens = cached, outputTokens = output, reasoningTokens = reasoning
 * (informational, not added again), cacheCreationTokens = 0, totalTokens = input + output.
 * usageKey = the event's uid: each delta is billed once, and the same rollout on two
 * devices gives the same key.
 *
 * Model: the latest `turn_context.payload.model` (initially `session_meta.payload.model`
 * when present). It is set on assistant, reasoning, tool_call and usage events and on the
 * meta records that carry it; prompts, tool results and system records have none.
 *
 * Subagents: `session_meta.payload.source` is `"cli"`, `"vscode"`, `"exec"`... for a
 * top-level session and `{"subagent": ...}` for one Codex spawned (`"review"`,
 * `"compact"`, `{"thread_spawn": {parent_thread_id, depth, agent_role, agent_nickname}}`,
 * `{"other": name}`). Every event of a subagent rollout has `sidechain = true` and
 * `agent` = the subagent kind (`review`, `compact`, the role or nickname of a spawned
 * thread, or `thread_spawn`). The session stays the rollout's own id; the parent thread id,
 * when logged, is in the session_meta event's `extra.parent`. Review subagents log no
 * parent id, and none is guessed.
 */
import { canonicalJson } from '../../model/canonical.js';
import { derivedRecordId, eventUid, normalizeTs, slugFromPath } from '../../model/identity.js';
import { fileParser } from '../json.js';
import type { EventKind, EventRecord, TokenUsage } from '../../model/event.js';
import type { FileParser, ParserState, SourceFile } from '../types.js';
import { sessionIdFromFileName } from './paths.js';
import { tokenCount as countAt } from '../tokens.js';

/** Longest `text` kept, in UTF-8 bytes. */
export const TEXT_CAP_BYTES = 16 * 1024;

/** Project slug of a rollout that does not say where it ran. */
const UNKNOWN_PROJECT = 'unknown';

type Side = 'ri' | 'em';
type MirrorRole = 'user' | 'assistant' | 'reasoning';

interface Counts {
  input: number;
  cached: number;
  output: number;
  reasoning: number;
}

interface CodexState {
  v: 1;
  /** Session and project are fixed (by the first parsed line). */
  ready: boolean;
  session: string;
  slug: string;
  cwd: string | null;
  sidechain: boolean;
  agent: string | null;
  model: string | null;
  /** Last cumulative `total_token_usage` seen. */
  total: Counts | null;
  /** Stream, role and text hash of the previous line when it can have a mirror twin. */
  prev: { side: Side; role: MirrorRole; text: string | null } | null;
  /** Parsed lines seen per timestamp, for record ordinals. */
  ord: Record<string, number>;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

/** A count from a usage object: absent or null is 0; anything else that is not a token count makes the line malformed. */
function num(o: Obj, field: string): number {
  return countAt(o, field, { nullIsZero: true });
}

/** Cap to TEXT_CAP_BYTES of UTF-8 without cutting a character in half. */
function capText(s: string | null): string | null {
  if (s === null || s === '') return null;
  if (s.length * 3 <= TEXT_CAP_BYTES || Buffer.byteLength(s, 'utf8') <= TEXT_CAP_BYTES) return s;
  const cut = Buffer.from(s, 'utf8').subarray(0, TEXT_CAP_BYTES).toString('utf8');
  return cut.replace(/\uFFFD+$/, '');
}

/** Text of a content array (`input_text`, `output_text`, `summary_text`...), images skipped. */
function contentText(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (!Array.isArray(v)) return null;
  const parts: string[] = [];
  for (const c of v) {
    if (typeof c === 'string') parts.push(c);
    else if (isObj(c) && typeof c.text === 'string') parts.push(c.text);
  }
  return parts.length ? parts.join('\n') : null;
}

function outputText(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return contentText(v);
  if (isObj(v)) {
    const c = contentText(v.content);
    if (c !== null) return c;
    try {
      return JSON.stringify(v);
    } catch {
      return null;
    }
  }
  return null;
}

/** Extra as canonical JSON, null/undefined fields left out. */
function extraJson(o: Obj): string {
  const clean: Obj = {};
  for (const [k, v] of Object.entries(o)) if (v !== null && v !== undefined) clean[k] = v;
  return canonicalJson(clean);
}

/** Prefixes of user-role messages that Codex writes itself (context, not a prompt). */
const INJECTED_PREFIXES = [
  '<environment_context>',
  '<user_instructions>',
  '# AGENTS.md instructions',
  '<permissions instructions>',
  '<turn_aborted>',
  '<INSTRUCTIONS>',
];

function isInjected(text: string | null): boolean {
  if (text === null) return false;
  const t = text.trimStart();
  return INJECTED_PREFIXES.some((p) => t.startsWith(p));
}

function readCounts(u: unknown): Counts | null {
  if (!isObj(u)) return null;
  return {
    input: num(u, 'input_tokens'),
    cached: num(u, 'cached_input_tokens'),
    output: num(u, 'output_tokens'),
    reasoning: num(u, 'reasoning_output_tokens'),
  };
}

function readLegacyCounts(u: unknown): Counts | null {
  if (!isObj(u)) return null;
  const pd = isObj(u.prompt_tokens_details) ? u.prompt_tokens_details : {};
  const cd = isObj(u.completion_tokens_details) ? u.completion_tokens_details : {};
  return {
    input: u.prompt_tokens !== undefined && u.prompt_tokens !== null ? num(u, 'prompt_tokens') : num(u, 'input_tokens'),
    cached: pd.cached_tokens !== undefined && pd.cached_tokens !== null ? num(pd, 'cached_tokens') : num(u, 'cached_input_tokens'),
    output: u.completion_tokens !== undefined && u.completion_tokens !== null ? num(u, 'completion_tokens') : num(u, 'output_tokens'),
    reasoning: cd.reasoning_tokens !== undefined && cd.reasoning_tokens !== null ? num(cd, 'reasoning_tokens') : num(u, 'reasoning_output_tokens'),
  };
}

function isZero(c: Counts): boolean {
  return c.input === 0 && c.cached === 0 && c.output === 0 && c.reasoning === 0;
}

function toUsage(c: Counts): TokenUsage {
  return {
    inputTokens: Math.max(0, c.input - c.cached),
    outputTokens: c.output,
    cacheCreationTokens: 0,
    cacheReadTokens: c.cached,
    reasoningTokens: c.reasoning,
    totalTokens: c.input + c.output,
  };
}

/** `sidechain`/`agent`/parent from `session_meta.payload`. */
function subagentOf(meta: Obj): { sidechain: boolean; agent: string | null; parent: string | null; source: string | null } {
  const src = meta.source;
  if (typeof src === 'string') return { sidechain: false, agent: null, parent: null, source: src };
  if (!isObj(src) || !('subagent' in src)) return { sidechain: false, agent: null, parent: null, source: null };
  const sub = src.subagent;
  const fallback = str(meta.agent_role) ?? str(meta.agent_nickname);
  if (typeof sub === 'string') return { sidechain: true, agent: sub, parent: null, source: 'subagent' };
  if (isObj(sub) && isObj(sub.thread_spawn)) {
    const t = sub.thread_spawn;
    const agent = str(t.agent_role) ?? str(t.agent_type) ?? str(t.agent_nickname) ?? fallback ?? 'thread_spawn';
    return { sidechain: true, agent, parent: str(t.parent_thread_id), source: 'subagent' };
  }
  if (isObj(sub) && typeof sub.other === 'string') return { sidechain: true, agent: sub.other, parent: null, source: 'subagent' };
  return { sidechain: true, agent: fallback ?? 'subagent', parent: null, source: 'subagent' };
}

function freshState(): CodexState {
  return {
    v: 1, ready: false, session: '', slug: UNKNOWN_PROJECT, cwd: null, sidechain: false, agent: null,
    model: null, total: null, prev: null, ord: {},
  };
}

function restore(s: ParserState | null): CodexState {
  if (!s || s.v !== 1 || !isObj(s.ord)) return freshState();
  return { ...freshState(), ...(s as unknown as CodexState) };
}

/** One classified line, before identity is attached. */
interface Draft {
  kind: EventKind;
  text: string | null;
  extra: Obj;
  /** The model applies to this record. */
  modelled: boolean;
  usage?: TokenUsage;
  /** Set for records Codex writes on both streams. */
  twin?: { side: Side; role: MirrorRole };
}

function shortHash(s: string | null): string | null {
  if (s === null) return null;
  // FNV-1a is enough: it only decides whether a mirror's text repeats its twin's.
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16) + ':' + s.length;
}

/** A stateful parser for one rollout; see the file comment for the mapping. */
export function createCodexParser(file: SourceFile, saved: ParserState | null): FileParser {
  const st = restore(saved);

  const fixIdentity = (meta: Obj | null) => {
    st.session = str(meta?.id) ?? sessionIdFromFileName(file.path);
    st.cwd = str(meta?.cwd);
    st.slug = st.cwd ? slugFromPath(st.cwd) : UNKNOWN_PROJECT;
    const sub = meta ? subagentOf(meta) : null;
    st.sidechain = sub?.sidechain ?? false;
    st.agent = sub?.agent ?? null;
    st.ready = true;
  };

  const tokenCount = (p: Obj): { usage: TokenUsage; from: string } | null => {
    if (isObj(p.info)) {
      const tot = readCounts(p.info.total_token_usage);
      if (tot) {
        const before = st.total ?? { input: 0, cached: 0, output: 0, reasoning: 0 };
        st.total = tot;
        let d: Counts = {
          input: tot.input - before.input,
          cached: tot.cached - before.cached,
          output: tot.output - before.output,
          reasoning: tot.reasoning - before.reasoning,
        };
        let from = 'total';
        if (d.input < 0 || d.cached < 0 || d.output < 0 || d.reasoning < 0) {
          d = readCounts(p.info.last_token_usage) ?? tot;
          from = 'reset';
        }
        return isZero(d) ? null : { usage: toUsage(d), from };
      }
      const last = readCounts(p.info.last_token_usage);
      return last && !isZero(last) ? { usage: toUsage(last), from: 'last' } : null;
    }
    const legacy = readLegacyCounts(p.usage);
    return legacy && !isZero(legacy) ? { usage: toUsage(legacy), from: 'usage' } : null;
  };

  const responseItem = (p: Obj): Draft => {
    const t = str(p.type) ?? 'unknown';
    const type = 'response_item/' + t;
    if (t === 'message') {
      const role = str(p.role);
      const text = contentText(p.content);
      if (role === 'user') {
        if (isInjected(text)) return { kind: 'system', text, extra: { type, role }, modelled: false };
        return { kind: 'user', text, extra: { type, role }, modelled: false, twin: { side: 'ri', role: 'user' } };
      }
      if (role === 'assistant') {
        return { kind: 'assistant', text, extra: { type, role, phase: str(p.phase) }, modelled: true, twin: { side: 'ri', role: 'assistant' } };
      }
      return { kind: 'system', text, extra: { type, role }, modelled: false };
    }
    if (t === 'reasoning') {
      const text = contentText(p.summary) ?? contentText(p.content);
      return { kind: 'reasoning', text, extra: { type }, modelled: true, twin: { side: 'ri', role: 'reasoning' } };
    }
    if (t.endsWith('_call')) {
      let text: string | null = null;
      if (typeof p.arguments === 'string') text = p.arguments;
      else if (typeof p.input === 'string') text = p.input;
      else if (isObj(p.action)) {
        const a = p.action;
        text = str(a.query) ?? (Array.isArray(a.command) ? a.command.filter((x) => typeof x === 'string').join(' ') : outputText(a));
      } else if (p.arguments !== undefined) text = outputText(p.arguments);
      return {
        kind: 'tool_call', text,
        extra: { type, name: str(p.name) ?? (t === 'web_search_call' ? 'web_search' : null), callId: str(p.call_id) ?? str(p.id), status: str(p.status) },
        modelled: true,
      };
    }
    if (t.endsWith('_output')) {
      return { kind: 'tool_result', text: outputText(p.output), extra: { type, callId: str(p.call_id) }, modelled: false };
    }
    return { kind: 'meta', text: null, extra: { type }, modelled: false };
  };

  const eventMsg = (p: Obj): Draft | null => {
    const t = str(p.type) ?? 'unknown';
    const type = 'event_msg/' + t;
    switch (t) {
      case 'token_count': {
        const u = tokenCount(p);
        return u ? { kind: 'usage', text: null, extra: { type, from: u.from }, modelled: true, usage: u.usage } : null;
      }
      case 'user_message':
        return { kind: 'user', text: str(p.message), extra: { type }, modelled: false, twin: { side: 'em', role: 'user' } };
      case 'agent_message':
        return { kind: 'assistant', text: str(p.message), extra: { type }, modelled: true, twin: { side: 'em', role: 'assistant' } };
      case 'agent_reasoning':
        return { kind: 'reasoning', text: str(p.text), extra: { type }, modelled: true, twin: { side: 'em', role: 'reasoning' } };
      default:
        return { kind: 'system', text: str(p.message), extra: { type, turnId: str(p.turn_id) }, modelled: false };
    }
  };

  const classify = (type: string, p: Obj): Draft | null => {
    switch (type) {
      case 'session_meta': {
        const sub = subagentOf(p);
        const m = str(p.model);
        if (m) st.model = m;
        return {
          kind: 'meta', text: null, modelled: m !== null,
          extra: {
            type, source: sub.source, parent: sub.parent, originator: str(p.originator),
            cliVersion: str(p.cli_version), forkedFrom: str(p.forked_from_id),
          },
        };
      }
      case 'turn_context': {
        const m = str(p.model);
        if (m) st.model = m;
        return { kind: 'meta', text: null, modelled: true, extra: { type, turnId: str(p.turn_id), effort: str(p.effort) ?? str(p.reasoning_effort) } };
      }
      case 'response_item':
        return responseItem(p);
      case 'event_msg':
        return eventMsg(p);
      case 'compacted': {
        const n = Array.isArray(p.replacement_history) ? p.replacement_history.length : null;
        return { kind: 'summary', text: str(p.message), extra: { type, replaced: n }, modelled: true };
      }
      default:
        return { kind: 'meta', text: null, extra: { type }, modelled: false };
    }
  };

  const line = (text: string): EventRecord[] | null => {
    let o: unknown;
    try {
      o = JSON.parse(text);
    } catch {
      st.prev = null;
      return null;
    }
    if (!isObj(o) || typeof o.type !== 'string') {
      st.prev = null;
      return null;
    }
    const type = o.type;
    const payload = isObj(o.payload) ? o.payload : {};
    const ts = normalizeTs(o.timestamp);
    const ordinal = st.ord[ts] ?? 0;
    st.ord[ts] = ordinal + 1;
    if (!st.ready) fixIdentity(type === 'session_meta' ? payload : null);

    const d = classify(type, payload);
    let kind = d?.kind;
    let evText = d ? capText(d.text) : null;
    if (d?.twin) {
      const h = shortHash(evText);
      const prev = st.prev;
      if (prev && prev.role === d.twin.role && prev.side !== d.twin.side) {
        kind = 'meta';
        d.extra.mirror = d.twin.role;
        if (h === prev.text) evText = null;
        st.prev = null;
      } else {
        st.prev = { ...d.twin, text: h };
      }
    } else {
      st.prev = null;
    }
    if (!d || !kind) return [];

    const record = derivedRecordId('codex', st.slug, st.session, ts, ordinal);
    const uid = eventUid('codex', st.session, record);
    return [{
      uid,
      provider: 'codex',
      project: st.slug,
      projectPath: st.cwd,
      session: st.session,
      record,
      ts,
      kind,
      model: d.modelled ? st.model : null,
      sidechain: st.sidechain,
      agent: st.agent,
      usageKey: d.usage ? uid : null,
      usage: d.usage ?? null,
      text: evText,
      extra: extraJson(d.extra),
    }];
  };

  return fileParser(line, st);
}
