/**
 * Qwen Code session parser (`~/.qwen/projects/<project>/chats/<session>.jsonl`). Schema:
 * QwenLM/qwen-code `packages/core/src/services/chatRecordingService.ts` (`ChatRecord`): one
 * record per line, `{uuid, parentUuid, sessionId, timestamp, type, subtype?, cwd, version,
 * message?: {role, parts}, usageMetadata?, model?, toolCallResult?, systemPayload?, agentId?,
 * agentName?, isSidechain?}`.
 *
 * | record                               | events                                               |
 * |--------------------------------------|------------------------------------------------------|
 * | `type: "user"`                       | `user` (text parts)                                  |
 * | `type: "assistant"`                  | `assistant` (text parts; `usageMetadata` billed), plus `reasoning` for thought parts and a `tool_call` per `functionCall` part |
 * | `type: "tool_result"`                | `tool_result` (`functionResponse` output, or `toolCallResult.resultDisplay`) |
 * | `type: "system"`                     | `system` (e.g. `chat_compression`, `slash_command`, `rewind`): a rewind un-spends nothing |
 * | not JSON, no `uuid` or `type`        | malformed (`null`)                                   |
 *
 * Identity: record = `uuid` (`uuid#thoughts`, `uuid#call:<n>` for the parts of one reply);
 * session = `sessionId`. A record written again with the same uuid (a resume re-recording
 * it) is the same event: the last copy wins. A `/branch` copies records into a new session
 * id: a new session, as Qwen Code shows it.
 *
 * Usage: `usageMetadata` carries the Gemini API's names, `promptTokenCount` including
 * `cachedContentTokenCount`; Qwen Code fills it from OpenAI-style usage, where
 * `completion_tokens` already includes the reasoning it copies to `thoughtsTokenCount`.
 * {@link geminiUsage} tells the two apart by `totalTokenCount`. usageKey = the record's uid.
 *
 * Project: slug of `cwd` (projectPath = cwd); before any record with a cwd, the folder name.
 * Subagents: `isSidechain` records are sidechains with agent = `agentName` or `agentId`.
 */
import { basename, dirname } from 'node:path';
import { eventUid, normalizeTs, slugFromPath } from '../../model/identity.js';
import { capText, extraJson, fileParser, isObj, jsonText, num, str, type Obj } from '../json.js';
import { geminiUsage } from '../gemini/usage.js';
import type { EventKind, EventRecord, TokenUsage } from '../../model/event.js';
import type { FileParser, ParserState, SourceFile } from '../types.js';

/** The project folder of a chat file (`projects/<project>/chats/<file>`). */
function folderProject(path: string): string {
  return basename(dirname(dirname(path)));
}

function parts(message: unknown): Obj[] {
  return isObj(message) && Array.isArray(message.parts) ? message.parts.filter(isObj) : [];
}

function textOf(ps: Obj[], thought: boolean): string | null {
  const t = ps.filter((p) => typeof p.text === 'string' && (p.thought === true) === thought).map((p) => p.text as string);
  return t.length ? t.join('') : null;
}

/** A stateful parser for one Qwen Code chat file; see the file comment for the mapping. */
export function createQwenParser(file: SourceFile, saved: ParserState | null): FileParser {
  const st = saved && saved.v === 1 ? { ...(saved as { v: 1; cwd: string | null }) } : { v: 1 as const, cwd: null as string | null };

  const line = (text: string): EventRecord[] | null => {
    const o: unknown = JSON.parse(text);
    if (!isObj(o)) return null;
    const uuid = str(o.uuid);
    const type = str(o.type);
    if (!uuid || !type) return null;
    const session = str(o.sessionId) ?? basename(file.path).replace(/\.jsonl$/, '');
    const cwd = str(o.cwd);
    if (cwd) st.cwd = cwd;
    const ts = normalizeTs(o.timestamp);
    const model = str(o.model);
    const sidechain = o.isSidechain === true;
    const agent = sidechain ? (str(o.agentName) ?? str(o.agentId) ?? 'subagent') : null;
    const ev = (record: string, kind: EventKind, t: string | null, m: string | null, extra: Obj, usage?: TokenUsage): EventRecord => {
      const uid = eventUid('qwen', session, record);
      return {
        uid, provider: 'qwen', project: st.cwd ? slugFromPath(st.cwd) : folderProject(file.path), projectPath: st.cwd, session, record, ts,
        kind, model: m, sidechain, agent, usageKey: usage ? uid : null, usage: usage ?? null, text: capText(t), extra: extraJson(extra),
      };
    };
    const ps = parts(o.message);
    switch (type) {
      case 'user':
        return [ev(uuid, 'user', textOf(ps, false), null, { type })];
      case 'assistant': {
        const u = isObj(o.usageMetadata) ? o.usageMetadata : null;
        const billed = u
          ? geminiUsage({
              input: num(u.promptTokenCount), output: num(u.candidatesTokenCount), cached: num(u.cachedContentTokenCount),
              thoughts: num(u.thoughtsTokenCount), tool: num(u.toolUsePromptTokenCount), total: num(u.totalTokenCount),
            })
          : null;
        const out = [ev(uuid, 'assistant', textOf(ps, false), model, { type, logTotal: billed?.logTotal }, billed?.usage)];
        const thoughts = textOf(ps, true);
        if (thoughts) out.push(ev(`${uuid}#thoughts`, 'reasoning', thoughts, model, { type: 'thought' }));
        ps.filter((p) => isObj(p.functionCall)).forEach((p, i) => {
          const fc = p.functionCall as Obj;
          out.push(ev(`${uuid}#call:${i}`, 'tool_call', jsonText(fc.args), model, { type: 'functionCall', name: str(fc.name), callId: str(fc.id) }));
        });
        return out;
      }
      case 'tool_result': {
        const r = isObj(o.toolCallResult) ? o.toolCallResult : {};
        const responses = ps.filter((p) => isObj(p.functionResponse)).map((p) => p.functionResponse as Obj);
        const resp = responses.map((fr) => (isObj(fr.response) ? (str(fr.response.output) ?? str(fr.response.error) ?? jsonText(fr.response)) : null)).filter(Boolean);
        const t = resp.length ? resp.join('\n') : typeof r.resultDisplay === 'string' ? r.resultDisplay : null;
        const status = str(r.status);
        return [ev(uuid, 'tool_result', t, null, { type, callId: str(r.callId) ?? str(responses[0]?.id), toolError: status === 'error' || isObj(r.error) ? true : null })];
      }
      case 'system':
        // Most system records carry no text: their subtype (`chat compression`, `rewind`…) says what happened.
        return [ev(uuid, 'system', textOf(ps, false) ?? str(o.subtype)?.replace(/_/g, ' ') ?? null, null, { type, subtype: str(o.subtype) })];
      default:
        return [ev(uuid, 'meta', null, null, { type })];
    }
  };

  return fileParser(line, st);
}
