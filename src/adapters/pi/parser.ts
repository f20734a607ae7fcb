/**
 * pi session parser (`<root>/--<cwd>--/<timestamp>_<uuid>.jsonl`; the same files under its
 * forks' roots). Schema: badlogic/pi-mono `packages/coding-agent/src/core/session-manager.ts`
 * (entries) and `packages/ai/src/types.ts` (messages, usage). One line gives one event.
 *
 * | line                                                   | kind          |
 * |--------------------------------------------------------|---------------|
 * | `session` header (first line)                          | `meta` (fixes session and project) |
 * | `message`, role `user`                                 | `user`        |
 * | `message`, role `assistant`                            | `assistant` (usage, model, logged cost) |
 * | `message`, role `toolResult`                           | `tool_result` |
 * | `message`, role `bashExecution` (a `!` command)        | `tool_call` (command and output) |
 * | `message`, role `branchSummary` / `compactionSummary`  | `summary`     |
 * | `message`, role `custom` (an extension's message)      | `system`      |
 * | `compaction`, `branch_summary`                         | `summary`     |
 * | `model_change`, `thinking_level_change`, `label`, `session_info`, `custom`, `custom_message`, other typed entries | `meta` |
 * | not JSON, not an object, or no `type`                  | malformed (`null`) |
 *
 * Identity: session = the header's `id` (else the file name after its first `_`), project =
 * slugFromPath(header `cwd`), else the project folder's name. Entries of version 2 and 3
 * have an 8-hex `id`: record = that id. The header and version 1 entries (no ids) take
 * derivedRecordId('pi', slug, session, ts, ordinal), ordinal = earlier such lines of the file
 * with the same timestamp, as Codex does.
 *
 * Usage (pi-ai's `Usage`, written once per reply): `input` is uncached input (pi subtracts
 * OpenAI's cached tokens), `output` already includes any reasoning (pi adds Gemini's thoughts
 * into it and does not split them), `cacheRead`, `cacheWrite`; totalTokens = the sum of the
 * four, which is pi's `totalTokens` (version 1 files have none); a logged total that differs is
 * kept in `extra.logTotal`, not billed. reasoningTokens = 0: pi does not say.
 * A reply with all zeros (aborted before the first token) has no usage.
 *
 * Billing key. pi copies entries into a new file when the user branches a session off
 * (`/tree` → new session, `parentSession` in the header): the copied replies are the same
 * calls, billed once. So usageKey is not per session: 'pi:' + a hash of the project, the
 * reply's own millisecond `timestamp`, provider, model and its four counts, which a copy
 * keeps and two different calls never share in practice.
 *
 * Cost: pi logs its USD cost per reply (`usage.cost.total`); it is kept in `extra.loggedCost.usd`.
 */
import { createHash } from 'node:crypto';
import { derivedRecordId, eventUid, normalizeTs, slugFromPath } from '../../model/identity.js';
import { capText, extraJson, fileParser, isObj, num, str, type Obj } from '../json.js';
import type { EventKind, EventRecord, TokenUsage } from '../../model/event.js';
import type { FileParser, ParserState, SourceFile } from '../types.js';
import { projectDirOf, sessionIdFromFileName } from './paths.js';

type PiState = {
  v: 1;
  ready: boolean;
  session: string;
  slug: string;
  cwd: string | null;
  /** Lines without an id seen per timestamp, for their record ordinals. */
  ord: Record<string, number>;
};

function restore(s: ParserState | null): PiState {
  const fresh: PiState = { v: 1, ready: false, session: '', slug: '', cwd: null, ord: {} };
  return s && s.v === 1 && isObj(s.ord) ? { ...fresh, ...(s as unknown as PiState) } : fresh;
}

/** Text blocks of a content (a string, or `{type:"text", text}` blocks; images and thinking skipped). */
function contentText(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (!Array.isArray(v)) return null;
  const parts = v.filter((c) => isObj(c) && c.type === 'text' && typeof c.text === 'string').map((c) => (c as Obj).text as string);
  return parts.length ? parts.join('\n') : null;
}

function piUsage(u: unknown): TokenUsage | null {
  if (!isObj(u)) return null;
  const input = num(u.input);
  const output = num(u.output);
  const read = num(u.cacheRead);
  const write = num(u.cacheWrite);
  const sum = input + output + read + write;
  if (sum === 0) return null;
  return { inputTokens: input, outputTokens: output, cacheCreationTokens: write, cacheReadTokens: read, reasoningTokens: 0, totalTokens: sum };
}

/** pi's own `totalTokens` when its parts do not add up to it (kept beside, not billed). */
function logTotal(u: unknown, usage: TokenUsage | null): number | null {
  if (!isObj(u) || !usage) return null;
  const t = num(u.totalTokens);
  return t > 0 && t !== usage.totalTokens ? t : null;
}

function loggedUsd(u: unknown): { usd: number } | null {
  if (!isObj(u) || !isObj(u.cost)) return null;
  const t = u.cost.total;
  return typeof t === 'number' && Number.isFinite(t) ? { usd: t } : null;
}

function billingKey(slug: string, m: Obj, u: TokenUsage): string {
  const parts = [slug, typeof m.timestamp === 'string' || typeof m.timestamp === 'number' ? String(m.timestamp) : '', str(m.provider) ?? '', str(m.model) ?? '', u.inputTokens, u.outputTokens, u.cacheReadTokens, u.cacheCreationTokens];
  return 'pi:' + createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);
}

interface Draft {
  kind: EventKind;
  text: string | null;
  extra: Obj;
  model?: string | null;
  usage?: TokenUsage | null;
  usageKey?: string | null;
}

function message(m: Obj, slug: string): Draft {
  const role = str(m.role) ?? 'unknown';
  switch (role) {
    case 'user':
      return { kind: 'user', text: contentText(m.content), extra: { role } };
    case 'assistant': {
      const usage = piUsage(m.usage);
      const tools = Array.isArray(m.content)
        ? m.content.filter((c) => isObj(c) && c.type === 'toolCall').map((c) => str((c as Obj).name)).filter((n) => n !== null)
        : [];
      return {
        kind: 'assistant', text: contentText(m.content), model: str(m.model), usage,
        usageKey: usage ? billingKey(slug, m, usage) : null,
        extra: { role, provider: str(m.provider), api: str(m.api), loggedCost: loggedUsd(m.usage), logTotal: logTotal(m.usage, usage), stopReason: str(m.stopReason), error: str(m.errorMessage), tools: tools.length ? tools : null },
      };
    }
    case 'toolResult':
      return { kind: 'tool_result', text: contentText(m.content), extra: { role, name: str(m.toolName), callId: str(m.toolCallId), isError: m.isError === true ? true : null } };
    case 'bashExecution': {
      const text = [str(m.command), str(m.output)].filter((s) => s !== null).join('\n');
      return { kind: 'tool_call', text: text || null, extra: { role, name: 'bash', exitCode: typeof m.exitCode === 'number' ? m.exitCode : null } };
    }
    case 'branchSummary':
    case 'compactionSummary':
      return { kind: 'summary', text: str(m.summary), extra: { role } };
    default:
      return { kind: 'system', text: contentText(m.content), extra: { role, customType: str(m.customType) } };
  }
}

function entry(type: string, o: Obj, slug: string): Draft {
  switch (type) {
    case 'message':
      return isObj(o.message) ? message(o.message, slug) : { kind: 'meta', text: null, extra: { type } };
    case 'compaction':
    case 'branch_summary':
      return { kind: 'summary', text: str(o.summary), extra: { type } };
    case 'model_change':
      return { kind: 'meta', text: null, extra: { type, provider: str(o.provider), model: str(o.modelId) } };
    default:
      return { kind: 'meta', text: null, extra: { type } };
  }
}

export function createPiParser(file: SourceFile, saved: ParserState | null): FileParser {
  const st = restore(saved);
  const fix = (header: Obj | null) => {
    st.session = str(header?.id) ?? sessionIdFromFileName(file.path);
    st.cwd = str(header?.cwd);
    st.slug = slugFromPath(st.cwd ?? projectDirOf(file.path));
    st.ready = true;
  };
  const line = (text: string): EventRecord[] | null => {
    let o: unknown;
    try {
      o = JSON.parse(text);
    } catch {
      return null;
    }
    if (!isObj(o)) return null;
    const type = str(o.type);
    if (!type) return null;
    if (!st.ready) fix(type === 'session' ? o : null);
    const ts = normalizeTs(o.timestamp) || (isObj(o.message) ? normalizeTs(o.message.timestamp) : '');
    // Ordinals only for lines without an id of their own (the header, version-1 entries): the state stays small.
    const own = type !== 'session' ? str(o.id) : null;
    let record: string;
    if (own) record = own;
    else {
      const n = st.ord[ts] ?? 0;
      st.ord[ts] = n + 1;
      record = derivedRecordId('pi', st.slug, st.session, ts, n);
    }
    const d: Draft = type === 'session'
      ? { kind: 'meta', text: null, extra: { type, version: typeof o.version === 'number' ? o.version : 1, cwd: str(o.cwd), parentSession: str(o.parentSession), provider: str(o.provider), model: str(o.modelId) } }
      : entry(type, o, st.slug);
    return [{
      uid: eventUid('pi', st.session, record),
      provider: 'pi',
      project: st.slug,
      projectPath: st.cwd,
      session: st.session,
      record,
      ts,
      kind: d.kind,
      model: d.model ?? null,
      sidechain: false,
      agent: null,
      usageKey: d.usageKey ?? null,
      usage: d.usage ?? null,
      text: capText(d.text),
      extra: extraJson(d.extra),
    }];
  };
  return fileParser(line, st);
}
