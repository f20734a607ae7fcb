import type { Adapter } from '../adapters/types.js';
import { readBatches, type ReadBatch } from './batches.js';
import type { LineTask } from './read-lines.js';

/**
 * Where ingest reads its log files: on worker threads for a big run (reader-threads.ts), so that
 * reading, JSON parsing and hashing (about half of a cold ingest's CPU) overlap the store's
 * writes; here for a small one, where starting a thread (~30 ms) would cost more than it saves.
 * The threads' code (and the adapter registry it needs) loads only for a big run: the status
 * line's one transcript never pays for it.
 */

/** Bytes to read above which a run uses the reader threads. */
export const THREAD_BYTES = 8 * 1024 * 1024;

export type ReadMode = 'auto' | 'thread' | 'here';

/** Reads `tasks` in order, handing each batch of events to `sink`; says where it read them. */
export async function readFiles(
  tasks: LineTask[],
  bytes: number,
  adapters: Adapter[],
  mode: ReadMode,
  sink: (batch: ReadBatch) => void,
  chunkBytes?: number,
): Promise<'thread' | 'here'> {
  const thread = tasks.length > 0 && (mode === 'thread' || (mode === 'auto' && bytes >= THREAD_BYTES));
  if (thread) {
    const { readOnThreads } = await import('./reader-threads.js');
    if (readOnThreads(tasks, adapters, sink, chunkBytes)) return 'thread';
  }
  const byProvider = new Map(adapters.map((a) => [a.provider, a]));
  readBatches(tasks, (file, state) => byProvider.get(file.provider)!.parser(file, state), sink);
  return 'here';
}
