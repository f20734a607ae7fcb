import { SuError } from '../errors.js';
import type { Adapter } from '../adapters/types.js';
import { registeredAdapter } from '../adapters/index.js';
import { startStream } from '../util/worker-stream.js';
import type { ReadBatch } from './batches.js';
import type { LineTask } from './read-lines.js';

// Ingest's reader threads (read-worker.ts), for a big run: loaded by reader.ts only then.

/**
 * Reader threads: two keep the writer busy on two cores (measured in BENCHMARKS.md: reading is
 * the larger half of the work), and more would only compete with it there.
 */
const READERS = 2;
/** Young-generation size of a reader's heap, MiB. */
const READER_YOUNG_MB = 8;
/**
 * Log bytes per run of files handed to one reader: small, so that while the writer takes one
 * reader's run the other is already several runs ahead rather than waiting on its own.
 */
const CHUNK_BYTES = 1024 * 1024;
/**
 * Batches a reader may run ahead of the writer (each ≤ 1,000 events): together the readers hold
 * more than one transaction's worth (ingest's BATCH), so they keep reading while it commits.
 */
const AHEAD = 8;
/** How long the writer waits for one batch before it calls the reader stuck. */
const STALL_MS = 120_000;

/**
 * Whether the reader threads can read for these adapters: they find each file's parser by
 * provider in the registry, so an adapter with a parser of its own (tests) is read on the main thread.
 */
function threadable(adapters: Adapter[]): boolean {
  return adapters.every((a) => registeredAdapter(a.provider)?.parser === a.parser);
}

/** The tasks in runs of about CHUNK_BYTES to read, in order. */
function chunksOf(tasks: LineTask[], chunkBytes: number): LineTask[][] {
  const chunks: LineTask[][] = [];
  let cur: LineTask[] = [];
  let bytes = 0;
  for (const t of tasks) {
    cur.push(t);
    bytes += t.bytes;
    if (bytes >= chunkBytes) {
      chunks.push(cur);
      cur = [];
      bytes = 0;
    }
  }
  if (cur.length) chunks.push(cur);
  return chunks;
}

/**
 * Reads `tasks` in order on the reader threads, handing each batch of events to `sink`; false
 * (nothing read) when the adapters' parsers are not the registry's.
 */
export function readOnThreads(tasks: LineTask[], adapters: Adapter[], sink: (batch: ReadBatch) => void, chunkBytes = CHUNK_BYTES): boolean {
  if (!threadable(adapters)) return false;
  // Files go to the readers in runs of ~CHUNK_BYTES, dealt in turn; this thread takes the runs
  // back in the same turn, so the store sees the files in their order whatever the readers' pace.
  const chunks = chunksOf(tasks, chunkBytes);
  const n = Math.min(READERS, chunks.length);
  const readers = Array.from({ length: n }, (_, k) => {
    const mine = chunks.filter((_, c) => c % n === k);
    let ends = 0;
    return startStream<ReadBatch>(
      {
        from: import.meta.url,
        name: 'read-worker',
        data: { chunks: mine },
        ahead: AHEAD,
        stallMs: STALL_MS,
        // A reader's garbage is short-lived (a line's parse, a batch's copy): a small young
        // generation keeps each thread's heap small (the cold ingest's peak RSS has a budget).
        resourceLimits: { maxYoungGenerationSizeMb: READER_YOUNG_MB },
        fail: (f) =>
          'stalled' in f
            ? new SuError('INTERNAL', `the log reader stopped responding${f.why ? ` (${f.why})` : ''}`, { hint: 'run ingest again: it resumes where this run stopped' })
            : new SuError(f.code ?? 'INTERNAL', f.message, { hint: f.hint ?? 'run ingest again: it resumes where this run stopped' }),
      },
      (batch) => batch.last === true && ++ends === mine.length,
    );
  });
  try {
    for (let c = 0; c < chunks.length; c++) {
      const reader = readers[c % n];
      for (let batch = reader.next(); ; batch = reader.next()) {
        if (batch.done) throw new SuError('INTERNAL', 'the log reader ended before its last file', { hint: 'run ingest again: it resumes where this run stopped' });
        sink(batch.value);
        if (batch.value.last) break;
      }
    }
  } finally {
    for (const r of readers) r.stop();
  }
  return true;
}
