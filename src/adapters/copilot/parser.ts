/**
 * GitHub Copilot CLI session log parser (`~/.copilot/session-state/<session>/events.jsonl`).
 *
 * Every line is an event envelope `{type, id, parentId, timestamp, data, agentId?, ephemeral?}`
 * (schema: github/copilot-sdk `nodejs/src/generated/session-events.ts`). What each becomes:
 *
 * | record                                  | kind                                              |
 * |-----------------------------------------|---------------------------------------------------|
 * | `user.message`                          | `user` (`data.content`); `system` when Copilot injected it (`data.source` set, e.g. a skill) |
 * | `assistant.message`                     | `assistant` (`data.content`, model `data.model`)  |
 * | `assistant.reasoning`                   | `reasoning` (`data.content`)                      |
 * | `tool.execution_start`                  | `tool_call` (`data.arguments` as JSON; extra `name`, `callId`) |
 * | `tool.execution_complete`               | `tool_result` (`data.result.content`, extra `toolError` when not `success`) |
 * | `session.shutdown`                      | one `usage` event per model of `data.modelMetrics` with new usage; a `system` event when none |
 * | `session.error`, `session.info`, `session.warning` | `system` (`data.message`)              |
 * | any other typed event                   | `meta`                                            |
 * | not JSON, not an object, no `type`      | malformed (`null`)                                |
 *
 * Identity: record = the event's own `id` (a shutdown's usage: `id#model`); session = the
 * folder name (Copilot names it by `session.start.data.sessionId`); project = the slug of
 * `session.start.data.context.cwd` (`unknown` until a start event is read).
 *
 * Usage. Copilot writes no per-call usage (`assistant.usage` is ephemeral, never on disk):
 * the only persisted usage is each `session.shutdown`'s `modelMetrics[model].usage`, running
 * totals over the session. A file with several shutdowns (a session resumed) is billed by
 * differences: each shutdown bills, per model, what its totals add to the previous
 * shutdown's. When any counter of any model is lower than before (or a model is gone), the
 * counters were reset: that shutdown is billed whole, never as negative usage. Mapping
 * (`inputTokens` includes cache reads and writes): inputTokens = max(input − cacheRead −
 * cacheWrite, 0), cacheReadTokens = cacheRead, cacheCreationTokens = cacheWrite, outputTokens
 * = output, reasoningTokens = reasoning (informational: Copilot's output total already holds
 * it), totalTokens = input + output. The usage event is dated by its shutdown, and its key is
 * its uid (each delta billed once, the same on every device).
 *
 * Logged cost: the difference of `requests.cost` (premium requests) and `totalNanoAiu` (AI
 * credits, 10⁹ nano-AIU = 1 AIU) per model goes in `extra.loggedCost` as `{premiumRequests,
 * nanoAiu}` when non-zero: Copilot's own measure, in its own units.
 *
 * Subagents: events with `agentId` are `sidechain`, with `agent` = that id.
 */
import { basename, dirname } from 'node:path';
import { eventUid, normalizeTs, slugFromPath } from '../../model/identity.js';
import { capText, extraJson, fileParser, isObj, jsonText, num, str, type Obj } from '../json.js';
import type { EventKind, EventRecord, TokenUsage } from '../../model/event.js';
import type { FileParser, ParserState, SourceFile } from '../types.js';

const UNKNOWN_PROJECT = 'unknown';

interface Totals {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  reasoning: number;
  premium: number;
  nanoAiu: number;
}

interface CopilotState {
  v: 1;
  session: string;
  slug: string;
  cwd: string | null;
  model: string | null;
  /** Per model, the totals of the last shutdown read. */
  totals: Record<string, Totals>;
}

const FIELDS = ['input', 'output', 'cacheRead', 'cacheWrite', 'reasoning', 'premium', 'nanoAiu'] as const;

function readTotals(m: unknown): Totals | null {
  if (!isObj(m)) return null;
  const u = isObj(m.usage) ? m.usage : {};
  const req = isObj(m.requests) ? m.requests : {};
  return {
    input: num(u.inputTokens),
    output: num(u.outputTokens),
    cacheRead: num(u.cacheReadTokens),
    cacheWrite: num(u.cacheWriteTokens),
    reasoning: num(u.reasoningTokens),
    premium: typeof req.cost === 'number' && req.cost > 0 ? req.cost : 0,
    nanoAiu: num(m.totalNanoAiu),
  };
}

/** Session id of a log: its folder's name. */
function copilotSessionId(path: string): string {
  return basename(dirname(path));
}

/**
 * What one shutdown adds, per model: the difference to the previous shutdown, or the whole
 * snapshot when a counter went down (a reset). Exported for tests of the rule alone.
 */
export function shutdownDeltas(before: Record<string, Totals>, now: Record<string, Totals>): { deltas: Record<string, Totals>; reset: boolean } {
  const reset =
    Object.keys(before).some((m) => !(m in now)) ||
    Object.entries(now).some(([m, t]) => before[m] && FIELDS.some((f) => t[f] < before[m][f]));
  const deltas: Record<string, Totals> = {};
  for (const [m, t] of Object.entries(now)) {
    const b = reset ? undefined : before[m];
    const d = Object.fromEntries(FIELDS.map((f) => [f, b ? t[f] - b[f] : t[f]])) as unknown as Totals;
    if (FIELDS.some((f) => d[f] > 0)) deltas[m] = d;
  }
  return { deltas, reset };
}

function toUsage(d: Totals): TokenUsage {
  return {
    inputTokens: Math.max(0, d.input - d.cacheRead - d.cacheWrite),
    outputTokens: d.output,
    cacheCreationTokens: d.cacheWrite,
    cacheReadTokens: d.cacheRead,
    reasoningTokens: d.reasoning,
    totalTokens: d.input + d.output,
  };
}

function restore(s: ParserState | null, file: SourceFile): CopilotState {
  if (s && s.v === 1 && isObj(s.totals)) return s as unknown as CopilotState;
  return { v: 1, session: copilotSessionId(file.path), slug: UNKNOWN_PROJECT, cwd: null, model: null, totals: {} };
}

interface Draft {
  kind: EventKind;
  text: string | null;
  model: string | null;
  extra: Obj;
}

/** A stateful parser for one `events.jsonl`; see the file comment for the mapping. */
export function createCopilotParser(file: SourceFile, saved: ParserState | null): FileParser {
  const st = restore(saved, file);

  const event = (record: string, ts: string, d: Draft, agentId: string | null, usage?: TokenUsage): EventRecord => {
    const uid = eventUid('copilot', st.session, record);
    return {
      uid, provider: 'copilot', project: st.slug, projectPath: st.cwd, session: st.session, record, ts,
      kind: d.kind, model: d.model, sidechain: agentId !== null, agent: agentId,
      usageKey: usage ? uid : null, usage: usage ?? null, text: capText(d.text), extra: extraJson(d.extra),
    };
  };

  const shutdown = (id: string, ts: string, data: Obj): EventRecord[] => {
    const now: Record<string, Totals> = {};
    if (isObj(data.modelMetrics)) {
      for (const [m, v] of Object.entries(data.modelMetrics)) {
        const t = readTotals(v);
        if (t) now[m] = t;
      }
    }
    const { deltas, reset } = shutdownDeltas(st.totals, now);
    st.totals = now;
    const base = { type: 'session.shutdown', shutdownType: str(data.shutdownType), reset: reset || null };
    const out = Object.entries(deltas).map(([model, d]) => {
      const loggedCost = d.premium > 0 || d.nanoAiu > 0 ? { premiumRequests: d.premium || null, nanoAiu: d.nanoAiu || null } : null;
      return event(`${id}#${model}`, ts, { kind: 'usage', text: null, model, extra: { ...base, loggedCost: loggedCost && JSON.parse(extraJson(loggedCost)!) } }, null, toUsage(d));
    });
    if (out.length === 0) out.push(event(id, ts, { kind: 'system', text: str(data.errorReason), model: str(data.currentModel), extra: base }, null));
    return out;
  };

  const classify = (type: string, data: Obj): Draft => {
    switch (type) {
      case 'session.start':
      case 'session.resume': {
        const ctx = isObj(data.context) ? data.context : {};
        const cwd = str(ctx.cwd);
        if (cwd && st.cwd === null) {
          st.cwd = cwd;
          st.slug = slugFromPath(cwd);
        }
        const model = str(data.selectedModel);
        if (model) st.model = model;
        return { kind: 'meta', text: null, model, extra: { type, version: str(data.copilotVersion), repository: str(ctx.repository) } };
      }
      case 'session.model_change': {
        const model = str(data.newModel) ?? str(data.model);
        if (model) st.model = model;
        return { kind: 'meta', text: null, model, extra: { type } };
      }
      case 'user.message': {
        const source = str(data.source);
        return { kind: source ? 'system' : 'user', text: str(data.content), model: null, extra: { type, source } };
      }
      case 'assistant.message':
        return { kind: 'assistant', text: str(data.content), model: str(data.model) ?? st.model, extra: { type, messageId: str(data.messageId) } };
      case 'assistant.reasoning':
        return { kind: 'reasoning', text: str(data.content), model: st.model, extra: { type } };
      case 'tool.execution_start':
        return {
          kind: 'tool_call', text: jsonText(data.arguments), model: str(data.model) ?? st.model,
          extra: { type, name: str(data.toolName), callId: str(data.toolCallId) },
        };
      case 'tool.execution_complete': {
        const result = isObj(data.result) ? data.result : {};
        const error = isObj(data.error) ? str(data.error.message) : null;
        return {
          kind: 'tool_result', text: str(result.content) ?? error, model: null,
          extra: { type, callId: str(data.toolCallId), toolError: data.success === false ? true : null },
        };
      }
      case 'session.error':
      case 'session.info':
      case 'session.warning':
        return { kind: 'system', text: str(data.message), model: null, extra: { type } };
      default:
        return { kind: 'meta', text: null, model: null, extra: { type } };
    }
  };

  const line = (text: string): EventRecord[] | null => {
    const o: unknown = JSON.parse(text);
    if (!isObj(o) || typeof o.type !== 'string') return null;
    const data = isObj(o.data) ? o.data : {};
    const ts = normalizeTs(o.timestamp);
    const id = str(o.id);
    // Without its own id an event has no stable identity; Copilot always writes one.
    if (id === null) return null;
    if (o.type === 'session.shutdown') return shutdown(id, ts, data);
    return [event(id, ts, classify(o.type, data), str(o.agentId))];
  };

  return fileParser(line, st);
}
