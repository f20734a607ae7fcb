import { registeredAdapter } from '../adapters/index.js';
import { workerSide } from '../util/worker-stream.js';
import { readBatches, THREAD_BATCH_FILES } from './batches.js';
import type { LineTask } from './read-lines.js';

// Ingest's reader thread (readInWorker in reader.ts): reads, parses and hashes the log files
// in order and posts their events in batches, while the main thread writes the store.

const { data, post, run } = workerSide<{ tasks: LineTask[] }>();

run(() => {
  readBatches(data.tasks, (provider, file, state) => registeredAdapter(provider).parser(file, state), post, THREAD_BATCH_FILES);
});
