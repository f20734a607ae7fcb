import { closeSync, existsSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { privateDir } from '../store/private.js';
import { join } from 'node:path';
import { syncDir } from '../paths.js';
import { sha256Hex } from '../model/canonical.js';
import { recoverCompactionLocked } from './compact.js';
import { sealSegmentPart, type SealedSegment, type SegmentPart } from './codec.js';
import { isoNow, type SyncContext } from './context.js';
import { withSyncLock } from './locks.js';
import { segmentKey } from './layout.js';
import { committedSegments, logSync, outboxSegments } from './state.js';
import { commitManifest, toEntry } from './manifest.js';
import { cutOwnEvents } from './shippable.js';
import { writeSettings } from './settings.js';
import { messageOf } from '../errors.js';

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

function outboxDir(env: NodeJS.ProcessEnv): string {
  return join(syncDir(env), 'outbox');
}

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
  const cursor = Math.max(pushed, spooled);
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
  await cutOwnEvents(ctx, cursor, Number.MAX_SAFE_INTEGER, sealNext);
  while (sealing.length > 0) await spoolNext();
  return staged;
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
      logSync(db, isoNow(ctx.clock), 'push', 'error', messageOf(err));
      throw err;
    }
  });
}
