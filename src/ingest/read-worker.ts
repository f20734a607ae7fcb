import { registeredAdapter } from '../adapters/index.js';
import { workerSide } from '../util/worker-stream.js';
import { readBatches, THREAD_BATCH_FILES } from './batches.js';
import type { LineTask } from './read-lines.js';

// One of ingest's reader threads (reader.ts): reads, parses and hashes its runs of log files in
// order and posts their events in batches, while the main thread writes the store.

const { data, post, run } = workerSide<{ chunks: LineTask[][] }>();

// Each run of files ends with a batch marked last: the writer then turns to the next reader.
run(() => {
  for (const tasks of data.chunks) readBatches(tasks, (file, state) => registeredAdapter(file.provider).parser(file, state), post, THREAD_BATCH_FILES);
});
