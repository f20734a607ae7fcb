import { readEventsSince } from '../store/events.js';
import { SegmentCutter, segmentEventProblem, type SegmentEvent, type SegmentPart } from './codec.js';
import { isoNow, type SyncContext } from './context.js';

/**
 * Events read from the store per round. Small enough that a round's rows (~1.3 KB each here)
 * fit V8's young generation and die there: 20,000 rows (26 MB) were promoted to the old
 * generation on every round, and collecting them cost more than the reads themselves. The
 * cutter carries a part across rounds, so the size of a round does not shape the segments.
 */
const READ_BATCH = 2_000;

/**
 * Our events with seq in (after, through], in seq order, cut into segment parts (push's
 * segments, compaction's snapshots); each part goes to `onPart` as it closes, awaited before
 * the next is read. Events that cannot be shipped are held back (see shippable).
 */
export async function cutOwnEvents(ctx: SyncContext, after: number, through: number, onPart: (part: SegmentPart) => Promise<void>): Promise<void> {
  // One cutter across rounds: a part is cut at the bounds, not where a round happens to end.
  const cutter = new SegmentCutter();
  for (let cursor = after; ; ) {
    const rows = readEventsSince(ctx.db, ctx.deviceId, cursor, through, READ_BATCH);
    if (rows.length === 0) break;
    for (const r of rows) {
      // The row is the event (its extra seq and writtenAt are not event fields, nothing reads
      // them there): no per-row copy.
      const ev = { seq: r.seq, writtenAt: r.writtenAt, event: r };
      if (!shippable(ctx, ev)) continue;
      const done = cutter.add(ev);
      if (done) await onPart(done);
    }
    cursor = rows[rows.length - 1].seq;
  }
  const last = cutter.flush();
  if (last) await onPart(last);
}

/**
 * Whether one of our events can be shipped. A row an older version stored malformed is held
 * back (recorded in `sync_quarantine`, shown by `sync status`) so that it never blocks a push.
 */
function shippable(ctx: SyncContext, e: SegmentEvent): boolean {
  const problem = segmentEventProblem(e);
  if (problem === null) return true;
  ctx.db.prepare('INSERT OR IGNORE INTO sync_quarantine(seq, uid, problem, since) VALUES (?, ?, ?, ?)').run(e.seq, e.event.uid, problem, isoNow(ctx.clock));
  return false;
}
