import { derivedRecordId, eventUid, normalizeTs } from '../identity.js';
import type { EventKind, EventRecord, FileParser, ParserState, SourceFile, TokenUsage } from '../types.js';
import { canonicalJson } from '../../util/canonical.js';
import { claudeFileInfo, type ClaudeFileInfo } from './paths.js';

/**
 * Claude Code transcript parser: one JSON record per line.
 *
 * What becomes an event (one per line):
 * - `user`, `assistant`, `system` (any subtype, e.g. `compact_boundary`, `local_command`) and
 *   `summary` records, with kinds of the same name.
 * - Any other line that carries usage ccusage would bill (see {@link billableUsage}) becomes a
 *   `usage` event, so billing never depends on the record type (ccusage does not look at it).
 *
 * Skipped as bookkeeping (they return no events, and are not malformed): `progress` (hook/tool
 * progress ticks; their nested `data.message` is not billed by ccusage either),
 * `file-history-snapshot`, `queue-operation` (queued prompts reappear as `user` records),
 * `permission-mode`, `last-prompt` (a copy of a prompt already logged), `attachment` (harness
 * context: hook output, tool listings, reminders), and unknown future types.
 *
 * Malformed (returns null, counted by ingest): a line that is not JSON, JSON that is not an
 * object, or an object without a string `type` (unless it carries billable usage).
 */

/** Searchable text is capped at 16 KiB of UTF-8 (cut on a character boundary): enough for any prompt or reply summary, while a 1 MB file write or tool output does not bloat the store. */
export const TEXT_CAP_BYTES = 16 * 1024;

const ISO_TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{3})?Z$/;
const VERSION = /^\d+\.\d+\.\d+/;

const KINDS = new Map<unknown, EventKind>([
  ['user', 'user'],
  ['assistant', 'assistant'],
  ['system', 'system'],
  ['summary', 'summary'],
]);

type Json = Record<string, unknown>;

function isObj(v: unknown): v is Json {
  // Mirrors valibot's object(): any non-null object, arrays included.
  return v !== null && typeof v === 'object';
}

const isNum = (v: unknown): v is number => typeof v === 'number' && !Number.isNaN(v);
const isNonEmptyStr = (v: unknown): v is string => typeof v === 'string' && v.length >= 1;
/** valibot's optional(): absent passes, present must match (null does not). */
const opt = (o: Json, k: string, ok: (v: unknown) => boolean) => !(k in o) || ok(o[k]);

/**
 * The usage ccusage 18.0.11 bills for a line, or null. This is its `usageDataSchema` verbatim:
 * a line counts iff `timestamp` matches `YYYY-MM-DDTHH:MM:SS(.mmm)?Z` and is a real date,
 * `message.usage.input_tokens` and `output_tokens` are numbers, and every optional field that is
 * present has the right type (`null` fails: `requestId: null` or `model: null` drops the whole line;
 * `message.content` must be an array of objects whose `text`, if any, is a string). The record
 * `type` is not checked. Lines that fail bill nothing, in ccusage and here.
 */
export function billableUsage(j: Json): { usage: TokenUsage; messageId: string | undefined; requestId: string | undefined } | null {
  const ts = j.timestamp;
  if (typeof ts !== 'string' || !ISO_TS.test(ts) || !Number.isFinite(Date.parse(ts))) return null;
  if (!opt(j, 'cwd', (v) => typeof v === 'string')) return null;
  if (!opt(j, 'sessionId', isNonEmptyStr)) return null;
  if (!opt(j, 'version', (v) => typeof v === 'string' && VERSION.test(v))) return null;
  if (!opt(j, 'costUSD', isNum)) return null;
  if (!opt(j, 'requestId', isNonEmptyStr)) return null;
  if (!opt(j, 'isApiErrorMessage', (v) => typeof v === 'boolean')) return null;
  const m = j.message;
  if (!isObj(m) || !('usage' in m)) return null;
  const u = m.usage;
  if (!isObj(u) || !('input_tokens' in u) || !('output_tokens' in u)) return null;
  if (!isNum(u.input_tokens) || !isNum(u.output_tokens)) return null;
  if (!opt(u, 'cache_creation_input_tokens', isNum) || !opt(u, 'cache_read_input_tokens', isNum)) return null;
  if (!opt(u, 'speed', (v) => v === 'standard' || v === 'fast')) return null;
  if (!opt(m, 'model', isNonEmptyStr) || !opt(m, 'id', isNonEmptyStr)) return null;
  if (
    !opt(m, 'content', (c) => Array.isArray(c) && c.every((it) => isObj(it) && opt(it, 'text', (t) => typeof t === 'string')))
  )
    return null;
  const input = u.input_tokens;
  const output = u.output_tokens;
  const cacheCreation = 'cache_creation_input_tokens' in u ? (u.cache_creation_input_tokens as number) : 0;
  const cacheRead = 'cache_read_input_tokens' in u ? (u.cache_read_input_tokens as number) : 0;
  return {
    usage: {
      inputTokens: input,
      outputTokens: output,
      cacheCreationTokens: cacheCreation,
      cacheReadTokens: cacheRead,
      reasoningTokens: 0,
      totalTokens: input + output + cacheCreation + cacheRead,
    },
    messageId: m.id as string | undefined,
    requestId: j.requestId as string | undefined,
  };
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
export class ClaudeParser implements FileParser {
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
    try {
      const ev = this.toEvent(j);
      if (ev) return [ev];
      return typeof j.type === 'string' ? [] : null;
    } catch {
      // A shape we did not foresee must cost one line, never the ingest.
      return null;
    }
  }

  private toEvent(j: Json): EventRecord | null {
    const billed = billableUsage(j);
    const kind: EventKind | undefined = KINDS.get(j.type) ?? (billed ? 'usage' : undefined);
    if (!kind) return null;

    const ts = normalizeTs(j.timestamp);
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
      // Kept for pricing: ccusage prefers a logged costUSD, and fast mode / 1h cache writes price differently.
      if (typeof j.costUSD === 'number' && Number.isFinite(j.costUSD)) extra.costUSD = j.costUSD;
      const u = msg!.usage as Json;
      if (u.speed === 'fast') extra.speed = 'fast';
      const cc = u.cache_creation;
      if (isObj(cc) && typeof cc.ephemeral_1h_input_tokens === 'number' && cc.ephemeral_1h_input_tokens > 0) {
        extra.cache1hTokens = cc.ephemeral_1h_input_tokens;
      }
    }
    const joined = sink.parts.join('\n');
    const { text, truncated } = capUtf8(joined);
    if (truncated) extra.truncated = true;

    let usageKey: string | null = null;
    if (billed) {
      // ccusage dedupes on message.id:requestId; a line lacking either is billed every time it is
      // seen, which for us means once per event identity.
      usageKey = billed.messageId && billed.requestId ? `${billed.messageId}:${billed.requestId}` : `uid:${uid}`;
    }
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
