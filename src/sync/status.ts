import type { Db } from '../store/db.js';
import { ensureDeviceId } from '../store/db.js';
import { DEFAULT_KEY_ENV, identityPath } from './keys.js';
import { existsSync } from 'node:fs';
import type { ObjectStore } from './objectstore/index.js';
import { devicesPrefix, parseDeviceKey } from './layout.js';
import { lastSyncError, outboxSegments, readPeers, readRejected, readSyncState } from './state.js';
import { readSettings } from './settings.js';
import { autoSwitch, getSetting, readAutoSettings, type AutoSettings } from './settings.js';
import { loopRunning } from './locks.js';
import { daemonPaths, readLoopState, type LoopMode, type LoopState } from './loop-files.js';
import { estimateRequests, type RequestEstimate } from './estimate.js';
import { formatDuration } from '../util/units.js';

export interface SyncStatus {
  enabled: boolean;
  device: { id: string; name: string | null };
  bucket: string | null;
  keyFingerprint: string | null;
  /** Where the key is expected (never the key): the env var name, and whether a key file exists. */
  key: { env: string; envSet: boolean; file: string; fileExists: boolean } | null;
  conditionalWrites: boolean | null;
  lastSyncTime: string | null;
  lastPushedSeq: number;
  pendingEvents: number;
  queuedSegments: { count: number; bytes: number };
  remoteEventsMerged: number;
  conflictCount: number;
  peers: Array<{
    id: string;
    name: string | null;
    lastSeen: string | null;
    manifestWrittenAt: string | null;
    generation: number;
    mergedThroughSeq: number;
    events: number;
    /** How far the peer has acknowledged our events, as its manifest said when prune last read it. */
    ackedOurSeq: number | null;
    /** Seconds by which the peer's clock (manifest time, newest event stamp) led ours when we read it; null when not ahead. */
    clockAheadSeconds: number | null;
  }>;
  /** Own events held back from sync because they are malformed (stored by an older version); they stay local. */
  heldBack: { count: number; examples: Array<{ seq: number; problem: string }> };
  /** Devices whose manifest this device refused (not authenticated by the bucket's key): nothing from them landed. */
  refused: Array<{ id: string; reason: string; since: string; message: string }>;
  lastError: { time: string; op: string; message: string | null } | null;
  /** Continuous sync: switch, loop, schedule, backoff, settings, request estimate. Absent when sync is off. */
  auto?: AutoStatus;
  /** Things the user should look at, e.g. a peer clock ahead of ours by more than 5 minutes. */
  warnings?: string[];
  remote?: { devices: Array<{ id: string; objects: number; bytes: number }>; objects: number; bytes: number };
}

/** `sync status`: everything from the local store (instant, no network). */
export function syncStatus(db: Db, env: NodeJS.ProcessEnv = process.env): SyncStatus {
  const state = readSyncState(db);
  const settings = readSettings(db);
  const deviceId = state?.device_id ?? ensureDeviceId(db);
  const lastPushed = state?.last_sync_event_id ?? 0;
  const pending = db.prepare('SELECT COUNT(*) FROM events WHERE device_id = ? AND seq > ? AND seq NOT IN (SELECT seq FROM sync_quarantine)').pluck().get(deviceId, lastPushed) as number;
  const heldBack = db.prepare('SELECT COUNT(*) FROM sync_quarantine').pluck().get() as number;
  const outbox = outboxSegments(db);
  const err = lastSyncError(db);
  const envName = settings.keyFromEnv ?? DEFAULT_KEY_ENV;
  const status: SyncStatus = {
    enabled: !!state,
    device: { id: deviceId, name: settings.deviceName ?? null },
    bucket: state?.bucket_url ?? null,
    keyFingerprint: state?.encryption_key_fingerprint ?? null,
    key: state ? { env: envName, envSet: !!env[envName], file: identityPath(env), fileExists: existsSync(identityPath(env)) } : null,
    conditionalWrites: settings.conditionalWrites === undefined ? null : settings.conditionalWrites === 'yes',
    lastSyncTime: state?.last_sync_ts ?? null,
    lastPushedSeq: lastPushed,
    pendingEvents: pending,
    queuedSegments: { count: outbox.length, bytes: outbox.reduce((a, s) => a + s.bytes, 0) },
    remoteEventsMerged: state?.remote_event_id ?? 0,
    conflictCount: state?.conflict_count ?? 0,
    peers: readPeers(db).map((p) => ({
      id: p.device_id,
      name: p.name,
      lastSeen: p.last_pulled_at,
      manifestWrittenAt: p.manifest_written_at,
      generation: p.generation,
      mergedThroughSeq: p.cursor_seq,
      events: p.events,
      ...peerFreshness(db, p),
    })),
    heldBack: { count: heldBack, examples: db.prepare('SELECT seq, problem FROM sync_quarantine ORDER BY seq LIMIT 3').all() as Array<{ seq: number; problem: string }> },
    refused: readRejected(db).map((r) => ({ id: r.device_id, reason: r.reason, since: r.since, message: r.message })),
    lastError: err ? { time: err.ts, op: err.op, message: err.detail } : null,
  };
  if (state) {
    status.auto = autoStatus(db, env, status.peers.length);
    status.warnings = status.peers
      .filter((p) => p.clockAheadSeconds !== null && p.clockAheadSeconds * 1000 > SKEW_WARN_MS)
      .map((p) => `${p.name ?? '?'} (${p.id})'s clock is ahead of ours by ${formatDuration(p.clockAheadSeconds!)}: its events sort after ours; fix the clock on one of the machines`);
  }
  return status;
}

/** A peer's last ack of our events, and how far its clock led ours when we read its manifest. Time-independent, so the API and the CLI agree. */
function peerFreshness(db: Db, p: ReturnType<typeof readPeers>[number]) {
  const written = Date.parse(p.manifest_written_at ?? '');
  const seenAt = Date.parse(p.last_pulled_at ?? '');
  const ack = db.prepare('SELECT acked_seq FROM sync_peer_acks WHERE device_id = ?').pluck().get(p.device_id) as number | undefined;
  const newest = db.prepare('SELECT written_at FROM events WHERE device_id = ? ORDER BY seq DESC LIMIT 1').pluck().get(p.device_id) as string | undefined;
  const stampMs = newest && /^\d{13}\./.test(newest) ? Number(newest.slice(0, 13)) : NaN;
  // Everything a peer wrote existed before we read it: a time after our read time is its clock running ahead.
  const leads = [written, stampMs].filter(Number.isFinite).map((t) => t - seenAt).filter(Number.isFinite);
  const lead = leads.length ? Math.max(...leads) : NaN;
  return {
    ackedOurSeq: ack ?? null,
    clockAheadSeconds: Number.isFinite(lead) && lead > 0 ? Math.round(lead / 1000) : null,
  };
}

/** `sync status --remote`: object counts and bytes per device, from one listing. */
export async function remoteUsage(store: ObjectStore): Promise<NonNullable<SyncStatus['remote']>> {
  const per = new Map<string, { objects: number; bytes: number }>();
  let objects = 0;
  let bytes = 0;
  for await (const o of store.list('stackunderflow/')) {
    objects++;
    bytes += o.size;
    const d = o.key.startsWith(devicesPrefix()) ? parseDeviceKey(o.key) : null;
    if (!d) continue;
    const cur = per.get(d.deviceId) ?? { objects: 0, bytes: 0 };
    cur.objects++;
    cur.bytes += o.size;
    per.set(d.deviceId, cur);
  }
  return { devices: [...per].map(([id, v]) => ({ id, ...v })).sort((a, b) => a.id.localeCompare(b.id)), objects, bytes };
}

/** The continuous-sync part of `sync status`. */
interface AutoStatus {
  /** `sync auto` switch: on, off, or never set (null). */
  setting: 'on' | 'off' | null;
  /** A loop holds the lock and its process is alive. */
  running: boolean;
  pid: number | null;
  mode: LoopMode | null;
  startedAt: string | null;
  nextPushAt: string | null;
  nextPullAt: string | null;
  nextPruneAt: string | null;
  /** Current backoff while the bucket is failing, null when healthy. */
  backoff: LoopState['backoff'];
  lastError: LoopState['lastError'];
  quarantined: NonNullable<LoopState['quarantined']>;
  counters: Record<string, number> | null;
  log: string;
  settings: AutoSettings;
  requests: RequestEstimate;
  /** Highest own seq covered by our snapshot (0: never compacted). */
  compactedThrough: number;
  lastPruneAt: string | null;
  /** Replaced segments still in the bucket, waiting for prune. */
  retired: { segments: number; bytes: number };
}

/** Reads the switch, the lock, the loop's published state and the settings. Local and instant. */
function autoStatus(db: Db, env: NodeJS.ProcessEnv, peers: number): AutoStatus {
  const settings = readAutoSettings(db);
  const run = loopRunning(env);
  const state = run.running ? readLoopState(env) : null;
  const fresh = state && state.pid === run.pid ? state : null;
  const retired = db.prepare('SELECT COUNT(*) AS n, COALESCE(SUM(bytes), 0) AS b FROM sync_retired').get() as { n: number; b: number };
  return {
    setting: autoSwitch(db),
    running: run.running,
    pid: run.pid,
    mode: run.mode,
    startedAt: run.startedAt,
    nextPushAt: fresh?.nextPushAt ?? null,
    nextPullAt: fresh?.nextPullAt ?? null,
    nextPruneAt: fresh?.nextPruneAt ?? null,
    backoff: fresh?.backoff ?? null,
    lastError: fresh?.lastError ?? null,
    quarantined: fresh?.quarantined ?? [],
    counters: fresh?.counters ?? null,
    log: daemonPaths(env).log,
    settings,
    requests: estimateRequests(settings, peers),
    compactedThrough: Number(getSetting(db, 'compacted_through') ?? 0) || 0,
    lastPruneAt: getSetting(db, 'last_prune_at') ?? null,
    retired: { segments: retired.n, bytes: retired.b },
  };
}

/** A peer clock leading ours by more than this gets a warning in status. */
const SKEW_WARN_MS = 5 * 60_000;
