import type { Db } from '../store/db.js';
import { getMeta, setMeta } from '../store/db.js';
import { Hlc } from '../model/clock.js';
import { EVENT_COLUMNS, EVENT_PLACEHOLDERS, EVENT_SQL_COLUMNS, indexNewEvents, maxEventId, pendingSearchIndex } from '../store/events.js';
import { decodeHere, decodeInWorker, peerRows, type RowBatch, type SealedItem, type UnsealedSegment } from './decoder.js';
import { SuError, messageOf } from '../errors.js';
import { checkSealedSegment, ForgedManifestError, MAX_SEALED_MANIFEST_BYTES, openManifest, type Manifest, type ManifestSegment, type SegmentEvent } from './codec.js';
import { asSealed, open } from './crypto.js';
import { isoNow, type SyncContext } from './context.js';
import { withSyncLock } from './locks.js';
import { devicesPrefix, manifestKey, parseDeviceKey, segmentKey } from './layout.js';
import { isNotFound } from './objectstore/index.js';
import { clearRejected, countConflicts, logSync, readPeer, readRejected, setRejected, type RejectedPeer } from './state.js';

export interface PeerPullResult {
  device: string;
  name: string | null;
  /**
   * 'landed': new events merged; 'current': nothing new; 'failed': see error, nothing landed;
   * 'rejected': its manifest is not authenticated by our key (or, for a device never landed,
   * opens with no key of ours): nothing landed, `warning` says why, and the pull goes on.
   */
  outcome: 'landed' | 'current' | 'failed' | 'rejected';
  generation: number | null;
  segments: number;
  events: number;
  error?: { code: string; message: string };
  warning?: string;
}

/**
 * The line naming a device a pull warns of (a refused one): `sync pull` prints it, the sync loop
 * logs it. `p`'s name comes from a manifest: the caller makes it inert first.
 */
export function peerWarning(p: Pick<PeerPullResult, 'device' | 'name'>, why: string): string {
  return `WARNING: device ${p.name ?? '?'} (${p.device}): ${why}`;
}

export interface PullResult {
  peers: PeerPullResult[];
  landedEvents: number;
  conflictCount: number;
  /** Landed events the search index still lacks (a large landing leaves them to the next search). */
  searchPending: number;
}

/** Devices that have a manifest in the bucket (ours included), with the manifest's ETag. */
async function listManifests(ctx: SyncContext): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for await (const o of ctx.store.list(devicesPrefix())) {
    const parsed = parseDeviceKey(o.key);
    if (parsed?.type === 'manifest') found.set(parsed.deviceId, o.etag);
  }
  return found;
}

/** Device ids that have a manifest in the bucket (ours included), sorted. */
export async function listDevices(ctx: SyncContext): Promise<string[]> {
  return [...(await listManifests(ctx)).keys()].sort();
}

/**
 * What to fetch from a peer: the segments holding seqs beyond our cursor. Pure. A manifest
 * older than one we accepted is a replay (or rollback) and is refused; the same
 * generation means nothing new.
 */
function planPeer(manifest: Manifest, known: { generation: number; cursor: number } | undefined): { action: 'current' } | { action: 'fetch'; segments: ManifestSegment[] } {
  const generation = known?.generation ?? 0;
  const cursor = known?.cursor ?? 0;
  if (manifest.generation < generation) {
    throw new SuError('INTEGRITY', `the manifest of device ${manifest.device} has generation ${manifest.generation}, older than generation ${generation} already merged (replayed or rolled back)`, {
      hint: 'someone with write access to the bucket restored an old manifest; nothing was merged. Check the bucket, then run `stackunderflow sync verify`',
    });
  }
  const segments = manifest.segments.filter((s) => s.seqTo > cursor).sort((a, b) => a.seqFrom - b.seqFrom);
  if (manifest.generation === generation || segments.length === 0) return { action: 'current' };
  return { action: 'fetch', segments };
}

/**
 * Lands one peer's events in ONE transaction with its cursor and generation: all of its
 * new events or none. A row of the same identity from the same peer is replaced only by a
 * later `written_at` (the peer's own newer version).
 *
 * `batches` are decoded inside the transaction, one at a time (a pull passes one decoder per
 * segment): a peer's backlog is held compressed, never as a million decoded events, and a
 * batch that fails to decode throws, which rolls the whole landing back.
 */
export function landPeer(db: Db, manifest: Manifest, batches: Iterable<RowBatch> | SegmentEvent[], now: string, etag: string | null = null, opts: { size?: number } = {}): number {
  const insert = db.prepare(`INSERT INTO events(${EVENT_SQL_COLUMNS})
    VALUES (${EVENT_PLACEHOLDERS})
    ON CONFLICT(device_id, uid_bytes) DO UPDATE SET provider=excluded.provider, project=excluded.project, project_path=excluded.project_path,
      session_id=excluded.session_id, record_id=excluded.record_id, ts=excluded.ts, ts_ms=excluded.ts_ms, kind=excluded.kind,
      model=excluded.model, sidechain=excluded.sidechain, agent=excluded.agent, usage_key=excluded.usage_key,
      input_tokens=excluded.input_tokens, output_tokens=excluded.output_tokens, cache_creation_tokens=excluded.cache_creation_tokens,
      cache_read_tokens=excluded.cache_read_tokens, reasoning_tokens=excluded.reasoning_tokens, total_tokens=excluded.total_tokens,
      has_usage=excluded.has_usage, text=excluded.text, extra=excluded.extra, seq=excluded.seq,
      written_at=excluded.written_at
    WHERE excluded.written_at > events.written_at`);
  const cursor = Math.max(0, ...manifest.segments.map((s) => s.seqTo));
  // Decoded events are one batch (tests); a pull passes its decoder, which yields row batches.
  const source: Iterable<RowBatch> = Array.isArray(batches) ? [peerRows(batches, manifest.device, 0)] : batches;
  let landed = 0;
  // A big landing inserts into an index keyed by random uids: with SQLite's default page
  // cache most inserts miss it. A larger cache (a ceiling, filled only as pages are touched)
  // cut the insert CPU by ~25 % for 1M events; restored afterwards.
  const big = (opts.size ?? (Array.isArray(batches) ? batches.length : 0)) > LARGE_LANDING;
  const cacheSize = db.pragma('cache_size', { simple: true }) as number;
  if (big) db.pragma(`cache_size = ${LANDING_CACHE_KIB}`);
  let newest = getMeta(db, 'last_hlc') ?? '';
  const cap = Hlc.format(Date.parse(now) + MAX_PEER_CLOCK_LEAD_MS, 0);
  try {
    db.transaction(() => {
      for (const batch of source) {
        const before = maxEventId(db);
        // The newest version of each identity only: derived data of new rows is built per batch
        // (indexNewEvents), so a row must not be inserted and then changed within one batch. A later
        // batch may change it: that is an update of an existing row, which the triggers follow.
        const latest = new Map<string, unknown[]>();
        for (const row of batch) {
          const cur = latest.get(row[UID] as string);
          if (!cur || (row[WRITTEN_AT] as string) > (cur[WRITTEN_AT] as string)) latest.set(row[UID] as string, row);
        }
        for (const row of latest.values()) {
          landed += insert.run(row).changes;
          // Our HLC observes the newest landed stamp, up to MAX_PEER_CLOCK_LEAD_MS ahead (why: below).
          const stamp = row[WRITTEN_AT] as string;
          if (stamp > newest && stamp <= cap) newest = stamp;
        }
        indexNewEvents(db, before, { deferSearch: big });
      }
      db.prepare(`INSERT INTO sync_peers(device_id, name, generation, cursor_seq, manifest_written_at, manifest_etag, last_pulled_at, events)
        VALUES (?, ?, ?, ?, ?, ?, ?, (SELECT COUNT(*) FROM events WHERE device_id = ?))
        ON CONFLICT(device_id) DO UPDATE SET name = excluded.name, generation = excluded.generation, cursor_seq = excluded.cursor_seq,
          manifest_written_at = excluded.manifest_written_at, manifest_etag = excluded.manifest_etag,
          last_pulled_at = excluded.last_pulled_at, events = excluded.events`)
        .run(manifest.device, manifest.name || null, manifest.generation, cursor, stampToIso(manifest.writtenAt), etag, now, manifest.device);
      db.prepare('UPDATE sync_state SET remote_event_id = COALESCE(remote_event_id, 0) + ?, conflict_count = ? WHERE id = 1').run(landed, countConflicts(db));
      if (newest) setMeta(db, 'last_hlc', newest);
    })();
  } finally {
    if (big) db.pragma(`cache_size = ${cacheSize}`);
  }
  return landed;
}

const UID = EVENT_COLUMNS.indexOf('uid');
const WRITTEN_AT = EVENT_COLUMNS.indexOf('written_at');

/** Segment GETs a pull keeps in flight. */
const FETCH_LANES = 4;
/** Landings above this many events decode on a worker thread. */
const WORKER_LANDING = 20_000;
/** Landings above this many events get the larger page cache. */
const LARGE_LANDING = 50_000;
/** Page cache during a large landing, as SQLite's negative KiB (256 MiB). */
const LANDING_CACHE_KIB = -262_144;

/** The wall-clock part of a peer's HLC stamp, as ISO time (what status shows as "last push"). */
function stampToIso(stamp: string): string {
  return new Date(Hlc.parse(stamp).wall).toISOString();
}

/** A peer clock may lead ours by at most this much before we stop following it. */
const MAX_PEER_CLOCK_LEAD_MS = 24 * 3600 * 1000;

/*
 * Our HLC observes the newest landed stamp, so a later local write of the same event
 * sorts after what we have seen (last-write-wins stays causal even when our wall clock
 * is behind). A peer stamp far in the future is not followed, so one broken clock
 * cannot pin every device's stamps ahead. (landPeer does it as it lands.)
 */

function touchPeer(db: Db, manifest: Manifest, etag: string, now: string): void {
  db.prepare(`INSERT INTO sync_peers(device_id, name, generation, cursor_seq, manifest_written_at, manifest_etag, last_pulled_at, events)
    VALUES (?, ?, ?, 0, ?, ?, ?, 0)
    ON CONFLICT(device_id) DO UPDATE SET name = excluded.name, generation = MAX(sync_peers.generation, excluded.generation),
      manifest_written_at = excluded.manifest_written_at, manifest_etag = excluded.manifest_etag, last_pulled_at = excluded.last_pulled_at`)
    .run(manifest.device, manifest.name || null, manifest.generation, stampToIso(manifest.writtenAt), etag, now);
}

async function pullPeer(ctx: SyncContext, device: string, listedEtag: string): Promise<PeerPullResult> {
  const { db } = ctx;
  const known = readPeer(db, device);
  // The listing already told us the manifest's ETag: unchanged means nothing new, no GET.
  if (known?.manifest_etag && known.manifest_etag === listedEtag) {
    return { device, name: known.name, outcome: 'current', generation: known.generation, segments: 0, events: 0 };
  }
  const refused = readRejected(db).find((r) => r.device_id === device);
  // Refused before and unchanged since: say so again, without downloading it again.
  if (refused && refused.manifest_etag === listedEtag) return rejected(known?.name ?? null, refused);
  const got = await ctx.store.get(manifestKey(device), { maxBytes: MAX_SEALED_MANIFEST_BYTES });
  const reject = (reason: RejectedPeer['reason'], message: string) => {
    const r: RejectedPeer = { device_id: device, manifest_etag: got.etag, reason, message, since: isoNow(ctx.clock) };
    setRejected(db, r);
    return rejected(known?.name ?? null, r);
  };
  let manifest: Manifest;
  try {
    manifest = await openManifest(asSealed(got.body), ctx.identity, { device, keyFingerprint: ctx.fingerprint, object: manifestKey(device) });
  } catch (err) {
    if (err instanceof ForgedManifestError) return reject('forged', err.message);
    // A device we never landed whose manifest no stanza of our key opens is a stranger's (another
    // key's folder in a shared bucket, or a plant), not a sign that our key is wrong.
    if (err instanceof SuError && err.code === 'KEY' && !(known && known.cursor_seq > 0)) {
      return reject('key', `the manifest of device ${device} is sealed to a key that is not this bucket's; nothing from it was merged`);
    }
    throw err;
  }
  if (manifest.unauthenticated) {
    // The same generation we already landed (before the upgrade) says nothing new; anything else
    // would be new content nobody authenticated.
    if (known && manifest.generation === known.generation) return { device, name: known.name, outcome: 'current', generation: known.generation, segments: 0, events: 0 };
    return reject(
      'unauthenticated',
      `the manifest of device ${device} carries no authentication: it was written by a stackunderflow from before manifests were authenticated, ` +
        'or forged by someone who knows the public recipient; nothing from it was merged. Upgrade stackunderflow on that device and run `stackunderflow sync push` there',
    );
  }
  if (refused) clearRejected(db, device);
  const plan = planPeer(manifest, known ? { generation: known.generation, cursor: known.cursor_seq } : undefined);
  const now = isoNow(ctx.clock);
  if (plan.action === 'current') {
    touchPeer(db, manifest, got.etag, now);
    return { device, name: manifest.name || null, outcome: 'current', generation: manifest.generation, segments: 0, events: 0 };
  }
  const cursor = known?.cursor_seq ?? 0;
  // Fetch every planned segment (size and name checked) before the transaction: no network I/O
  // inside it. Decryption, gunzip and the content checks run inside it, segment by segment, and
  // any failure rolls the landing back: nothing of this peer lands unless every segment is intact.
  const fetched = new Array<SealedItem>(plan.segments.length);
  const total = plan.segments.reduce((a, s) => a + s.bytes, 0);
  let done = 0;
  const fetchOne = async (i: number) => {
    const seg = plan.segments[i];
    const key = segmentKey(device, seg.name);
    const obj = await ctx.store.get(key, { maxBytes: seg.bytes }).catch((err) => {
      // The manifest lists it, so it was uploaded before the commit: gone means deleted or withheld.
      if (isNotFound(err)) {
        throw new SuError('INTEGRITY', `segment ${seg.name} of device ${device} is listed in its manifest but missing from the bucket`, {
          hint: 'someone deleted or withheld it; nothing was merged from this device. Run `stackunderflow sync verify` for details',
        });
      }
      throw err;
    });
    fetched[i] = checkSealedSegment(asSealed(obj.body), device, seg, key);
    done += seg.bytes;
    ctx.onProgress?.({ phase: 'download', done, total, bytes: seg.bytes, peer: device });
  };
  // A few GETs in flight: one at a time, a 1 M-event backlog spent ~8 s waiting on round trips.
  let next = 0;
  const lanes = Array.from({ length: Math.min(FETCH_LANES, plan.segments.length) }, async () => {
    try {
      while (next < plan.segments.length) await fetchOne(next++);
    } catch (err) {
      next = plan.segments.length; // the peer fails: stop the other lanes too
      throw err;
    }
  });
  const settled = await Promise.allSettled(lanes);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  const size = plan.segments.reduce((a, s) => a + s.count, 0);
  ctx.onProgress?.({ phase: 'land', done: 0, total: size, bytes: 0, peer: device });
  // A big backlog is decrypted and decoded on a worker thread while this one inserts; for a
  // small one that is not worth starting it.
  let decoded: Generator<RowBatch>;
  if (size > WORKER_LANDING) decoded = decodeInWorker(fetched, ctx.identity, device, cursor);
  else {
    const unsealed: UnsealedSegment[] = [];
    for (const f of fetched) unsealed.push({ gz: await open(asSealed(f.sealed), ctx.identity, f.expect.object), expect: f.expect });
    decoded = decodeHere(unsealed, device, cursor);
  }
  let landed: number;
  try {
    landed = landPeer(db, manifest, decoded, now, got.etag, { size });
  } finally {
    decoded.return(undefined);
  }
  return { device, name: manifest.name || null, outcome: 'landed', generation: manifest.generation, segments: plan.segments.length, events: landed };
}

function rejected(name: string | null, r: RejectedPeer): PeerPullResult {
  return { device: r.device_id, name, outcome: 'rejected', generation: null, segments: 0, events: 0, warning: r.message };
}

/** Options of {@link pull}. */
export interface PullOptions {
  /** Peers to leave out of this pull (the daemon skips a peer whose unchanged manifest already failed verification). */
  skip?: (device: string, listedEtag: string) => boolean;
}

/**
 * Pull: for every other device in the bucket, read its manifest, fetch the segments beyond
 * our cursor, verify them, and land them in one transaction per peer. Peers are
 * independent: one failing peer leaves its cursor and our store as they were and the
 * others still land; the first failure is rethrown after all peers were tried, with the
 * per-peer results attached. Pull never writes to the bucket.
 */
export async function pull(ctx: SyncContext, opts: PullOptions = {}): Promise<PullResult> {
  return withSyncLock(ctx.env, async () => {
    const result: PullResult = { peers: [], landedEvents: 0, conflictCount: 0, searchPending: 0 };
    let firstError: unknown;
    let manifests: Map<string, string>;
    try {
      manifests = await listManifests(ctx);
      manifests.delete(ctx.deviceId);
    } catch (err) {
      logSync(ctx.db, isoNow(ctx.clock), 'pull', 'error', messageOf(err));
      throw err;
    }
    // A refused device whose folder is gone is nothing to warn about any more.
    for (const r of readRejected(ctx.db)) if (!manifests.has(r.device_id)) clearRejected(ctx.db, r.device_id);
    const devices = [...manifests.keys()].filter((d) => !opts.skip?.(d, manifests.get(d)!)).sort();
    for (const device of devices) {
      try {
        const r = await pullPeer(ctx, device, manifests.get(device)!);
        result.peers.push(r);
        result.landedEvents += r.events;
      } catch (err) {
        firstError ??= err;
        const code = err instanceof SuError ? err.code : 'INTERNAL';
        result.peers.push({ device, name: readPeer(ctx.db, device)?.name ?? null, outcome: 'failed', generation: null, segments: 0, events: 0, error: { code, message: messageOf(err) } });
      }
    }
    result.conflictCount = countConflicts(ctx.db);
    result.searchPending = pendingSearchIndex(ctx.db);
    const now = isoNow(ctx.clock);
    ctx.db.prepare('UPDATE sync_state SET conflict_count = ? WHERE id = 1').run(result.conflictCount);
    const failed = result.peers.filter((p) => p.outcome === 'failed');
    if (failed.length > 0) {
      // The exit code says the worst thing that happened: a wrong key, then damage, then the network.
      const rank = (code: string) => (code === 'KEY' ? 0 : code === 'INTEGRITY' ? 1 : code === 'UNREACHABLE' ? 2 : 3);
      const worst = failed.reduce((a, b) => (rank(b.error!.code) < rank(a.error!.code) ? b : a));
      const first = firstError instanceof SuError ? firstError : undefined;
      const message =
        failed.length === 1
          ? `device ${worst.name ?? '?'} (${worst.device}): ${worst.error!.message}`
          : `${failed.length} devices failed, nothing merged from them: ` + failed.map((p) => `${p.name ?? '?'} (${p.device}): ${p.error!.message}`).join('; ');
      const err = new SuError((worst.error!.code as SuError['code']) ?? 'INTERNAL', message, {
        hint: first?.code === worst.error!.code ? first.hint : 'run `stackunderflow sync verify` for details; the store is unchanged for the failed devices',
        cause: firstError,
      });
      logSync(ctx.db, now, 'pull', 'error', message);
      (err as SuError & { result?: PullResult }).result = result;
      throw err;
    }
    ctx.db.prepare('UPDATE sync_state SET last_sync_ts = ? WHERE id = 1').run(now);
    logSync(ctx.db, now, 'pull', 'ok', `${result.landedEvents} event(s) from ${devices.length} device(s)`);
    return result;
  });
}
