import { privateDir } from '../store/private.js';
import type { Db } from '../store/db.js';
import { ensureDeviceId } from '../store/db.js';
import { SuError } from '../errors.js';
import { syncDir } from '../paths.js';
import type { Clock } from '../model/clock.js';
import { systemClock } from '../model/clock.js';
import { fingerprint, type Identity, type Recipient } from './crypto.js';
import { requireIdentity } from './keys.js';
import { isNotFound, openObjectStore, type ObjectStore } from './objectstore/index.js';
import { keyJsonKey } from './layout.js';
import { requireSyncState, type SyncStateRow } from './state.js';
import { readSettings, type SyncSettings } from './settings.js';

/** Progress of a long push or pull, for a progress bar. */
export interface SyncProgress {
  phase: 'stage' | 'upload' | 'download' | 'land' | 'verify';
  done: number;
  total: number;
  bytes: number;
  peer?: string;
}

/** Everything a sync operation needs: the store, the bucket, the key, a clock. */
export interface SyncContext {
  db: Db;
  env: NodeJS.ProcessEnv;
  clock: Clock;
  deviceId: string;
  deviceName: string;
  state: SyncStateRow;
  settings: SyncSettings;
  store: ObjectStore;
  identity: Identity;
  recipient: Recipient;
  fingerprint: string;
  keySource: 'env' | 'file';
  onProgress?: (p: SyncProgress) => void;
}

export interface ContextOptions {
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
  onProgress?: (p: SyncProgress) => void;
  /** Open a different object store (tests inject request-counting proxies this way). */
  store?: ObjectStore;
}

/** The S3 options recorded at init (no secrets: credentials come from the AWS chain each time). */
export function storeOptions(settings: SyncSettings) {
  return {
    endpoint: settings.endpoint,
    region: settings.region,
    profile: settings.profile,
    conditionalWrites: settings.conditionalWrites === undefined ? undefined : settings.conditionalWrites === 'yes',
  };
}

/** Loads sync state, resolves the key and checks it is the bucket's key. No network. */
export async function loadContext(db: Db, opts: ContextOptions = {}): Promise<SyncContext> {
  const env = opts.env ?? process.env;
  const state = requireSyncState(db);
  const settings = readSettings(db);
  const key = await requireIdentity({ env, keyFromEnv: settings.keyFromEnv });
  const recipient = await key.identity.recipient();
  const fp = fingerprint(recipient);
  if (fp !== state.encryption_key_fingerprint) {
    throw new SuError('KEY', `the sync key in use (fingerprint ${fp}) is not this bucket's key (fingerprint ${state.encryption_key_fingerprint})`, {
      hint: `set ${settings.keyFromEnv ?? 'STACKUNDERFLOW_SYNC_KEY'} to the key from \`stackunderflow sync key export\` on a device that syncs with ${state.bucket_url}`,
    });
  }
  // Checked on every use, not only when created: a folder loosened since is tightened again.
  privateDir(syncDir(env));
  const store = opts.store ?? (await openObjectStore(state.bucket_url, storeOptions(settings)));
  if (!opts.store && state.bucket_url.startsWith('file:')) await requireFileBucket(store);
  return {
    db,
    env,
    clock: opts.clock ?? systemClock,
    deviceId: ensureDeviceId(db),
    deviceName: settings.deviceName ?? '',
    state,
    settings,
    store,
    identity: key.identity,
    recipient,
    fingerprint: fp,
    keySource: key.source,
    onProgress: opts.onProgress,
  };
}

/**
 * A directory bucket must still be the one `sync init` set up: without its key.json it is an
 * unmounted disk or a moved folder, and writing there would silently start a new bucket.
 */
async function requireFileBucket(store: ObjectStore): Promise<void> {
  try {
    await store.head(keyJsonKey());
  } catch (err) {
    if (!isNotFound(err)) throw err;
    throw new SuError('CONFIG', `the bucket directory ${store.url} has no ${keyJsonKey()}: it is not mounted, was moved or renamed, or was emptied`, {
      hint: 'mount the disk or put the folder back; for a new, empty bucket run `stackunderflow sync init --bucket <url>`',
    });
  }
}

export function isoNow(clock: Clock): string {
  return new Date(clock.now()).toISOString();
}
