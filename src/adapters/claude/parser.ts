import { derivedRecordId, eventUid } from '../../model/identity.js';
import { isCanonicalInstant, parseInstant } from '../../model/instant.js';
import { BadTokenCount, tokenCount } from '../tokens.js';
import type { EventKind, EventRecord, TokenUsage } from '../../model/event.js';
import type { FileParser, ParserState, SourceFile } from '../types.js';
import { canonicalJson } from '../../model/canonical.js';
import { claudeFileInfo, type ClaudeFileInfo } from './paths.js';

/**
 * Claude Code transcript parser: one JSON record per line.
 *
 * What becomes an event (one per line):
 * - `user`, `assistant`, `system` (any subtype, e.g. `compact_boundary`, `local_command`) and
 *   `summary` records, with kinds of the same name.
 * - Any other line that reports usage (see {@link lineUsage}) becomes a `usage` event, so
 *   billing never depends on the record type.
 *
 * Skipped as bookkeeping (they return no events, and are not malformed): `progress` (hook/tool
 * progress ticks; their nested `data.message` is not billed by ccusage either),
 * `file-history-snapshot`, `queue-operation` (queued prompts reappear as `user` records),
 * `permission-mode`, `last-prompt` (a copy of a prompt already logged), `attachment` (harness
 * context: hook output, tool listings, reminders), and unknown future types.
 *
 * Malformed (returns null, counted by ingest): a line that is not JSON, JSON that is not an
 * object, an object without a string `type` (unless it reports usage), a `timestamp` that is
 * not an ISO-8601 instant, or a token count that is not a safe non-negative integer.
 *
 * Every line of a response carries its usage (Claude Code streams one line per content block,
 * the early ones with the output counted so far); each becomes an event with the same usage
 * key, and the store bills the key once, at its largest usage (docs/numbers.md).
 */

/** Searchable text is capped at 16 KiB of UTF-8 (cut on a character boundary): enough for any prompt or reply summary, while a 1 MB file write or tool output does not bloat the store. */
export const TEXT_CAP_BYTES = 16 * 1024;

const KINDS = new Map<unknown, EventKind>([
  ['user', 'user'],
  ['assistant', 'assistant'],
  ['system', 'system'],
  ['summary', 'summary'],
]);

type Json = Record<string, unknown>;

function isObj(v: unknown): v is Json {
  return v !== null && typeof v === 'object';
}

const isNonEmptyStr = (v: unknown): v is string => typeof v === 'string' && v.length >= 1;

/** A line's billed usage and what identifies the response it belongs to. */
interface LineUsage {
  usage: TokenUsage;
  /** The 1-hour part of `usage.cacheCreationTokens` (the rest are 5-minute writes). */
  cache1h: number;
  messageId: string | undefined;
  requestId: string | undefined;
}

/**
 * The usage a line reports, or null when it reports none: a line reports usage iff it has a
 * valid timestamp (placing it on a day) and `message.usage` with `input_tokens` and
 * `output_tokens`. Every count present must be a token count (see tokens.ts), else the line
 * is malformed (this throws BadTokenCount). The record `type` is not checked: usage is usage.
 *
 * Cache creation: `cache_creation_input_tokens` is the total; `cache_creation`'s
 * `ephemeral_5m_input_tokens` / `ephemeral_1h_input_tokens` split it by lifetime where the log
 * says (1-hour writes cost more). Without the total, the split's sum is the total.
 */
function lineUsage(j: Json, tsMs: number | null): LineUsage | null {
  if (tsMs === null) return null;
  const m = j.message;
  if (!isObj(m) || Array.isArray(m)) return null;
  const u = m.usage;
  if (!isObj(u) || Array.isArray(u) || u.input_tokens === undefined || u.output_tokens === undefined) return null;
  const input = tokenCount(u, 'input_tokens');
  const output = tokenCount(u, 'output_tokens');
  const cacheRead = tokenCount(u, 'cache_read_input_tokens', { nullIsZero: true });
  const cc = isObj(u.cache_creation) && !Array.isArray(u.cache_creation) ? u.cache_creation : {};
  const split5m = tokenCount(cc, 'ephemeral_5m_input_tokens', { nullIsZero: true });
  const split1h = tokenCount(cc, 'ephemeral_1h_input_tokens', { nullIsZero: true });
  const cacheCreation = u.cache_creation_input_tokens === undefined || u.cache_creation_input_tokens === null
    ? split5m + split1h
    : tokenCount(u, 'cache_creation_input_tokens');
  const total = input + output + cacheCreation + cacheRead;
  if (!Number.isSafeInteger(total)) throw new BadTokenCount('total', total);
  return {
    usage: { inputTokens: input, outputTokens: output, cacheCreationTokens: cacheCreation, cacheReadTokens: cacheRead, reasoningTokens: 0, totalTokens: total },
    cache1h: Math.min(split1h, cacheCreation),
    messageId: isNonEmptyStr(m.id) ? m.id : undefined,
    requestId: isNonEmptyStr(j.requestId) ? j.requestId : undefined,
  };
}

/**
 * The billing identity of a response (docs/numbers.md): its `message.id`, across lines,
 * files, sessions and devices; without one its `requestId`; without both the line itself.
 * The prefixes keep the three apart, and apart from keys written by earlier versions
 * (`message.id:requestId`), which the store re-derives (migration 035).
 */
function claudeUsageKey(messageId: string | undefined, requestId: string | undefined, uid: string): string {
  if (messageId) return `m:${messageId}`;
  if (requestId) return `r:${requestId}`;
  return `uid:${uid}`;
}

/** Collects text pieces until the cap is surely exceeded (chars ≤ UTF-8 bytes), so huge tool inputs cost little. */
class TextSink {
  parts: string[] = [];
  private chars = 0;
  push(s: unknown): void {
    if (typeof s !== 'string' || s === '' || this.chars > TEXT_CAP_BYTES) return;
    this.parts.push(s);
    this.chars += s.length + 1;
  }
  get full(): boolean {
    return this.chars > TEXT_CAP_BYTES;
  }
}

function capUtf8(s: string): { text: string; truncated: boolean } {
  if (s.length * 3 <= TEXT_CAP_BYTES) return { text: s, truncated: false };
  const buf = Buffer.from(s, 'utf8');
  if (buf.length <= TEXT_CAP_BYTES) return { text: s, truncated: false };
  let end = TEXT_CAP_BYTES;
  // Back off to the start of the character the cut would split.
  while (end > 0 && (buf[end] & 0xc0) === 0x80) end--;
  return { text: buf.subarray(0, end).toString('utf8'), truncated: true };
}

function safeStringify(v: unknown): string {
  try {
    return JSON.stringify(v) ?? '';
  } catch {
    return '';
  }
}

/** Text of a message's content: prompt/reply text, `tool_use` as name + JSON input, `tool_result` content. */
function collectContent(content: unknown, sink: TextSink, info: { tools: string[]; toolResult: boolean; toolError: boolean }): void {
  if (typeof content === 'string') {
    sink.push(content);
    return;
  }
  if (!Array.isArray(content)) return;
  for (const item of content) {
    if (typeof item === 'string') {
      sink.push(item);
      continue;
    }
    if (!isObj(item)) continue;
    switch (item.type) {
      case 'text':
        sink.push(item.text);
        break;
      case 'tool_use':
      case 'server_tool_use': {
        const name = typeof item.name === 'string' ? item.name : '';
        if (name && !info.tools.includes(name)) info.tools.push(name);
        if (!sink.full) sink.push([name, item.input === undefined ? '' : safeStringify(item.input)].filter(Boolean).join(' '));
        break;
      }
      case 'tool_result':
        info.toolResult = true;
        if (item.is_error === true) info.toolError = true;
        if (typeof item.content === 'string') sink.push(item.content);
        else if (Array.isArray(item.content)) {
          for (const c of item.content) if (isObj(c) && c.type === 'text') sink.push(c.text);
        }
        break;
      default:
        // thinking (often redacted), images, documents: nothing worth searching.
        break;
    }
  }
}

interface ClaudeState {
  /** Per normalized timestamp: how many records without `uuid` were seen so far in this file. */
  ords: Record<string, number>;
}

/**
 * A parser for one Claude transcript. Its only state is the per-timestamp ordinal counter for
 * records without a `uuid`, so resuming from an offset gives the same identities as a full read.
 */
class ClaudeParser implements FileParser {
  private readonly info: ClaudeFileInfo;
  private readonly ords: Record<string, number>;

  constructor(file: SourceFile, state: ParserState | null) {
    this.info = claudeFileInfo(file.root, file.path);
    const prev = state && isObj(state.ords) ? (state.ords as Record<string, unknown>) : {};
    this.ords = {};
    for (const [k, v] of Object.entries(prev)) if (typeof v === 'number') this.ords[k] = v;
  }

  state(): ParserState {
    return { ords: { ...this.ords } } satisfies ClaudeState;
  }

  line(text: string): EventRecord[] | null {
    let j: unknown;
    try {
      j = JSON.parse(text);
    } catch {
      return null;
    }
    if (!isObj(j) || Array.isArray(j)) return null;
    const tsMs = typeof j.timestamp === 'string' ? parseInstant(j.timestamp) : null;
    if (j.timestamp !== undefined && tsMs === null) return null;
    try {
      const ev = this.toEvent(j, tsMs);
      if (ev) return [ev];
      return typeof j.type === 'string' ? [] : null;
    } catch {
      // A shape we did not foresee (or an impossible token count, BadTokenCount) costs one line, never the ingest.
      return null;
    }
  }

  private toEvent(j: Json, tsMs: number | null): EventRecord | null {
    const billed = lineUsage(j, tsMs);
    const kind: EventKind | undefined = KINDS.get(j.type) ?? (billed ? 'usage' : undefined);
    if (!kind) return null;

    const ts = tsMs === null ? '' : isCanonicalInstant(j.timestamp as string) ? (j.timestamp as string) : new Date(tsMs).toISOString();
    const session = isNonEmptyStr(j.sessionId) ? j.sessionId : this.info.fallbackSession;
    let record: string;
    // A uuid names a record, but rewinds and forks reuse a uuid for another API message. The
    // message id keeps those apart, so every billed message stays an event of its own — on
    // this device and on every peer that receives it.
    if (isNonEmptyStr(j.uuid)) record = billed?.messageId && billed.requestId ? `${j.uuid}#${billed.messageId}:${billed.requestId}` : j.uuid;
    else {
      const ordinal = this.ords[ts] ?? 0;
      this.ords[ts] = ordinal + 1;
      record = derivedRecordId('claude', this.info.slug, session, ts, ordinal);
    }
    const uid = eventUid('claude', session, record);

    const msg = isObj(j.message) && !Array.isArray(j.message) ? j.message : null;
    const sink = new TextSink();
    const found = { tools: [] as string[], toolResult: false, toolError: false };
    const extra: Json = {};
    if (kind === 'summary') {
      sink.push(j.summary);
      if (isNonEmptyStr(j.leafUuid)) extra.leafUuid = j.leafUuid;
    } else if (kind === 'system') {
      sink.push(j.content);
      if (isNonEmptyStr(j.subtype)) extra.subtype = j.subtype;
      if (isNonEmptyStr(j.level)) extra.level = j.level;
    } else if (msg) {
      collectContent(msg.content, sink, found);
    }
    if (found.tools.length) extra.tools = found.tools;
    if (found.toolResult) extra.toolResult = true;
    if (found.toolError) extra.toolError = true;
    if (msg && isNonEmptyStr(msg.id)) extra.messageId = msg.id;
    if (isNonEmptyStr(j.requestId)) extra.requestId = j.requestId;
    if (msg && isNonEmptyStr(msg.stop_reason)) extra.stopReason = msg.stop_reason;
    if (j.isMeta === true) extra.isMeta = true;
    if (j.isCompactSummary === true) extra.compactSummary = true;
    if (j.isApiErrorMessage === true) extra.apiError = true;
    if (isNonEmptyStr(j.gitBranch)) extra.gitBranch = j.gitBranch;
    if (billed) {
      // Kept for pricing: fast mode and 1-hour cache writes price differently (the store bills cache1hTokens).
      if (typeof j.costUSD === 'number' && Number.isFinite(j.costUSD)) extra.costUSD = j.costUSD;
      const u = msg!.usage as Json;
      if (u.speed === 'fast') extra.speed = 'fast';
      if (billed.cache1h > 0) extra.cache1hTokens = billed.cache1h;
    }
    const joined = sink.parts.join('\n');
    const { text, truncated } = capUtf8(joined);
    if (truncated) extra.truncated = true;

    const usageKey = billed ? claudeUsageKey(billed.messageId, billed.requestId, uid) : null;
    const model = msg && isNonEmptyStr(msg.model) ? msg.model : null;
    return {
      uid,
      provider: 'claude',
      project: this.info.slug,
      projectPath: typeof j.cwd === 'string' && j.cwd !== '' ? j.cwd : null,
      session,
      record,
      ts,
      kind,
      model,
      sidechain: j.isSidechain === true,
      agent: isNonEmptyStr(j.agentId) ? j.agentId : this.info.agent,
      usageKey,
      usage: billed ? billed.usage : null,
      text: text === '' ? null : text,
      extra: Object.keys(extra).length ? canonicalJson(extra) : null,
    };
  }
}

/** A parser for one transcript, resuming from `state` when reading from an offset. */
export function createClaudeParser(file: SourceFile, state: ParserState | null): FileParser {
  return new ClaudeParser(file, state);
}
