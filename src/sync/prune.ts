/**
 * Pruning (docs/specs/sync-protocol-v1.md §10.2): deleting objects in OUR device folder
 * that our manifest no longer lists — segments replaced by a snapshot, orphans of pushes
 * or compactions that never committed, probe leftovers.
 *
 * An unlisted object goes only when it is older than keep-days and, for a replaced segment
 * (whose seq range we know), every active peer has acknowledged past its seqTo. A peer is
 * active while its manifest is younger than keep-days; a silent one no longer holds pruning
 * back (when it returns it rebuilds from the snapshot). Nothing a manifest lists, nothing in
 * the spool, no manifest, no key.json and nothing of another device is ever a candidate, so a
 * crash at any point of a prune loses nothing.
 */
import { SuError, messageOf } from '../errors.js';
import { MAX_SEALED_MANIFEST_BYTES, openManifest } from './codec.js';
import { asSealed } from './crypto.js';
import { isoNow, type SyncContext } from './context.js';
import { withSyncLock } from './locks.js';
import { devicePrefix, devicesPrefix, manifestKey, parseDeviceKey } from './layout.js';
import type { ObjectInfo } from './objectstore/index.js';
import { readOwnManifest } from './manifest.js';
import { committedSegments, logSync, outboxSegments } from './state.js';
import { getSetting, readAutoSettings, setSettings } from './settings.js';
import { publishAcks, recoverCompactionLocked } from './compact.js';

const DAY_MS = 86_400_000;

/** Milliseconds of a manifest's `writtenAt`: an HLC stamp (`WWWWWWWWWWWWW.LLLLLL`) or, from older writers, ISO-8601. */
function stampMs(s: string): number {
  return /^\d{13}\.\d{6}$/.test(s) ? Number(s.slice(0, 13)) : Date.parse(s);
}

/** One unlisted object of ours, and what prune does with it. */
export interface PruneObject {
  key: string;
  bytes: number;
  lastModified: string | null;
  /** replaced: a segment a compaction took off the list; orphan: a segment no manifest of ours ever listed (as far as we know); leftover: a probe object. */
  kind: 'replaced' | 'orphan' | 'leftover' | 'unknown';
  /** Highest seq the object holds, when known (replaced segments). */
  seqTo: number | null;
  action: 'delete' | 'keep';
  reason: string;
}

/** A peer as prune saw it. */
interface PrunePeer {
  id: string;
  name: string | null;
  /** Latest of its manifest's upload time and the time written inside it. */
  lastActive: string | null;
  active: boolean;
  /** The highest of our seqs it has acknowledged (0: none, or unreadable). */
  ackedSeq: number;
  error?: string;
}

/** The input of {@link planPrune}: everything it decides from, nothing it fetches. */
export interface PrunePlanInput {
  deviceId: string;
  nowMs: number;
  keepDays: number;
  /** Objects under our device folder, plus our probe leftovers. */
  objects: ObjectInfo[];
  /** Segment names a current manifest of ours lists (bucket's and local copy). */
  listed: ReadonlySet<string>;
  /** Segment names in the spool or in a pending compaction: about to be listed. */
  spooled: ReadonlySet<string>;
  /** Replaced segments: their seqTo, and when they were taken off the list. */
  retired: ReadonlyMap<string, { seqTo: number; retiredAtMs: number }>;
  peers: ReadonlyArray<{ id: string; ackedSeq: number; lastActiveMs: number | null }>;
}

/** True for a peer that counts for acks: its manifest is younger than keep-days. */
function peerActive(lastActiveMs: number | null, nowMs: number, keepDays: number): boolean {
  return lastActiveMs !== null && nowMs - lastActiveMs < keepDays * DAY_MS;
}

function isProbeLeftover(key: string, deviceId: string): boolean {
  // The spec puts probes in our folder (`devices/<me>/probe-…`); init writes `_probe/<me>`.
  return key === `stackunderflow/v1/_probe/${deviceId}` || key.startsWith(`${devicePrefix(deviceId)}probe-`);
}

const days = (ms: number) => (ms / DAY_MS).toFixed(1);

/**
 * Decides, object by object, what goes. Pure and sorted by key. Objects a manifest lists and
 * manifests themselves are not candidates and do not appear in the result.
 */
export function planPrune(input: PrunePlanInput): PruneObject[] {
  const keepMs = input.keepDays * DAY_MS;
  const active = input.peers.filter((p) => peerActive(p.lastActiveMs, input.nowMs, input.keepDays));
  const out: PruneObject[] = [];
  for (const o of input.objects) {
    const parsed = parseDeviceKey(o.key);
    if (parsed && parsed.deviceId !== input.deviceId) continue;
    if (parsed?.type === 'manifest') continue;
    const base = { key: o.key, bytes: o.size, lastModified: o.lastModified ? o.lastModified.toISOString() : null };
    const keep = (kind: PruneObject['kind'], seqTo: number | null, reason: string): void => void out.push({ ...base, kind, seqTo, action: 'keep', reason });
    const del = (kind: PruneObject['kind'], seqTo: number | null, reason: string): void => void out.push({ ...base, kind, seqTo, action: 'delete', reason });

    let kind: PruneObject['kind'];
    let retired: { seqTo: number; retiredAtMs: number } | undefined;
    if (parsed?.type === 'segment') {
      if (input.listed.has(parsed.name)) continue;
      if (input.spooled.has(parsed.name)) {
        keep('orphan', null, 'in the outbox: a push or compaction is about to list it');
        continue;
      }
      retired = input.retired.get(parsed.name);
      kind = retired ? 'replaced' : 'orphan';
    } else if (isProbeLeftover(o.key, input.deviceId)) {
      kind = 'leftover';
    } else {
      if (o.key.startsWith(devicePrefix(input.deviceId))) keep('unknown', null, 'not an object this version writes: left alone');
      continue;
    }
    const seqTo = retired?.seqTo ?? null;
    if (!o.lastModified) {
      keep(kind, seqTo, 'the bucket gives no modification time');
      continue;
    }
    // A replaced segment counts from when it left the list: a peer that read the old manifest
    // just before the compaction may still be fetching it.
    const since = Math.max(o.lastModified.getTime(), retired?.retiredAtMs ?? 0);
    const age = input.nowMs - since;
    if (age < keepMs) {
      keep(kind, seqTo, `younger than keep-days (${days(age)} of ${input.keepDays} days)`);
      continue;
    }
    if (retired) {
      const behind = active.filter((p) => p.ackedSeq < retired.seqTo);
      if (behind.length > 0) {
        keep(kind, seqTo, `not yet acknowledged by ${behind.map((p) => `${p.id} (acked ${p.ackedSeq} < ${retired.seqTo})`).join(', ')}`);
        continue;
      }
      del(kind, seqTo, `replaced by a snapshot ${days(age)} days ago; every active peer acknowledged it`);
      continue;
    }
    del(kind, seqTo, kind === 'leftover' ? `probe leftover, ${days(age)} days old` : `never listed by a manifest of ours, ${days(age)} days old`);
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export interface PruneOptions {
  /** Overrides `keep_days` (default 30) for this run. */
  keepDays?: number;
  /** Decide and report, delete nothing, write nothing to the bucket. */
  dryRun?: boolean;
  /** Minimum time since the last ack-bearing manifest before an ack-only one is written (default: `ack_interval`). */
  ackIntervalMs?: number;
}

export interface PruneResult {
  dryRun: boolean;
  keepDays: number;
  time: string;
  peers: PrunePeer[];
  /** Every unlisted object of ours, with the decision and its reason. */
  objects: PruneObject[];
  /** Objects deleted (or, with dryRun, that would be). */
  deleted: number;
  /** Bytes freed (or that would be). */
  bytesSaved: number;
  kept: number;
  keptBytes: number;
  /** Generation of an ack-only manifest written first, or null. */
  acksPublished: number | null;
}

const DELETE_BATCH = 100;

/**
 * `sync prune`: publishes our acks if they moved (so peers can prune too), then lists our
 * folder and every peer manifest, plans with {@link planPrune}, and deletes. Takes the sync lock.
 */
export async function prune(ctx: SyncContext, opts: PruneOptions = {}): Promise<PruneResult> {
  const { db } = ctx;
  const settings = readAutoSettings(db);
  const keepDays = opts.keepDays ?? settings.keepDays;
  if (!Number.isFinite(keepDays) || keepDays < 0) throw new SuError('USAGE', `--keep-days wants a number of days ≥ 0, got ${keepDays}`);
  if (!opts.dryRun && getSetting(db, 'can_delete') === 'no') {
    throw new SuError('CONFIG', 'the bucket refused deletes when sync was set up (can_delete = no): pruning is off', {
      hint: 'grant s3:DeleteObject on this device\'s folder, then re-run `stackunderflow sync init` with the same bucket',
    });
  }
  const acksPublished = opts.dryRun ? null : await publishAcks(ctx, { minIntervalMs: opts.ackIntervalMs ?? 0 });

  return withSyncLock(ctx.env, async () => {
    try {
      if (!opts.dryRun) await recoverCompactionLocked(ctx);
      const me = ctx.deviceId;
      const nowMs = ctx.clock.now();
      const objects: ObjectInfo[] = [];
      const peerManifests: ObjectInfo[] = [];
      for await (const o of ctx.store.list(devicesPrefix())) {
        const parsed = parseDeviceKey(o.key);
        if (o.key.startsWith(devicePrefix(me))) objects.push(o);
        else if (parsed?.type === 'manifest') peerManifests.push(o);
      }
      for await (const o of ctx.store.list(`stackunderflow/v1/_probe/${me}`)) objects.push(o);

      const own = await readOwnManifest(ctx);
      const listed = new Set([...(own?.manifest?.segments.map((s) => s.name) ?? []), ...committedSegments(db).map((s) => s.name)]);
      const pending = getSetting(db, 'compaction_pending');
      const pendingNames = pending ? ((JSON.parse(pending) as { entries: Array<{ name: string }> }).entries ?? []).map((e) => e.name) : [];
      const spooled = new Set([...outboxSegments(db).map((s) => s.name), ...pendingNames]);
      const retiredRows = db.prepare('SELECT name, seq_to, retired_at FROM sync_retired').all() as Array<{ name: string; seq_to: number; retired_at: string }>;
      const retired = new Map(retiredRows.map((r) => [r.name, { seqTo: r.seq_to, retiredAtMs: Date.parse(r.retired_at) || 0 }]));

      const peers: PrunePeer[] = [];
      const peerInputs: PrunePlanInput['peers'][number][] = [];
      const seen = isoNow(ctx.clock);
      const saveAck = db.prepare(`INSERT INTO sync_peer_acks(device_id, acked_seq, manifest_written_at, manifest_modified_at, seen_at) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT(device_id) DO UPDATE SET acked_seq = excluded.acked_seq, manifest_written_at = excluded.manifest_written_at,
          manifest_modified_at = excluded.manifest_modified_at, seen_at = excluded.seen_at`);
      for (const m of peerManifests) {
        const id = parseDeviceKey(m.key)!.deviceId;
        const modified = m.lastModified?.getTime() ?? null;
        try {
          const got = await ctx.store.get(manifestKey(id), { maxBytes: MAX_SEALED_MANIFEST_BYTES });
          const manifest = await openManifest(asSealed(got.body), ctx.identity, { device: id, keyFingerprint: ctx.fingerprint, object: manifestKey(id) });
          const written = stampMs(manifest.writtenAt);
          // The later of the two: a peer whose clock runs ahead stays active longer, which only keeps more.
          const lastActiveMs = Math.max(modified ?? -Infinity, Number.isFinite(written) ? written : -Infinity);
          const last = Number.isFinite(lastActiveMs) ? lastActiveMs : null;
          // An unauthenticated manifest's acks could be anyone's: they hold nothing back, they release nothing.
          const ackedSeq = manifest.unauthenticated ? 0 : (manifest.acks[me] ?? 0);
          peerInputs.push({ id, ackedSeq, lastActiveMs: last });
          peers.push({ id, name: manifest.name || null, lastActive: last === null ? null : new Date(last).toISOString(), active: peerActive(last, nowMs, keepDays), ackedSeq });
          saveAck.run(id, ackedSeq, Number.isFinite(written) ? new Date(written).toISOString() : null, m.lastModified?.toISOString() ?? null, seen);
        } catch (err) {
          // An unreadable peer acknowledges nothing; it holds pruning back while its manifest is recent.
          peerInputs.push({ id, ackedSeq: 0, lastActiveMs: modified });
          peers.push({ id, name: null, lastActive: modified === null ? null : new Date(modified).toISOString(), active: peerActive(modified, nowMs, keepDays), ackedSeq: 0, error: messageOf(err) });
        }
      }

      const plan = planPrune({ deviceId: me, nowMs, keepDays, objects, listed, spooled, retired, peers: peerInputs });
      const doomed = plan.filter((o) => o.action === 'delete');
      const result: PruneResult = {
        dryRun: !!opts.dryRun,
        keepDays,
        time: new Date(nowMs).toISOString(),
        peers,
        objects: plan,
        deleted: doomed.length,
        bytesSaved: doomed.reduce((a, o) => a + o.bytes, 0),
        kept: plan.length - doomed.length,
        keptBytes: plan.filter((o) => o.action === 'keep').reduce((a, o) => a + o.bytes, 0),
        acksPublished,
      };
      if (opts.dryRun) return result;

      for (let i = 0; i < doomed.length; i += DELETE_BATCH) {
        const keys = doomed.slice(i, i + DELETE_BATCH).map((o) => o.key);
        await ctx.store.delete(keys);
        const gone = db.prepare('DELETE FROM sync_retired WHERE name = ?');
        db.transaction(() => {
          for (const k of keys) {
            const p = parseDeviceKey(k);
            if (p?.type === 'segment') gone.run(p.name);
          }
        })();
      }
      // Retired segments that are no longer in the bucket at all (deleted by an earlier run that crashed before its bookkeeping).
      const present = new Set(objects.map((o) => parseDeviceKey(o.key)).filter((p) => p?.type === 'segment').map((p) => (p as { name: string }).name));
      const dropGone = db.prepare('DELETE FROM sync_retired WHERE name = ?');
      db.transaction(() => {
        for (const r of retiredRows) if (!present.has(r.name)) dropGone.run(r.name);
      })();
      const now = isoNow(ctx.clock);
      setSettings(db, { last_prune_at: now });
      logSync(db, now, 'prune', 'ok', `deleted ${result.deleted} object(s), ${result.bytesSaved} bytes; kept ${result.kept}`);
      return result;
    } catch (err) {
      if (!opts.dryRun) logSync(db, isoNow(ctx.clock), 'prune', 'error', messageOf(err));
      throw err;
    }
  });
}
