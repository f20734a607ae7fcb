import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { FileParser, ParserState } from '../adapters/types.js';
import type { EventRecord, Provider } from '../model/event.js';
import { sha256Hex } from '../model/canonical.js';

/** What ingest remembers of a log file between runs (its source_files row). */
export interface FileMark {
  offset: number;
  head_hash: string;
  state: string | null;
  lines: number;
  skipped: number;
}

/** One log file to read from where the last run stopped. */
export interface LineTask {
  provider: Provider;
  path: string;
  root: string;
  /** Its mtime when listed (kept in the row when the file is read to its end). */
  mtimeMs: number;
  /** Bytes it is expected to read (its size beyond the last offset): what divides the work among readers. */
  bytes: number;
  prev: FileMark | null;
}

/** What reading one file gave, apart from its events: the row to record and the run's counts. */
export interface FileDone {
  provider: Provider;
  path: string;
  row: { size: number; mtime_ms: number; offset: number; head_hash: string; state: string; lines: number; skipped: number };
  bytesRead: number;
  /** Lines read this run (a resumed file counts only its new lines). */
  linesRead: number;
  malformed: number;
  rewritten: boolean;
}

const HEAD_BYTES = 4096;
const CHUNK = 4 * 1024 * 1024;

function headHash(fd: number, upTo: number): string {
  const n = Math.min(upTo, HEAD_BYTES);
  const buf = Buffer.alloc(n);
  if (n > 0) readSync(fd, buf, 0, n, 0);
  return sha256Hex(buf);
}

/**
 * Reads one append-only log from where the last run stopped and hands each line's events to
 * `emit`. A grown file with the same head is read from the offset; anything else (shrunk, head
 * changed) from the start. A final line without a newline is consumed only if it parses, else
 * it is left for the next run (a torn write being completed). The same code runs on ingest's
 * reader thread and on the main thread, so both read a file identically.
 */
export function readLines(
  task: LineTask,
  makeParser: (state: ParserState | null) => FileParser,
  emit: (events: EventRecord[]) => void,
  buf: Buffer,
): FileDone {
  const { prev } = task;
  const fd = openSync(task.path, 'r');
  try {
    const size = fstatSync(fd).size;
    let start = 0;
    let state: ParserState | null = null;
    let lines = 0;
    let skipped = 0;
    let rewritten = false;
    if (prev && size >= prev.offset && headHash(fd, prev.offset) === prev.head_hash) {
      start = prev.offset;
      state = prev.state ? (JSON.parse(prev.state) as ParserState) : null;
      lines = prev.lines;
      skipped = prev.skipped;
    } else if (prev) {
      rewritten = true;
    }
    const linesBefore = start > 0 ? lines : 0;
    const parser = makeParser(state);
    let carry = Buffer.alloc(0);
    let pos = start;
    let bytesRead = 0;
    let skippedNow = 0;
    const handle = (lineBuf: Buffer) => {
      const text = lineBuf.toString('utf8').trim();
      lines++;
      if (text === '') return;
      const evs = parser.line(text);
      if (evs === null) {
        skipped++;
        skippedNow++;
        return;
      }
      if (evs.length) emit(evs);
    };
    while (pos < size) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, size - pos), pos);
      if (n <= 0) break;
      pos += n;
      bytesRead += n;
      const data = carry.length ? Buffer.concat([carry, buf.subarray(0, n)]) : buf.subarray(0, n);
      let lineStart = 0;
      let nl: number;
      while ((nl = data.indexOf(10, lineStart)) !== -1) {
        handle(data.subarray(lineStart, nl));
        lineStart = nl + 1;
      }
      carry = Buffer.from(data.subarray(lineStart));
    }
    let offset = pos - carry.length;
    if (carry.length > 0) {
      // A final line without newline: consume it only if it is a complete record.
      let complete = false;
      try {
        JSON.parse(carry.toString('utf8').trim());
        complete = true;
      } catch {
        /* torn: leave it for next time */
      }
      if (complete) {
        handle(carry);
        offset = pos;
      }
    }
    return {
      provider: task.provider,
      path: task.path,
      row: {
        size: offset === size ? size : offset,
        mtime_ms: offset === size ? Math.trunc(task.mtimeMs) : -1,
        offset,
        head_hash: headHash(fd, offset),
        state: JSON.stringify(parser.state()),
        lines,
        skipped,
      },
      bytesRead,
      linesRead: lines - linesBefore,
      malformed: skippedNow,
      rewritten,
    };
  } finally {
    closeSync(fd);
  }
}

/** The read buffer's size: most files are far smaller, and one buffer serves a whole run. */
export function readBuffer(): Buffer {
  return Buffer.allocUnsafe(CHUNK);
}
