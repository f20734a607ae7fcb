/**
 * This device's own manifest (docs/specs/sync-protocol-v1.md): reading the bucket's copy and
 * writing a new one, the commit point shared by push, compaction and the ack-only write.
 */
import { SuError } from '../errors.js';
import { getMeta, setMeta } from '../store/db.js';
import { Hlc } from '../model/clock.js';
import { ForgedManifestError, MAX_SEALED_MANIFEST_BYTES, openManifest, sealManifest, type Manifest, type ManifestSegment } from './codec.js';
import { isoNow, type SyncContext } from './context.js';
import { asSealed, MANIFEST_AUTH_ALG } from './crypto.js';
import { manifestKey } from './layout.js';
import { isNotFound } from './objectstore/index.js';
import { writeSettings } from './settings.js';
import { logSync, readPeers, type SegmentRow } from './state.js';

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
function ownSegmentNames(ctx: SyncContext): Set<string> {
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

/** A committed segment as our manifest lists it. */
export function toEntry(s: SegmentRow): ManifestSegment {
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
