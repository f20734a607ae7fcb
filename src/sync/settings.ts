/**
 * `sync_settings`, the one key/value table beside `sync_state`, read and written through this
 * module only. Every key it may hold is declared below with its type. The keys keep the
 * spellings already stored on devices: the connection's in camelCase (written by `sync init`),
 * the loop's tunables and bookkeeping in snake case (like the spec's `keep_days`).
 */
import { SuError } from '../errors.js';
import type { Db } from '../store/db.js';

/** Non-secret connection settings, written by `sync init` and the manifest writers. */
export interface SyncSettings {
  endpoint?: string;
  region?: string;
  profile?: string;
  keyFromEnv?: string;
  deviceName?: string;
  conditionalWrites?: 'yes' | 'no';
  manifestEtag?: string;
  generation?: string;
  /** The `auth.alg` of the manifests this device writes, set by its first authenticated write. */
  manifestAuth?: string;
}

const CONNECTION_KEYS = ['endpoint', 'region', 'profile', 'keyFromEnv', 'deviceName', 'conditionalWrites', 'manifestEtag', 'generation', 'manifestAuth'] as const;

/** The loop's tunables. Times in seconds (fractions allowed, for tests). */
export interface AutoSettings {
  /** Idle pull interval: one LIST per pull when nothing changed. */
  pullInterval: number;
  /** Pull interval while this device or a peer was active within `activeWindow`. */
  pullActiveInterval: number;
  activeWindow: number;
  /** Push once no new event arrived for this long… */
  pushQuiet: number;
  /** …but no later than this after the first unpushed event. */
  pushMaxWait: number;
  keepDays: number;
  /** Compact when our manifest lists more delta segments than this. */
  compactAfter: number;
  pruneInterval: number;
  /** An ack-only manifest is written at most this often. */
  ackInterval: number;
  backoffMin: number;
  backoffMax: number;
  /** Full ingest scan, in case the watcher missed something (new log folders, network filesystems). */
  rescanInterval: number;
}

/**
 * Defaults. Latency: an event is pushed 5 s after the last one (at most 20 s after the
 * first of a burst) and a peer pulls every 10 s while active, so a visible-elsewhere p95
 * stays under 30 s. Cost: an idle device pulls once a minute, 1 LIST each (unchanged
 * manifests are not fetched): 43,200 requests in a 30-day month, plus a daily prune.
 */
export const AUTO_DEFAULTS: Readonly<AutoSettings> = Object.freeze({
  pullInterval: 60,
  pullActiveInterval: 10,
  activeWindow: 900,
  pushQuiet: 5,
  pushMaxWait: 20,
  keepDays: 30,
  compactAfter: 64,
  pruneInterval: 86_400,
  ackInterval: 86_400,
  backoffMin: 15,
  backoffMax: 300,
  rescanInterval: 300,
});

/** `sync_settings` key of each tunable. */
const AUTO_SETTING_KEYS = Object.freeze({
  pullInterval: 'pull_interval',
  pullActiveInterval: 'pull_active_interval',
  activeWindow: 'active_window',
  pushQuiet: 'push_quiet',
  pushMaxWait: 'push_max_wait',
  keepDays: 'keep_days',
  compactAfter: 'compact_after',
  pruneInterval: 'prune_interval',
  ackInterval: 'ack_interval',
  backoffMin: 'backoff_min',
  backoffMax: 'backoff_max',
  rescanInterval: 'rescan_interval',
} as const satisfies Record<keyof AutoSettings, string>);

/** Bookkeeping kept by compaction, acks and prune. */
type BookkeepingKey =
  /** `sync auto --enable/--disable`: 'on' | 'off'. */
  | 'auto'
  /** Highest own seq covered by our snapshot. */
  | 'compacted_through'
  /** A compaction's intent (JSON) until its manifest is adopted or abandoned. */
  | 'compaction_pending'
  /** The acks last written to our manifest (JSON) and when. */
  | 'published_acks'
  | 'acks_published_at'
  | 'last_prune_at'
  /** 'no' when the bucket refused deletes at `sync init`. */
  | 'can_delete';

/** Every key `sync_settings` may hold. */
export type SettingKey = (typeof CONNECTION_KEYS)[number] | (typeof AUTO_SETTING_KEYS)[keyof AutoSettings] | BookkeepingKey;

/** Keys that `sync init` clears when it (re)binds this device to a bucket: they describe the old bucket. */
export const BUCKET_BOUND_KEYS: readonly SettingKey[] = ['generation', 'manifestEtag', 'compacted_through', 'compaction_pending', 'published_acks', 'acks_published_at', 'last_prune_at', 'manifestAuth'];

/** One raw value (undefined when absent). */
export function getSetting(db: Db, key: SettingKey): string | undefined {
  const row = db.prepare('SELECT value FROM sync_settings WHERE key = ?').get(key) as { value: string } | undefined;
  return row?.value;
}

/** Sets (or with `null`/`undefined`, removes) values, in one transaction. */
export function setSettings(db: Db, values: Partial<Record<SettingKey, string | number | null | undefined>>): void {
  const put = db.prepare('INSERT INTO sync_settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
  const del = db.prepare('DELETE FROM sync_settings WHERE key = ?');
  db.transaction(() => {
    for (const [k, v] of Object.entries(values)) {
      if (v === null || v === undefined) del.run(k);
      else put.run(k, String(v));
    }
  })();
}

/** Removes these keys. */
export function clearSettings(db: Db, keys: readonly SettingKey[]): void {
  setSettings(db, Object.fromEntries(keys.map((k) => [k, null])));
}

/** The connection settings. */
export function readSettings(db: Db): SyncSettings {
  const pairs = CONNECTION_KEYS.map((k) => [k, getSetting(db, k)] as const).filter(([, v]) => v !== undefined);
  return Object.fromEntries(pairs);
}

/** Stores connection settings (an undefined value removes the key). */
export function writeSettings(db: Db, s: SyncSettings): void {
  setSettings(db, s);
}

/** The loop's settings: stored values over {@link AUTO_DEFAULTS}; unparsable values fall back to the default. */
export function readAutoSettings(db: Db): AutoSettings {
  const out = { ...AUTO_DEFAULTS };
  for (const [name, key] of Object.entries(AUTO_SETTING_KEYS) as Array<[keyof AutoSettings, SettingKey]>) {
    const v = getSetting(db, key);
    if (v === undefined) continue;
    const n = Number(v);
    if (Number.isFinite(n) && n >= 0) out[name] = n;
  }
  return out;
}

/** Validates and stores tunables. Throws USAGE for a value that is not a number in range. */
export function writeAutoSettings(db: Db, values: Partial<Record<keyof AutoSettings, number | string>>): void {
  const out: Partial<Record<SettingKey, string>> = {};
  for (const [name, raw] of Object.entries(values) as Array<[keyof AutoSettings, number | string | undefined]>) {
    if (raw === undefined) continue;
    const key = (AUTO_SETTING_KEYS as Partial<Record<string, SettingKey>>)[name];
    if (!key) throw new SuError('USAGE', `unknown setting ${name}`);
    const n = typeof raw === 'number' ? raw : Number(raw);
    const min = name === 'compactAfter' ? 1 : name === 'keepDays' ? 0 : 0.01;
    if (!Number.isFinite(n) || n < min) throw new SuError('USAGE', `${key} wants a number ≥ ${min}, got '${String(raw)}'`);
    out[key] = String(n);
  }
  if (Object.keys(out).length) setSettings(db, out);
}

/** `auto` as recorded by `sync auto --enable/--disable`: null when never set. */
export function autoSwitch(db: Db): 'on' | 'off' | null {
  const v = getSetting(db, 'auto');
  return v === 'on' || v === 'off' ? v : null;
}

/** Records `sync auto --enable/--disable` (kept across restarts). */
export function setAutoSwitch(db: Db, on: boolean): void {
  setSettings(db, { auto: on ? 'on' : 'off' });
}

/** `--set key=value` arguments (stored key spellings) as tunables; USAGE for an unknown key. */
export function parseSettingAssignments(assignments: readonly string[]): Partial<Record<keyof AutoSettings, string>> {
  const out: Partial<Record<keyof AutoSettings, string>> = {};
  const names = Object.entries(AUTO_SETTING_KEYS) as Array<[keyof AutoSettings, string]>;
  for (const kv of assignments) {
    const m = /^([a-z_]+)=(.*)$/.exec(kv);
    const name = m && names.find(([, k]) => k === m[1])?.[0];
    if (!m || !name) throw new SuError('USAGE', `--set wants key=value with a key among ${names.map(([, k]) => k).join(', ')}; got '${kv}'`);
    out[name] = m[2];
  }
  return out;
}
