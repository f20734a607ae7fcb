import { segmentEventProblem, type SegmentEvent } from './codec.js';
import { isoNow, type SyncContext } from './context.js';

/**
 * Whether one of our events can be shipped. A row an older version stored malformed is held
 * back (recorded in `sync_quarantine`, shown by `sync status`) so that it never blocks a push.
 */
export function shippable(ctx: SyncContext, e: SegmentEvent): boolean {
  const problem = segmentEventProblem(e);
  if (problem === null) return true;
  ctx.db.prepare('INSERT OR IGNORE INTO sync_quarantine(seq, uid, problem, since) VALUES (?, ?, ?, ?)').run(e.seq, e.event.uid, problem, isoNow(ctx.clock));
  return false;
}
