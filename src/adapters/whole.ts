import { readFileSync, statSync } from 'node:fs';
import type { EventRecord } from '../model/event.js';
import type { SourceReader } from './types.js';

/**
 * Sources read whole rather than as appended lines: what changed is told by the stamps of
 * their files, and a JSON document is re-read from the start when its stamp changes.
 */

/**
 * Size and mtime of each path: equal stamps mean nothing was written. A missing file and an
 * empty one stamp alike ('-'): opening a database whose WAL was checkpointed away, even
 * read-only, may leave an empty WAL behind, which is not a change.
 */
export function stampOf(paths: string[]): string {
  return paths
    .map((p) => {
      try {
        const st = statSync(p);
        return st.size === 0 ? '-' : `${st.size}:${Math.trunc(st.mtimeMs)}`;
      } catch {
        return '-';
      }
    })
    .join('|');
}

/**
 * A file the agent rewrites whole (one JSON document), as a reader: stamped by its size and
 * mtime, parsed from the start each time it changes. Its events keep their identities, so a
 * re-read updates only what changed. A document that is not JSON (caught mid-write), or that
 * `parse` rejects (null, or a thrown error such as an impossible token count), is one
 * malformed record until the file changes: the stamp is taken before the read, so the write
 * that completes it changes the stamp and the document is read again then, not every run.
 */
export function documentReader(path: string, parse: (doc: unknown) => EventRecord[] | null): SourceReader {
  return {
    stamp: () => stampOf([path]),
    read: () => {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (err) {
        return { events: [], cursor: {}, records: 0, malformed: 0, unreadable: (err as Error).message };
      }
      if (text.trim() === '') return { events: [], cursor: {}, records: 1, malformed: 0 };
      let doc: unknown;
      try {
        doc = JSON.parse(text);
      } catch {
        return { events: [], cursor: {}, records: 1, malformed: 1 };
      }
      let events: EventRecord[] | null;
      try {
        events = parse(doc);
      } catch {
        events = null;
      }
      return { events: events ?? [], cursor: {}, records: 1, malformed: events ? 0 : 1 };
    },
  };
}
