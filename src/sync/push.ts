import { closeSync, existsSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { privateDir } from '../store/private.js';
import { join } from 'node:path';
import { SuError } from '../errors.js';
import { syncDir } from '../paths.js';
import { getMeta, setMeta } from '../store/db.js';
import { Hlc } from '../util/clock.js';
import { readEventsSince } from '../store/events.js';
import { sha256Hex } from '../util/canonical.js';
import { recoverCompactionLocked } from './compact.js';
import { ForgedManifestError, MAX_SEALED_MANIFEST_BYTES, openManifest, sealManifest, sealSegmentPart, SegmentCutter, segmentEventProblem, type SegmentEvent, type Manifest, type ManifestSegment, type SealedSegment, type SegmentPart } from './codec.js';
import { asSealed, MANIFEST_AUTH_ALG } from './crypto.js';
import { isoNow, type SyncContext } from './context.js';
import { withSyncLock } from './locks.js';
import { manifestKey, segmentKey } from './layout.js';
import { isNotFound } from './objectstore/index.js';
import { committedSegments, logSync, outboxSegments, readPeers, type SegmentRow } from './state.js';
import { writeSettings } from './settings.js';

export interface PushResult {
  /** Events newly staged into the spool by this push. */
  stagedEvents: number;
  /** Segments uploaded by this push (including ones spooled by an earlier, failed push). */
  uploadedSegments: number;
  uploadedBytes: number;
  /** Manifest generation written, or null when there was nothing to push. */
  generation: number | null;
  /** Highest own seq now confirmed in the bucket. */
  lastPushedSeq: number;
}

export function outboxDir(env: NodeJS.ProcessEnv): string {
  return join(syncDir(env), 'outbox');
}

/**
 * Events read from the store per staging round. Small enough that a round's rows (~1.3 KB each
 * here) fit V8's young generation and die there: 20,000 rows (26 MB) were promoted to the old
 * generation on every round, and collecting them cost more than the reads themselves. The
 * cutter carries a segment across rounds, so the size of a round does not shape the segments.
 */
const STAGE_BATCH = 2_000;
/**
 * Segments being sealed at once. sealSegmentPart encodes on the main thread, then gzips on
 * libuv's pool: with one more in flight, the next segment (or the next batch's read) is
 * serialized while the previous one compresses. Each costs up to ~2 × maxBytes of memory.
 */
const SEAL_AHEAD = 2;

function writeFileDurable(path: string, data: Uint8Array): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/**
 * Moves events with seq beyond everything already pushed or spooled into sealed segment
 * files in the outbox, each recorded in `sync_outbox` once its file is durable. Resumable:
 * a crash leaves complete spool entries (kept) and at most one stray file (removed here).
 */
export async function stage(ctx: SyncContext): Promise<number> {
  const { db } = ctx;
  const dir = outboxDir(ctx.env);
  privateDir(dir);
  // Held-back rows that changed since (new seq) or are gone are tried again / forgotten.
  db.prepare('DELETE FROM sync_quarantine WHERE seq NOT IN (SELECT seq FROM events WHERE device_id = ?)').run(ctx.deviceId);
  const known = new Set(outboxSegments(db).map((s) => `${s.name}.age`));
  for (const f of readdirSync(dir)) if (!known.has(f)) rmSync(join(dir, f), { force: true });

  const pushed = (db.prepare('SELECT last_sync_event_id FROM sync_state WHERE id = 1').pluck().get() as number | null) ?? 0;
  const spooled = (db.prepare('SELECT MAX(seq_to) FROM sync_outbox').pluck().get() as number | null) ?? 0;
  let cursor = Math.max(pushed, spooled);
  const total = db.prepare('SELECT COUNT(*) FROM events WHERE device_id = ? AND seq > ?').pluck().get(ctx.deviceId, cursor) as number;
  const insert = db.prepare(`INSERT INTO sync_outbox(name, kind, seq_from, seq_to, count, bytes, sha256, created_at)
    VALUES (@name, @kind, @seqFrom, @seqTo, @count, @bytes, @sha256, @createdAt)`);
  let staged = 0;
  // Spooled strictly in seq order (a resumed stage starts after MAX(seq_to)), whatever order the seals finish in.
  const sealing: Promise<SealedSegment>[] = [];
  const spoolNext = async () => {
    const s = await sealing.shift()!;
    writeFileDurable(join(dir, `${s.name}.age`), s.sealed);
    insert.run({ ...s.entry, createdAt: isoNow(ctx.clock) });
    staged += s.entry.count;
    ctx.onProgress?.({ phase: 'stage', done: staged, total, bytes: s.entry.bytes });
  };
  const sealNext = async (part: SegmentPart) => {
    if (sealing.length >= SEAL_AHEAD) await spoolNext();
    const sealed = sealSegmentPart(ctx.deviceId, 'segment', part, ctx.recipient);
    // A seal may fail while an earlier one is awaited: handled here, rethrown by spoolNext's await.
    sealed.catch(() => undefined);
    sealing.push(sealed);
  };
  // One cutter across batches: a segment is cut at the bounds, not where a batch happens to end.
  const cutter = new SegmentCutter();
  for (;;) {
    const rows = readEventsSince(db, ctx.deviceId, cursor, STAGE_BATCH);
    if (rows.length === 0) break;
    for (const r of rows) {
      // The row is the event (its extra seq and writtenAt are not event fields, nothing reads
      // them there): no per-row copy.
      const ev = { seq: r.seq, writtenAt: r.writtenAt, event: r };
      if (!shippable(ctx, ev)) continue;
      const done = cutter.add(ev);
      if (done) await sealNext(done);
    }
    cursor = rows[rows.length - 1].seq;
  }
  const last = cutter.flush();
  if (last) await sealNext(last);
  while (sealing.length > 0) await spoolNext();
  return staged;
}

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

/**
 * Our manifest as the bucket has it, or null when there is none yet. `manifest` is null when
 * the object is there but is not ours: not authenticated by our key (forged, or edited and
 * sealed again), or unauthenticated after this device already wrote authenticated ones. Such
 * an object counts for nothing (not its generation, not its segments); the next manifest
 * write overwrites it, and `rejected` says why.
 */
export async function readOwnManifest(ctx: SyncContext): Promise<{ manifest: Manifest | null; etag: string; rejected?: string } | null> {
  let got;
  try {
    got = await ctx.store.get(manifestKey(ctx.deviceId), { maxBytes: MAX_SEALED_MANIFEST_BYTES });
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
  let manifest: Manifest;
  try {
    manifest = await openManifest(asSealed(got.body), ctx.identity, { device: ctx.deviceId, keyFingerprint: ctx.fingerprint });
  } catch (err) {
    if (err instanceof ForgedManifestError) return { manifest: null, etag: got.etag, rejected: err.message };
    throw err;
  }
  // Before this device's first authenticated write, an unauthenticated manifest is our own
  // from the version before; after it, it is someone else's.
  if (manifest.unauthenticated && ctx.settings.manifestAuth) {
    return { manifest: null, etag: got.etag, rejected: 'the bucket holds an unauthenticated manifest for this device, which has written only authenticated ones since its upgrade' };
  }
  return { manifest, etag: got.etag };
}

/** Segment names this device has ever committed: live, retired by compaction, or waiting in the spool. */
export function ownSegmentNames(ctx: SyncContext): Set<string> {
  const rows = ctx.db.prepare('SELECT name FROM sync_segments UNION SELECT name FROM sync_retired UNION SELECT name FROM sync_outbox').pluck().all() as string[];
  return new Set(rows);
}

/** A fresh HLC stamp for our manifest, after every stamp this store has written or seen. */
function manifestStamp(ctx: SyncContext): string {
  const hlc = new Hlc(ctx.clock);
  const last = getMeta(ctx.db, 'last_hlc');
  if (last) hlc.observe(last);
  const stamp = hlc.tick();
  setMeta(ctx.db, 'last_hlc', stamp);
  return stamp;
}

function toEntry(s: SegmentRow): ManifestSegment {
  return { name: s.name, kind: s.kind, seqFrom: s.seq_from, seqTo: s.seq_to, count: s.count, bytes: s.bytes, sha256: s.sha256 };
}

/** Acknowledgements published with our manifest: for each peer, the highest of its seqs we merged. */
export function currentAcks(ctx: SyncContext): Record<string, number> {
  return Object.fromEntries(readPeers(ctx.db).filter((p) => p.cursor_seq > 0).map((p) => [p.device_id, p.cursor_seq]));
}

/**
 * Writes our manifest listing `segments` — the commit point of a push. Reads the bucket's
 * copy first: its generation is the floor for ours (a crash after an earlier manifest
 * write left the local counter behind), its ETag guards the write where the bucket
 * enforces conditional writes, and a segment it lists that we do not know means another
 * process is writing as this device (a copied store), which we refuse to overwrite.
 */
export async function commitManifest(ctx: SyncContext, segments: ManifestSegment[], known: Set<string>): Promise<{ generation: number; etag: string }> {
  const remote = await readOwnManifest(ctx);
  const localGen = Number(ctx.settings.generation ?? 0);
  if (remote?.rejected) logSync(ctx.db, isoNow(ctx.clock), 'push', 'ok', `overwrote a manifest under this device that was not ours: ${remote.rejected}`);
  if (remote?.manifest && remote.manifest.generation > localGen) {
    // Written after our last write: a replay of an older manifest of ours cannot be that
    // (its generation is at most ours), so this is another writer with our key and id.
    const ours = ownSegmentNames(ctx);
    const foreign = remote.manifest.segments.filter((s) => !known.has(s.name) && !ours.has(s.name));
    if (foreign.length > 0) {
      throw new SuError('CONFLICT', `the bucket's manifest for this device (${ctx.deviceId}) lists ${foreign.length} segment(s) this store never wrote`, {
        hint: `another machine is syncing with a copy of this store (or it was restored from a backup): on the copy, run \`stackunderflow sync init --bucket ${ctx.state.bucket_url} --new-device-id\` so it gets its own device id`,
      });
    }
  }
  const generation = Math.max(localGen, remote?.manifest?.generation ?? 0) + 1;
  const manifest: Manifest = {
    device: ctx.deviceId,
    name: ctx.deviceName,
    generation,
    keyFingerprint: ctx.fingerprint,
    writtenAt: manifestStamp(ctx),
    segments: [...segments].sort((a, b) => a.seqFrom - b.seqFrom || (a.name < b.name ? -1 : 1)),
    acks: currentAcks(ctx),
  };
  const sealed = await sealManifest(manifest, ctx.identity);
  const conditional = ctx.settings.conditionalWrites === 'yes';
  const opts = conditional ? (remote ? { ifMatch: remote.etag } : { ifNoneMatch: '*' as const }) : undefined;
  const { etag } = await ctx.store.put(manifestKey(ctx.deviceId), sealed, opts);
  // From now on an unauthenticated manifest under our id is not ours (readOwnManifest).
  if (!ctx.settings.manifestAuth) {
    writeSettings(ctx.db, { manifestAuth: MANIFEST_AUTH_ALG });
    ctx.settings.manifestAuth = MANIFEST_AUTH_ALG;
  }
  return { generation, etag };
}

/**
 * The spool is a cache of sealed bytes: a file that is missing or no longer hashes to its
 * name (disk trouble, a hand edit) must never be uploaded. Then the whole outbox is dropped
 * (the part not uploaded yet) and cut again from the store, where the events are. Returns true when it discarded.
 */
function discardDamagedSpool(ctx: SyncContext): boolean {
  const dir = outboxDir(ctx.env);
  const rows = outboxSegments(ctx.db);
  const damaged = rows.some((seg) => {
    if (seg.uploaded_at) return false;
    const file = join(dir, `${seg.name}.age`);
    return !existsSync(file) || sha256Hex(readFileSync(file)) !== seg.name;
  });
  if (!damaged) return false;
  // Uploads go in seq order, so the rows not uploaded are the tail: cutting again starts after the uploaded ones.
  ctx.db.prepare('DELETE FROM sync_outbox WHERE uploaded_at IS NULL').run();
  for (const seg of rows) if (!seg.uploaded_at) rmSync(join(dir, `${seg.name}.age`), { force: true });
  return true;
}

/**
 * Push: stage new events into the spool, upload every spooled segment (the object name is
 * the ciphertext's hash, so a retry re-sends identical bytes to the same key), then write
 * the manifest. With nothing new and nothing spooled, the bucket is not contacted at all.
 */
export async function push(ctx: SyncContext): Promise<PushResult> {
  return withSyncLock(ctx.env, async () => {
    const { db } = ctx;
    const result: PushResult = { stagedEvents: 0, uploadedSegments: 0, uploadedBytes: 0, generation: null, lastPushedSeq: ctx.state.last_sync_event_id ?? 0 };
    try {
      // A compaction a crash interrupted is finished (or forgotten) first, whoever calls push.
      await recoverCompactionLocked(ctx);
      if (discardDamagedSpool(ctx)) logSync(db, isoNow(ctx.clock), 'push', 'ok', 'the outbox was damaged; its segments were cut again from the store');
      result.stagedEvents = await stage(ctx);
      const outbox = outboxSegments(db);
      // After an upgrade, the first push rewrites a manifest written before manifests were
      // authenticated, even with nothing new: peers land nothing unauthenticated.
      const upgrade = !ctx.settings.manifestAuth && Number(ctx.settings.generation ?? 0) > 0;
      if (outbox.length === 0 && !upgrade) return result;
      const dir = outboxDir(ctx.env);
      const markUploaded = db.prepare('UPDATE sync_outbox SET uploaded_at = ? WHERE name = ?');
      const totalBytes = outbox.reduce((a, s) => a + s.bytes, 0);
      for (const seg of outbox) {
        if (seg.uploaded_at) continue;
        const body = readFileSync(join(dir, `${seg.name}.age`));
        await ctx.store.put(segmentKey(ctx.deviceId, seg.name), body);
        markUploaded.run(isoNow(ctx.clock), seg.name);
        result.uploadedSegments++;
        result.uploadedBytes += body.length;
        ctx.onProgress?.({ phase: 'upload', done: result.uploadedBytes, total: totalBytes, bytes: body.length });
      }
      const committed = committedSegments(db);
      const all = [...committed, ...outbox];
      const { generation, etag } = await commitManifest(ctx, all.map(toEntry), new Set(all.map((s) => s.name)));
      const lastSeq = Math.max(result.lastPushedSeq, ...outbox.map((s) => s.seq_to));
      const now = isoNow(ctx.clock);
      db.transaction(() => {
        const move = db.prepare(`INSERT OR REPLACE INTO sync_segments(name, kind, seq_from, seq_to, count, bytes, sha256, committed_at)
          SELECT name, kind, seq_from, seq_to, count, bytes, sha256, ? FROM sync_outbox`);
        move.run(now);
        db.prepare('DELETE FROM sync_outbox').run();
        db.prepare('UPDATE sync_state SET last_sync_event_id = ?, last_sync_ts = ? WHERE id = 1').run(lastSeq, now);
        writeSettings(db, { generation: String(generation), manifestEtag: etag });
        logSync(db, now, 'push', 'ok', `${outbox.length} segment(s), generation ${generation}`);
      })();
      ctx.settings.generation = String(generation);
      for (const seg of outbox) rmSync(join(dir, `${seg.name}.age`), { force: true });
      result.generation = generation;
      result.lastPushedSeq = lastSeq;
      return result;
    } catch (err) {
      logSync(db, isoNow(ctx.clock), 'push', 'error', err instanceof Error ? err.message : String(err));
      throw err;
    }
  });
}
