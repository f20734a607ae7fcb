import type { Db } from '../store/db.js';
import { SuError } from '../errors.js';

/** The single `sync_state` row. */
export interface SyncStateRow {
  device_id: string;
  bucket_url: string;
  last_sync_ts: string | null;
  last_sync_event_id: number | null;
  encryption_key_fingerprint: string;
  remote_event_id: number;
  conflict_count: number;
}

export interface PeerRow {
  device_id: string;
  name: string | null;
  generation: number;
  cursor_seq: number;
  manifest_written_at: string | null;
  manifest_etag: string | null;
  last_pulled_at: string | null;
  events: number;
}

export interface SegmentRow {
  name: string;
  kind: 'segment' | 'snapshot';
  seq_from: number;
  seq_to: number;
  count: number;
  bytes: number;
  sha256: string;
}

export function readSyncState(db: Db): SyncStateRow | undefined {
  return db.prepare('SELECT * FROM sync_state WHERE id = 1').get() as SyncStateRow | undefined;
}

/** The sync state, or a CONFIG error telling the user to run `sync init`. */
export function requireSyncState(db: Db): SyncStateRow {
  const s = readSyncState(db);
  if (!s) {
    throw new SuError('CONFIG', 'sync is not set up on this device', {
      hint: 'run `stackunderflow sync init --bucket s3://BUCKET[/prefix]` (or file:///abs/dir) first',
    });
  }
  return s;
}

export function readPeers(db: Db): PeerRow[] {
  return db.prepare('SELECT * FROM sync_peers ORDER BY device_id').all() as PeerRow[];
}

export function readPeer(db: Db, deviceId: string): PeerRow | undefined {
  return db.prepare('SELECT * FROM sync_peers WHERE device_id = ?').get(deviceId) as PeerRow | undefined;
}

/** A peer whose manifest this device refused (nothing from it landed), for pull and status. */
export interface RejectedPeer {
  device_id: string;
  manifest_etag: string | null;
  reason: 'forged' | 'unauthenticated' | 'key';
  message: string;
  since: string;
}

export function readRejected(db: Db): RejectedPeer[] {
  return db.prepare('SELECT * FROM sync_rejected ORDER BY device_id').all() as RejectedPeer[];
}

export function setRejected(db: Db, r: RejectedPeer): void {
  db.prepare(`INSERT INTO sync_rejected(device_id, manifest_etag, reason, message, since) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT(device_id) DO UPDATE SET manifest_etag = excluded.manifest_etag, reason = excluded.reason, message = excluded.message,
      since = CASE WHEN sync_rejected.reason = excluded.reason THEN sync_rejected.since ELSE excluded.since END`)
    .run(r.device_id, r.manifest_etag, r.reason, r.message, r.since);
}

export function clearRejected(db: Db, deviceId: string): void {
  db.prepare('DELETE FROM sync_rejected WHERE device_id = ?').run(deviceId);
}

export function committedSegments(db: Db): SegmentRow[] {
  return db.prepare('SELECT name, kind, seq_from, seq_to, count, bytes, sha256 FROM sync_segments ORDER BY seq_from, name').all() as SegmentRow[];
}

export function outboxSegments(db: Db): Array<SegmentRow & { uploaded_at: string | null }> {
  return db
    .prepare('SELECT name, kind, seq_from, seq_to, count, bytes, sha256, uploaded_at FROM sync_outbox ORDER BY seq_from, name')
    .all() as Array<SegmentRow & { uploaded_at: string | null }>;
}

/** Segments sealed but not yet committed to the bucket: what a failed push leaves queued. */
export function queuedSegments(db: Db): number {
  return db.prepare('SELECT COUNT(*) FROM sync_outbox').pluck().get() as number;
}

export function logSync(db: Db, ts: string, op: string, outcome: 'ok' | 'error', detail?: string): void {
  db.prepare('INSERT INTO sync_log(ts, op, outcome, detail) VALUES (?, ?, ?, ?)').run(ts, op, outcome, detail ?? null);
  // The log is for status, not an archive: keep it short.
  db.prepare('DELETE FROM sync_log WHERE id <= (SELECT MAX(id) FROM sync_log) - 200').run();
}

export function lastSyncError(db: Db): { ts: string; op: string; detail: string | null } | undefined {
  const last = db.prepare("SELECT ts, op, outcome, detail FROM sync_log ORDER BY id DESC LIMIT 1").get() as
    | { ts: string; op: string; outcome: string; detail: string | null }
    | undefined;
  return last && last.outcome === 'error' ? { ts: last.ts, op: last.op, detail: last.detail } : undefined;
}

/** Identities (uids) present under more than one device: the conflicts the LWW rule resolves. */
export function countConflicts(db: Db): number {
  return db.prepare('SELECT COUNT(*) FROM (SELECT uid_bytes FROM events GROUP BY uid_bytes HAVING COUNT(*) > 1)').pluck().get() as number;
}
