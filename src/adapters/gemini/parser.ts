/**
 * Gemini CLI chat recording parser (`~/.gemini/tmp/<project>/chats/session-*.jsonl`, subagents
 * in `chats/<parent session>/<session>.jsonl`, and the older whole-file `session-*.json`).
 * Schema: google-gemini/gemini-cli `packages/core/src/services/chatRecordingTypes.ts`, written
 * by `chatRecordingService.ts`.
 *
 * JSONL records, and what each becomes:
 *
 * | record                                                | events                                   |
 * |-------------------------------------------------------|------------------------------------------|
 * | metadata `{sessionId, projectHash, startTime, kind…}` | none (fixes the session; `kind: "subagent"` makes it a sidechain) |
 * | message `type: "user"`                                | `user`                                   |
 * | message `type: "gemini"`                              | `assistant` (its `tokens` billed), plus `reasoning` for its `thoughts` and a `tool_call` and a `tool_result` per entry of `toolCalls` |
 * | message `type: "info" / "warning" / "error"`          | `system`                                 |
 * | `{"$set": {…}}`                                       | the messages of a `$set.messages` checkpoint, as above; none otherwise |
 * | `{"$rewindTo": id}`                                   | none: a rewind hides messages from the conversation, it does not un-spend their tokens |
 * | not JSON, not an object, unknown shape                | malformed (`null`)                        |
 *
 * A legacy `.json` file is one `ConversationRecord` (metadata plus `messages`), read whole.
 *
 * Rewrites. The recorder appends a message again, with the same `id`, each time it changes
 * (the first copy often has `tokens: null`). Identities come from the message id (record =
 * `id`, `id#thoughts`, `id#call:<call id>`, `id#result:<call id>`), so every copy is the same
 * event and the last one read wins (the store updates an event whose content changed). A
 * session resumed from a legacy `.json` is copied into a `.jsonl`: same ids, same events.
 *
 * Usage: `tokens {input, output, cached, thoughts, tool, total}` of a `gemini` message, read by
 * {@link geminiUsage} (input includes cached; thoughts are output; tool is input). usageKey =
 * the message's uid: one response billed once, at its last copy. Messages without tokens
 * bill nothing.
 *
 * Project: the folder under `tmp/`. Gemini writes the project's root in its `.project_root`
 * marker there (current versions); when present, project = its slug and projectPath = it,
 * so a project reads the same as in Claude Code and Codex. Otherwise the folder's name (the
 * older SHA-256 of the root) is the project. Session: `sessionId` of the metadata, else the
 * file's stem.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, join, sep } from 'node:path';
import { eventUid, normalizeTs, slugFromPath } from '../../model/identity.js';
import { capText, extraJson, fileParser, isObj, jsonText, num, str, type Obj } from '../json.js';
import type { EventKind, EventRecord, TokenUsage } from '../../model/event.js';
import type { FileParser, ParserState, SourceFile } from '../types.js';
import { geminiUsage, partsText } from './usage.js';

interface GeminiState {
  v: 1;
  session: string;
  startTime: string;
  subagent: boolean;
}

/** Where a chat file sits: its project folder, and the parent session folder of a subagent's file. */
export function geminiFileInfo(path: string): { projectDir: string; project: string; parent: string | null } {
  const parts = path.split(sep);
  const chats = parts.lastIndexOf('chats');
  if (chats < 1) return { projectDir: dirname(path), project: 'unknown', parent: null };
  const projectDir = parts.slice(0, chats).join(sep) || sep;
  return { projectDir, project: parts[chats - 1], parent: parts.length - chats > 2 ? parts[chats + 1] : null };
}

function projectRoot(projectDir: string): string | null {
  try {
    const p = readFileSync(join(projectDir, '.project_root'), 'utf8').trim();
    return p === '' ? null : p;
  } catch {
    return null;
  }
}

function stem(path: string): string {
  return basename(path).replace(/\.jsonl?$/, '');
}

function isMessage(o: Obj): boolean {
  return typeof o.id === 'string' && typeof o.type === 'string';
}

/** A stateful parser for one Gemini CLI chat file; see the file comment for the mapping. */
export function createGeminiParser(file: SourceFile, saved: ParserState | null): FileParser {
  const { record, st } = geminiRecords(file, saved);
  return fileParser((text) => record(JSON.parse(text)), st);
}

/** A legacy `.json` chat (one ConversationRecord) parsed whole: its events, or null when it is not a chat. */
export function geminiDocument(file: SourceFile): (doc: unknown) => EventRecord[] | null {
  return (doc) => geminiRecords(file, null).record(doc);
}

/** The mapping of one chat file's records to events, and the session state it keeps. */
function geminiRecords(file: SourceFile, saved: ParserState | null): { record: (o: unknown) => EventRecord[] | null; st: GeminiState } {
  const info = geminiFileInfo(file.path);
  const root = projectRoot(info.projectDir);
  const slug = root ? slugFromPath(root) : info.project;
  const st: GeminiState =
    saved && saved.v === 1 ? (saved as unknown as GeminiState) : { v: 1, session: stem(file.path), startTime: '', subagent: info.parent !== null };

  const event = (record: string, ts: string, kind: EventKind, text: string | null, model: string | null, extra: Obj, usage?: TokenUsage): EventRecord => {
    const uid = eventUid('gemini', st.session, record);
    return {
      uid, provider: 'gemini', project: slug, projectPath: root, session: st.session, record, ts, kind, model,
      sidechain: st.subagent, agent: st.subagent ? 'subagent' : null,
      usageKey: usage ? uid : null, usage: usage ?? null, text: capText(text), extra: extraJson({ ...extra, parent: info.parent }),
    };
  };

  const metadata = (o: Obj) => {
    const s = str(o.sessionId);
    if (s) st.session = s;
    const t = normalizeTs(o.startTime);
    if (t) st.startTime = t;
    if (o.kind === 'subagent') st.subagent = true;
  };

  const message = (m: Obj): EventRecord[] => {
    const id = m.id as string;
    const type = m.type as string;
    const ts = normalizeTs(m.timestamp) || st.startTime;
    const model = str(m.model);
    if (type === 'user') return [event(id, ts, 'user', partsText(m.displayContent) ?? partsText(m.content), null, { type })];
    if (type !== 'gemini') return [event(id, ts, 'system', partsText(m.content), null, { type })];
    const out: EventRecord[] = [];
    const t = isObj(m.tokens) ? m.tokens : null;
    const billed = t
      ? geminiUsage({ input: num(t.input), output: num(t.output), cached: num(t.cached), thoughts: num(t.thoughts), tool: num(t.tool), total: num(t.total) })
      : null;
    out.push(event(id, ts, 'assistant', partsText(m.content), model, { type, logTotal: billed?.logTotal }, billed?.usage));
    if (Array.isArray(m.thoughts) && m.thoughts.length > 0) {
      const text = m.thoughts
        .filter(isObj)
        .map((th) => [str(th.subject), str(th.description)].filter(Boolean).join(': '))
        .join('\n');
      out.push(event(`${id}#thoughts`, ts, 'reasoning', text, model, { type: 'thoughts' }));
    }
    if (Array.isArray(m.toolCalls)) {
      for (const tc of m.toolCalls.filter(isObj)) {
        const callId = str(tc.id);
        if (!callId) continue;
        const at = normalizeTs(tc.timestamp) || ts;
        out.push(event(`${id}#call:${callId}`, at, 'tool_call', jsonText(tc.args), model, { type: 'toolCall', name: str(tc.name), callId, status: str(tc.status) }));
        const result = partsText(tc.resultDisplay) ?? functionOutput(tc.result);
        if (result !== null || tc.status === 'error') {
          out.push(event(`${id}#result:${callId}`, at, 'tool_result', result, null, { type: 'toolResult', callId, toolError: tc.status === 'error' ? true : null }));
        }
      }
    }
    return out;
  };

  const record = (o: unknown): EventRecord[] | null => {
    if (!isObj(o)) return null;
    if (typeof o.$rewindTo === 'string') return [];
    if (isObj(o.$set)) {
      metadata(o.$set);
      return Array.isArray(o.$set.messages) ? o.$set.messages.filter(isObj).filter(isMessage).flatMap(message) : [];
    }
    if (isMessage(o)) return message(o);
    if (typeof o.sessionId === 'string') {
      // A metadata line, or a whole legacy record (metadata with its messages).
      metadata(o);
      return Array.isArray(o.messages) ? o.messages.filter(isObj).filter(isMessage).flatMap(message) : [];
    }
    return null;
  };

  return { record, st };
}

/** The output of a tool's `functionResponse` parts (`response.output`, else the response as JSON). */
function functionOutput(v: unknown): string | null {
  const parts = Array.isArray(v) ? v : isObj(v) ? [v] : [];
  const out: string[] = [];
  for (const p of parts) {
    if (!isObj(p) || !isObj(p.functionResponse)) continue;
    const r = p.functionResponse.response;
    const text = isObj(r) ? (str(r.output) ?? str(r.error) ?? jsonText(r)) : jsonText(r);
    if (text) out.push(text);
  }
  return out.length ? out.join('\n') : null;
}
