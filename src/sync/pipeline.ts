/**
 * What a push is, for `sync push` and the loop alike: finish a compaction a crash interrupted,
 * push, record the acks the new manifest carries, then compact when the segment list grew long.
 */
import { compact, recordPublishedAcks, recoverCompaction, type CompactResult } from './compact.js';
import type { SyncContext } from './context.js';
import { push, type PushResult } from './push.js';

export interface PipelineResult extends PushResult {
  /** Null when nothing was compacted (or compaction failed and `onCompactError` took the error). */
  compaction: CompactResult | null;
}

export interface PipelineOptions {
  /** Wraps each bucket step ('push', then 'compact'); the loop marks the step it is in. */
  step?: <T>(op: 'push' | 'compact', fn: () => Promise<T>) => Promise<T>;
  /** Compaction is housekeeping: given this, its failure is reported here and the push still succeeds. */
  onCompactError?: (err: unknown) => void;
}

export async function pushAndCompact(ctx: SyncContext, opts: PipelineOptions = {}): Promise<PipelineResult> {
  const step = opts.step ?? ((_op, fn) => fn());
  const pushed = await step('push', async () => {
    await recoverCompaction(ctx);
    const r = await push(ctx);
    if (r.generation !== null) recordPublishedAcks(ctx);
    return r;
  });
  let compaction: CompactResult | null = null;
  try {
    compaction = await step('compact', () => compact(ctx));
  } catch (err) {
    if (!opts.onCompactError) throw err;
    opts.onCompactError(err);
  }
  return { ...pushed, compaction };
}
