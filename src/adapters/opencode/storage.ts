/**
 * OpenCode's file storage from before its database (≈ v1.2), still on disk for many users:
 * `storage/message/<sessionID>/msg_<id>.json` (one message each), its parts in
 * `storage/part/<messageID>/<partID>.json`, and the sessions in
 * `storage/session/<projectID>/<sessionID>.json` (directory, parentID).
 *
 * Each message file is a source of its own, read whole when its size or mtime changes
 * (OpenCode rewrites it as the reply streams and once more with the final tokens). A part
 * file changing alone does not re-read its message: OpenCode writes the message last.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { isObj, str, type Obj } from '../json.js';
import type { SourceReader } from '../types.js';
import { documentReader } from '../whole.js';
import { messageEvent, type SessionInfo } from './message.js';

function list(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Every session file under `storage/session/**`, by session id. */
export function legacySessions(storage: string): Map<string, SessionInfo> {
  const out = new Map<string, SessionInfo>();
  const walk = (dir: string, depth: number) => {
    for (const name of list(dir)) {
      const p = join(dir, name);
      if (name.endsWith('.json')) {
        const s = readJson(p);
        if (!isObj(s)) continue;
        const id = str(s.id) ?? basename(name, '.json');
        out.set(id, { directory: str(s.directory), parent: str(s.parentID) });
      } else if (depth < 2) walk(p, depth + 1);
    }
  };
  walk(join(storage, 'session'), 0);
  return out;
}

/** The message files: `storage/message/<session>/*.json`, sorted. */
export function legacyMessageFiles(storage: string): string[] {
  const dir = join(storage, 'message');
  return list(dir).flatMap((s) => list(join(dir, s)).filter((f) => f.endsWith('.json')).map((f) => join(dir, s, f)));
}

function partsOf(storage: string, messageId: string): Obj[] {
  const dir = join(storage, 'part', messageId);
  return list(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => readJson(join(dir, f)))
    .filter(isObj);
}

/** One legacy message file, read whole when it changes (a file not yet JSON is a write in progress). */
export function legacyMessageReader(storage: string, file: string, sessions: Map<string, SessionInfo>): SourceReader {
  // The folder names the session and the file the message, for files that leave them out.
  const ids = { session: basename(join(file, '..')), id: basename(file, '.json') };
  return documentReader(file, (info) => {
    if (!isObj(info)) return null;
    const own = { id: str(info.id) ?? ids.id, session: str(info.sessionID) ?? ids.session };
    const e = messageEvent(info, partsOf(storage, own.id), sessions.get(own.session), own);
    return e ? [e] : null;
  });
}
