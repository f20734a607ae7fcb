import type { FileParser, ParserState, SourceFile } from '../adapters/types.js';
import type { EventRecord } from '../model/event.js';
import { readBuffer, readLines, type FileDone, type LineTask } from './read-lines.js';

/**
 * Log files read into batches of events, in file order: what the store's writer consumes. The
 * same generator runs on ingest's reader thread (read-worker.ts) and, for small runs, here.
 */
export interface ReadBatch {
  events: EventRecord[];
  /** Files read to where this run stops; each comes in the batch with its last events, or later. */
  done: FileDone[];
  /** Set on the stream's last batch. */
  last?: true;
}

/** Events per batch: small enough to keep the reader a few batches ahead in little memory. */
const BATCH_EVENTS = 1_000;
/**
 * Files per batch across a thread: a message per small file would cost more than reading it.
 * Read here, every file is its own batch (nothing to save), so progress and commits follow the files.
 */
export const THREAD_BATCH_FILES = 100;

type ParserFor = (file: SourceFile, state: ParserState | null) => FileParser;

/** Reads the files in order, handing each batch to `sink` as soon as it is full (a big file spans many). */
export function readBatches(tasks: LineTask[], parserFor: ParserFor, sink: (batch: ReadBatch) => void, filesPerBatch = 1): void {
  const buf = readBuffer();
  let batch: ReadBatch = { events: [], done: [] };
  const send = () => {
    sink(batch);
    batch = { events: [], done: [] };
  };
  for (const task of tasks) {
    const file: SourceFile = { provider: task.provider, path: task.path, root: task.root };
    const parse = (state: ParserState | null) => parserFor(file, state);
    const done = readLines(task, parse, (events) => {
      for (const e of events) batch.events.push(e);
      if (batch.events.length >= BATCH_EVENTS) send();
    }, buf);
    batch.done.push(done);
    if (batch.events.length >= BATCH_EVENTS || batch.done.length >= filesPerBatch) send();
  }
  batch.last = true;
  sink(batch);
}
