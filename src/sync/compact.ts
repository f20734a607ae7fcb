/**
 * Compaction and ack publishing (docs/specs/sync-protocol-v1.md §10.1–10.2).
 *
 * Compaction replaces our manifest's segment list with `snapshot` segments holding the
 * latest version of every own event up to S = the highest seq already pushed. Readers need
 * nothing new: a peer whose cursor is ≥ S skips the snapshot (its seqTo ≤ S); a new or lagging
 * peer downloads it and keeps only events beyond its cursor. Replaced segments stay in the
 * bucket, unlisted, until `prune` deletes them.
 *
 * Crash safety: snapshots are uploaded first (unlisted objects are invisible to readers), the
 * intent is recorded (`compaction_pending`), then the manifest is written, then the local
 * bookkeeping. A crash between the manifest PUT and the local commit is repaired by
 * {@link recoverCompaction}, which adopts the manifest when it lists the snapshots.
 */
import type { Db } from '../store/db.js';
import { SEGMENT_LIMITS, sealSegmentPart, type ManifestSegment, type SegmentPart } from './codec.js';
import { isoNow, type SyncContext } from './context.js';
import { withSyncLock } from './locks.js';
import { segmentKey } from './layout.js';
import { commitManifest, currentAcks, readOwnManifest, toEntry } from './manifest.js';
import { cutOwnEvents } from './shippable.js';
import { committedSegments, logSync, outboxSegments, type SegmentRow } from './state.js';
import { getSetting, readAutoSettings, setSettings, writeSettings } from './settings.js';
import { messageOf } from '../errors.js';

export interface CompactResult {
  /** Why compaction ran. */
  reason: string;
  /** major: everything rewritten (superseded versions dropped); minor: the deltas and the small trailing snapshots. */
  kind: 'minor' | 'major';
  /** Snapshot segments left as they were. */
  kept: number;
  /** S: every own event with seq ≤ S is in the snapshot(s). */
  through: number;
  snapshots: number;
  events: number;
  bytes: number;
  /** Segments no longer listed (left for prune). */
  replaced: number;
  replacedBytes: number;
  generation: number;
}

interface PendingCompaction {
  through: number;
  entries: ManifestSegment[];
  /** Names of the listed segments the snapshots replace. */
  replaced: string[];
}

const PENDING_KEY = 'compaction_pending';
/** The "mostly superseded" rule applies from this many listed segments on. */
const SUPERSEDED_MIN_SEGMENTS = 8;

function lastPushed(db: Db): number {
  return (db.prepare('SELECT last_sync_event_id FROM sync_state WHERE id = 1').pluck().get() as number | null) ?? 0;
}

type Listed = Pick<SegmentRow, 'name' | 'kind' | 'seq_to' | 'count' | 'bytes'>;

/**
 * Whether a listed segment is at least half as big as the segment bounds (§4.4) allow. Merging
 * such segments cannot shorten the list (the bounds cut the result again): rewriting them would
 * only upload the same bytes twice, as a first push of a big store did when its 138 full segments
 * were all compacted at once. Sealed bytes are compressed: plaintext gzips ~4× here, so 1 MiB
 * sealed is about half the 8 MiB plaintext bound.
 */
export function isFullSegment(s: Pick<SegmentRow, 'count' | 'bytes'>): boolean {
  return s.count >= SEGMENT_LIMITS.maxEvents / 2 || s.bytes >= SEGMENT_LIMITS.maxBytes / 8;
}

/** Index of the first listed segment (in seq order) after the last full one: what a minor compaction may rewrite. */
function tailStart(segments: ReadonlyArray<Pick<SegmentRow, 'count' | 'bytes'>>): number {
  let i = segments.length;
  while (i > 0 && !isFullSegment(segments[i - 1])) i--;
  return i;
}

/** Listed segments in seq order (ranges never overlap, so this is also snapshots before the deltas pushed after them). */
function listedInOrder(db: Db): SegmentRow[] {
  return committedSegments(db).sort((a, b) => a.seq_from - b.seq_from);
}

/**
 * Why our segment list should be compacted now, or null. `minor`: more than `compact_after`
 * (default 64) small delta segments are listed after the last full one ({@link isFullSegment}),
 * so a big push never triggers one by itself. `major`: from 8 listed segments on, more than half
 * of the events they carry have been superseded by later versions.
 */
function compactionReason(db: Db, deviceId: string, compactAfter = readAutoSettings(db).compactAfter): { kind: 'minor' | 'major'; why: string } | null {
  const segs = listedInOrder(db);
  const deltas = segs.slice(tailStart(segs)).filter((s) => s.kind === 'segment').length;
  // Rewriting the whole history to save a few small segments is not worth its upload.
  if (segs.length >= SUPERSEDED_MIN_SEGMENTS) {
    const S = lastPushed(db);
    const listed = segs.reduce((a, s) => a + s.count, 0);
    const live = db.prepare('SELECT COUNT(*) FROM events WHERE device_id = ? AND seq <= ?').pluck().get(deviceId, S) as number;
    if (listed - live > live) return { kind: 'major', why: `${listed - live} of ${listed} listed events are superseded` };
  }
  if (deltas > compactAfter) return { kind: 'minor', why: `${deltas} small segments listed (more than ${compactAfter})` };
  return null;
}

/**
 * Which listed segments (in seq order) a compaction rewrites. Pure. A major compaction rewrites
 * everything: one snapshot of every live event up to S, as §10.1 describes. A minor one never
 * touches a full segment ({@link isFullSegment}) nor anything before it: it rewrites the small
 * delta segments at the end of the list plus the trailing small snapshots that are not much
 * larger than what is being merged (size-tiered, as log-structured stores do), so that a long
 * history is not re-uploaded every 64 pushes. Returns the segments kept as they are (a prefix)
 * and the seq after which the new snapshot starts.
 */
export function planCompaction(segments: ReadonlyArray<Listed>, kind: 'minor' | 'major'): { keep: number; after: number } {
  if (kind === 'major') return { keep: 0, after: 0 };
  const tail = tailStart(segments);
  let firstDelta = tail;
  while (firstDelta < segments.length && segments[firstDelta].kind === 'snapshot') firstDelta++;
  let acc = segments.slice(firstDelta).reduce((a, s) => a + s.bytes, 0);
  let keep = firstDelta;
  while (keep > tail && segments[keep - 1].bytes <= 2 * acc) {
    acc += segments[keep - 1].bytes;
    keep--;
  }
  return { keep, after: keep === 0 ? 0 : segments[keep - 1].seq_to };
}

/**
 * Replaces listed segments with snapshot segments, if {@link compactionReason} says so (or
 * `force`, which rewrites everything). Skipped (null) while anything is unpushed — events
 * beyond S or a spool — so the new manifest always lists the complete latest state. Takes
 * the sync lock.
 */
export async function compact(ctx: SyncContext, opts: { force?: boolean } = {}): Promise<CompactResult | null> {
  return withSyncLock(ctx.env, async () => {
    await recoverCompactionLocked(ctx);
    return compactLocked(ctx, opts);
  });
}

async function compactLocked(ctx: SyncContext, opts: { force?: boolean }): Promise<CompactResult | null> {
  const { db } = ctx;
  const S = lastPushed(db);
  if (S === 0 || outboxSegments(db).length > 0) return null;
  const pending = db.prepare('SELECT COUNT(*) FROM events WHERE device_id = ? AND seq > ?').pluck().get(ctx.deviceId, S) as number;
  if (pending > 0) return null;
  const reason = opts.force ? { kind: 'major' as const, why: 'requested' } : compactionReason(db, ctx.deviceId);
  if (!reason) return null;
  const committed = listedInOrder(db);
  if (committed.length === 0) return null;
  const { keep, after } = planCompaction(committed, reason.kind);
  const kept = committed.slice(0, keep);
  const replaced = committed.slice(keep);

  try {
    const entries: ManifestSegment[] = [];
    let events = 0;
    const upload = async (part: SegmentPart) => {
      const s = await sealSegmentPart(ctx.deviceId, 'snapshot', part, ctx.recipient);
      // Unlisted until the manifest below lands: invisible to readers if we crash here.
      await ctx.store.put(segmentKey(ctx.deviceId, s.name), s.sealed);
      entries.push(s.entry);
      events += s.entry.count;
      ctx.onProgress?.({ phase: 'upload', done: events, total: 0, bytes: s.entry.bytes });
    };
    await cutOwnEvents(ctx, after, S, upload);
    if (entries.length === 0) return null;

    const intent: PendingCompaction = { through: S, entries, replaced: replaced.map((s) => s.name) };
    setSettings(db, { [PENDING_KEY]: JSON.stringify(intent) });
    const known = new Set([...committed.map((s) => s.name), ...entries.map((e) => e.name)]);
    const { generation, etag } = await commitManifest(ctx, [...kept.map(toEntry), ...entries], known);
    adopt(ctx, intent, generation, etag, `${reason.kind} compaction through seq ${S}: ${entries.length} snapshot segment(s) replace ${replaced.length}`);
    return {
      reason: reason.why,
      kind: reason.kind,
      through: S,
      snapshots: entries.length,
      events,
      bytes: entries.reduce((a, e) => a + e.bytes, 0),
      replaced: replaced.length,
      replacedBytes: replaced.reduce((a, s) => a + s.bytes, 0),
      kept: kept.length,
      generation,
    };
  } catch (err) {
    logSync(db, isoNow(ctx.clock), 'compact', 'error', messageOf(err));
    throw err;
  }
}

/**
 * The local half of a compaction whose manifest is in the bucket: the replaced segments move
 * to `sync_retired` (prune deletes them later), the snapshots join the committed list.
 */
function adopt(ctx: SyncContext, intent: PendingCompaction, generation: number, etag: string, detail: string): void {
  const { db } = ctx;
  const now = isoNow(ctx.clock);
  const replaced = new Set(intent.replaced);
  db.transaction(() => {
    const old = committedSegments(db).filter((s) => replaced.has(s.name));
    const retire = db.prepare(`INSERT OR REPLACE INTO sync_retired(name, kind, seq_from, seq_to, bytes, retired_at) VALUES (?, ?, ?, ?, ?, ?)`);
    const drop = db.prepare('DELETE FROM sync_segments WHERE name = ?');
    for (const s of old) {
      retire.run(s.name, s.kind, s.seq_from, s.seq_to, s.bytes, now);
      drop.run(s.name);
    }
    const add = db.prepare(`INSERT OR REPLACE INTO sync_segments(name, kind, seq_from, seq_to, count, bytes, sha256, committed_at)
      VALUES (@name, @kind, @seqFrom, @seqTo, @count, @bytes, @sha256, @committedAt)`);
    for (const e of intent.entries) {
      add.run({ ...e, committedAt: now });
      db.prepare('DELETE FROM sync_retired WHERE name = ?').run(e.name);
    }
    writeSettings(db, { generation: String(generation), manifestEtag: etag });
    setSettings(db, { compacted_through: intent.through, [PENDING_KEY]: null });
    recordPublishedAcks(ctx, now);
    logSync(db, now, 'compact', 'ok', detail);
  })();
  ctx.settings.generation = String(generation);
  ctx.settings.manifestEtag = etag;
}

/**
 * Finishes or forgets a compaction interrupted by a crash. When the bucket's manifest lists
 * the pending snapshots, the compaction committed: adopt it locally. Otherwise it never
 * committed: forget it (its uploaded snapshots are unlisted orphans that prune collects).
 * No request at all when nothing is pending. Takes the sync lock.
 */
export async function recoverCompaction(ctx: SyncContext): Promise<'none' | 'adopted' | 'abandoned'> {
  if (getSetting(ctx.db, PENDING_KEY) === undefined) return 'none';
  return withSyncLock(ctx.env, () => recoverCompactionLocked(ctx));
}

/** {@link recoverCompaction} for a caller that already holds the sync lock. */
export async function recoverCompactionLocked(ctx: SyncContext): Promise<'none' | 'adopted' | 'abandoned'> {
  const raw = getSetting(ctx.db, PENDING_KEY);
  if (raw === undefined) return 'none';
  let intent: PendingCompaction;
  try {
    intent = JSON.parse(raw) as PendingCompaction;
  } catch {
    setSettings(ctx.db, { [PENDING_KEY]: null });
    return 'abandoned';
  }
  intent.replaced ??= [];
  const remote = await readOwnManifest(ctx);
  const listed = new Set(remote?.manifest?.segments.map((s) => s.name) ?? []);
  if (remote?.manifest && intent.entries.every((e) => listed.has(e.name))) {
    // Whatever the bucket's manifest no longer lists was replaced, whether or not the intent named it.
    intent.replaced = [...new Set([...intent.replaced, ...committedSegments(ctx.db).filter((s) => !listed.has(s.name)).map((s) => s.name)])];
    adopt(ctx, intent, remote.manifest.generation, remote.etag, `recovered an interrupted compaction through seq ${intent.through}`);
    return 'adopted';
  }
  setSettings(ctx.db, { [PENDING_KEY]: null });
  logSync(ctx.db, isoNow(ctx.clock), 'compact', 'ok', 'forgot an interrupted compaction that never committed');
  return 'abandoned';
}

// ---------------------------------------------------------------------------------------
// acks

function ackJson(acks: Record<string, number>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(acks).sort(([a], [b]) => (a < b ? -1 : 1))));
}

/** Records that the acks as of now went out with a manifest (call after any manifest write). */
export function recordPublishedAcks(ctx: SyncContext, at = isoNow(ctx.clock)): void {
  setSettings(ctx.db, { published_acks: ackJson(currentAcks(ctx)), acks_published_at: at });
}

/** Whether our merge cursors moved since the last manifest we wrote. */
function acksChanged(ctx: SyncContext): boolean {
  return (getSetting(ctx.db, 'published_acks') ?? '{}') !== ackJson(currentAcks(ctx));
}

/**
 * Writes an ack-only manifest (same segments, new acks, next generation) when our acks
 * changed and the last one went out at least `minIntervalMs` ago (default: the `ack_interval`
 * setting, one day). Peers read acks to decide what they may prune; an idle device thus
 * costs at most one manifest write a day. Skipped while a spool waits (the next push carries
 * the acks). Returns the generation written, or null. Takes the sync lock.
 */
export async function publishAcks(ctx: SyncContext, opts: { minIntervalMs?: number } = {}): Promise<number | null> {
  const minInterval = opts.minIntervalMs ?? readAutoSettings(ctx.db).ackInterval * 1000;
  const due = () => {
    if (!acksChanged(ctx)) return false;
    const last = Date.parse(getSetting(ctx.db, 'acks_published_at') ?? '');
    return !Number.isFinite(last) || ctx.clock.now() - last >= minInterval;
  };
  if (!due()) return null;
  return withSyncLock(ctx.env, async () => {
    await recoverCompactionLocked(ctx);
    if (!due() || outboxSegments(ctx.db).length > 0) return null;
    const committed = committedSegments(ctx.db);
    try {
      const { generation, etag } = await commitManifest(ctx, committed.map(toEntry), new Set(committed.map((s) => s.name)));
      const now = isoNow(ctx.clock);
      ctx.db.transaction(() => {
        writeSettings(ctx.db, { generation: String(generation), manifestEtag: etag });
        recordPublishedAcks(ctx, now);
        logSync(ctx.db, now, 'acks', 'ok', `ack-only manifest, generation ${generation}`);
      })();
      ctx.settings.generation = String(generation);
      ctx.settings.manifestEtag = etag;
      return generation;
    } catch (err) {
      logSync(ctx.db, isoNow(ctx.clock), 'acks', 'error', messageOf(err));
      throw err;
    }
  });
}

/** Default threshold, re-exported for help texts. */
