/**
 * One OpenCode message (its info JSON and its parts) as one event. The same shape is stored in
 * the database's `message.data` (without `id`/`sessionID`, which are columns there) and in the
 * older `storage/message/<session>/msg_<id>.json` files, so both sources map through here.
 *
 * | message                     | kind        |
 * |-----------------------------|-------------|
 * | `role: "user"`              | `user` (text = its text parts, synthetic and ignored ones left out) |
 * | `role: "assistant"`         | `assistant` (text = its text parts; usage from `tokens`) |
 * | any other role              | `system`    |
 *
 * Identity: record = the message id (`msg_…`), uid = eventUid('opencode', session, id): the
 * same message read from the database and from a legacy file is one event, and a message
 * OpenCode rewrites (it updates a row as a reply streams, and once more with the final
 * tokens) stays one event whose usage is the last one written. usageKey = uid.
 *
 * Tokens (OpenCode's getUsage already split them): `input` is uncached input, `cache.read` and
 * `cache.write` the cached parts, `output` excludes `reasoning`. Reasoning is billed as output,
 * so outputTokens = output + reasoning and reasoningTokens = reasoning (reported beside, as for
 * Codex). totalTokens = the sum of the five, which is OpenCode's `tokens.total` when it logged
 * one (its getUsage builds it from the same parts); a logged total that differs is kept in
 * `extra.logTotal`, not billed. All zero (a reply still streaming, or one that failed before any token) is no usage.
 *
 * Sub-agents: a session with a parent (`session.parent_id`, legacy `parentID`) is a sub-agent
 * session. Its events have sidechain = true, agent = the message's `agent` (older: `mode`), and
 * `extra.parent` = the parent session id.
 *
 * `extra.loggedCost.usd`: the USD cost OpenCode logged for a reply (0 when it had no price for the model).
 */
import { eventUid, normalizeTs, slugFromPath } from '../../model/identity.js';
import { capText, extraJson, isObj, num, str, type Obj } from '../json.js';
import { BadTokenCount } from '../tokens.js';
import type { EventKind, EventRecord, TokenUsage } from '../../model/event.js';

/** What a message needs from its session. */
export interface SessionInfo {
  directory: string | null;
  parent: string | null;
}

const UNKNOWN_PROJECT = 'unknown';

function usageOf(tokens: unknown): TokenUsage | null {
  if (!isObj(tokens)) return null;
  const cache = isObj(tokens.cache) ? tokens.cache : {};
  const input = num(tokens.input);
  const output = num(tokens.output);
  const reasoning = num(tokens.reasoning);
  const read = num(cache.read);
  const write = num(cache.write);
  const sum = input + output + reasoning + read + write;
  if (sum === 0) return null;
  return {
    inputTokens: input,
    outputTokens: output + reasoning,
    cacheCreationTokens: write,
    cacheReadTokens: read,
    reasoningTokens: reasoning,
    totalTokens: sum,
  };
}

/** OpenCode's own `tokens.total` when its parts do not add up to it (kept beside, not billed). */
function logTotal(tokens: unknown, u: TokenUsage | null): number | null {
  if (!isObj(tokens) || !u) return null;
  const t = num(tokens.total);
  return t > 0 && t !== u.totalTokens ? t : null;
}

function partsText(parts: Obj[], role: string | null): string | null {
  const texts: string[] = [];
  for (const p of parts) {
    if (p.type !== 'text' || typeof p.text !== 'string') continue;
    if (role === 'user' && (p.synthetic === true || p.ignored === true)) continue;
    texts.push(p.text);
  }
  return texts.length ? texts.join('\n') : null;
}

function toolNames(parts: Obj[]): string[] | null {
  const names = parts.filter((p) => p.type === 'tool').map((p) => str(p.tool)).filter((n): n is string => n !== null);
  return names.length ? names : null;
}

/**
 * The event for one message, or null when it is not one (no id or session to name it by).
 * `ids` are the database columns that the stored JSON leaves out.
 */
export function messageEvent(info: unknown, parts: Obj[], session: SessionInfo | undefined, ids: { id?: string; session?: string } = {}): EventRecord | null {
  if (!isObj(info)) return null;
  const id = ids.id ?? str(info.id);
  const sessionId = ids.session ?? str(info.sessionID);
  if (!id || !sessionId) return null;
  const role = str(info.role);
  const time = isObj(info.time) ? info.time : {};
  const path = isObj(info.path) ? info.path : {};
  const cwd = str(path.cwd) ?? session?.directory ?? null;
  const parent = session?.parent ?? null;
  const kind: EventKind = role === 'user' ? 'user' : role === 'assistant' ? 'assistant' : 'system';
  let usage: TokenUsage | null;
  let loggedTotal: number | null;
  try {
    usage = kind === 'assistant' ? usageOf(info.tokens) : null;
    loggedTotal = logTotal(info.tokens, usage);
  } catch (err) {
    // An impossible token count makes the message malformed (tokens.ts), never a number.
    if (err instanceof BadTokenCount) return null;
    throw err;
  }
  const uid = eventUid('opencode', sessionId, id);
  const error = isObj(info.error) ? str(info.error.name) : null;
  return {
    uid,
    provider: 'opencode',
    project: cwd ? slugFromPath(cwd) : UNKNOWN_PROJECT,
    projectPath: cwd,
    session: sessionId,
    record: id,
    ts: normalizeTs(time.created),
    kind,
    model: kind === 'assistant' ? str(info.modelID) : null,
    sidechain: parent !== null,
    agent: parent !== null ? (str(info.agent) ?? str(info.mode) ?? 'subagent') : null,
    usageKey: usage ? uid : null,
    usage,
    text: capText(partsText(parts, role)),
    extra: extraJson({
      role: kind === 'system' ? role : null,
      provider: str(info.providerID),
      agent: str(info.agent) ?? str(info.mode),
      parent,
      loggedCost: kind === 'assistant' && typeof info.cost === 'number' && Number.isFinite(info.cost) ? { usd: info.cost } : null,
      logTotal: loggedTotal,
      finish: str(info.finish),
      error,
      summary: info.summary === true ? true : null,
      tools: toolNames(parts),
    }),
  };
}

/**
 * A row of the newer `session_message` table (`@opencode-ai/core` session-message.ts: the
 * message type in its own column, the content inline instead of in parts) in the shape above.
 * Null for data that is not an object.
 */
export function fromSessionMessage(type: string | null, data: unknown): { info: Obj; parts: Obj[] } | null {
  if (!isObj(data)) return null;
  const time = isObj(data.time) ? { created: data.time.created } : {};
  if (type === 'assistant') {
    const model = isObj(data.model) ? data.model : {};
    const parts = (Array.isArray(data.content) ? data.content : []).filter(isObj).map((c): Obj =>
      c.type === 'tool' ? { type: 'tool', tool: c.name } : c,
    );
    return {
      info: {
        role: 'assistant', time, agent: data.agent, modelID: str(model.id) ?? str(model.modelID), providerID: str(model.providerID),
        cost: data.cost, tokens: data.tokens, finish: data.finish, error: data.error,
      },
      parts,
    };
  }
  if (type === 'user') return { info: { role: 'user', time }, parts: typeof data.text === 'string' ? [{ type: 'text', text: data.text }] : [] };
  // Shell commands, compaction summaries, synthetic text, agent and model switches: context, not prompts.
  const text = str(data.command) ?? str(data.summary) ?? str(data.text);
  return { info: { role: type ?? 'unknown', time }, parts: text ? [{ type: 'text', text }] : [] };
}
