import type { Db } from '../store/db.js';
import { ensureDeviceId } from '../store/db.js';
import { SuError } from '../errors.js';

/**
 * Which devices' events a read covers. `local`: this device's own logs. `all`: the union
 * of every device in the store: each event identity shown once (last write wins), each
 * response billed once by the rule of docs/numbers.md over every device's lines. `device`: one device, by id, unique id prefix, or sync name.
 */
export type Scope = { kind: 'local' } | { kind: 'all' } | { kind: 'device'; device: string };

/** A scope with its device resolved to an id. */
export type ResolvedScope =
  | { kind: 'local'; deviceId: string; multiDevice: boolean }
  | { kind: 'all'; multiDevice: boolean }
  | { kind: 'device'; deviceId: string; multiDevice: boolean };

/** A WHERE fragment (no leading AND) with its positional parameters. */
export interface SqlFragment {
  sql: string;
  params: unknown[];
}

/** Parses `local`, `all`, `device:<id-or-name>` (a bare device id/name is accepted too). */
export function parseScope(text: string): Scope {
  const v = text.trim();
  if (v === 'local') return { kind: 'local' };
  if (v === 'all') return { kind: 'all' };
  const device = v.startsWith('device:') ? v.slice('device:'.length).trim() : v;
  if (device === '' || /\s/.test(device)) {
    throw new SuError('USAGE', `invalid scope '${text}'`, { hint: 'use --scope local, --scope all or --scope device:<id-or-name>' });
  }
  return { kind: 'device', device };
}

/** `local` | `all` | `device:<id>`: the inverse of parseScope, for output. */
export function formatScope(s: ResolvedScope): string {
  return s.kind === 'device' ? `device:${s.deviceId}` : s.kind;
}

function hasOtherDevice(db: Db, table: 'events' | 'usage', self: string): boolean {
  // Two range probes on an index led by device_id: O(log n), unlike COUNT(DISTINCT).
  const gt = db.prepare(`SELECT 1 FROM ${table} WHERE device_id > ? LIMIT 1`).get(self);
  return gt !== undefined || db.prepare(`SELECT 1 FROM ${table} WHERE device_id < ? LIMIT 1`).get(self) !== undefined;
}

/** `all` when the store holds events from any device other than this one, else `local`. */
export function defaultScope(db: Db): Scope {
  return hasOtherDevice(db, 'events', ensureDeviceId(db)) ? { kind: 'all' } : { kind: 'local' };
}

function tableExists(db: Db, name: string): boolean {
  return db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name) !== undefined;
}

/** Every device id the store knows: origins of events, plus peers known to sync. */
export function knownDevices(db: Db): Array<{ deviceId: string; name: string | null; local: boolean }> {
  const self = ensureDeviceId(db);
  const names = new Map<string, string | null>();
  for (const id of db.prepare('SELECT DISTINCT device_id FROM sessions').pluck().all() as string[]) names.set(id, null);
  names.set(self, null);
  if (tableExists(db, 'sync_peers')) {
    for (const r of db.prepare('SELECT device_id, name FROM sync_peers').all() as Array<{ device_id: string; name: string | null }>) {
      names.set(r.device_id, r.name ?? names.get(r.device_id) ?? null);
    }
  }
  if (tableExists(db, 'sync_settings')) {
    const own = db.prepare(`SELECT value FROM sync_settings WHERE key = 'deviceName'`).pluck().get() as string | undefined;
    if (own) names.set(self, own);
  }
  return [...names.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([deviceId, name]) => ({ deviceId, name, local: deviceId === self }));
}

/** Resolves a device reference: exact id, then exact sync name, then a unique id prefix (4+ chars). */
function resolveDevice(db: Db, ref: string): string {
  const devices = knownDevices(db);
  const exact = devices.find((d) => d.deviceId === ref);
  if (exact) return exact.deviceId;
  const named = devices.filter((d) => d.name === ref);
  if (named.length === 1) return named[0].deviceId;
  const prefixed = ref.length >= 4 ? devices.filter((d) => d.deviceId.startsWith(ref)) : [];
  if (prefixed.length === 1) return prefixed[0].deviceId;
  const list = devices.map((d) => d.deviceId + (d.name ? ` (${d.name})` : '') + (d.local ? ' [this device]' : '')).join(', ');
  throw new SuError(named.length > 1 || prefixed.length > 1 ? 'USAGE' : 'NOT_FOUND', `no single device matches '${ref}'`, {
    hint: `known devices: ${list || 'none'}`,
  });
}

/** Turns a scope (default: `defaultScope`) into ids. */
export function resolveScope(db: Db, scope?: Scope): ResolvedScope {
  const s = scope ?? defaultScope(db);
  const self = ensureDeviceId(db);
  const multiDevice = hasOtherDevice(db, 'usage', self) || hasOtherDevice(db, 'events', self);
  if (s.kind === 'local') return { kind: 'local', deviceId: self, multiDevice };
  if (s.kind === 'device') return { kind: 'device', deviceId: resolveDevice(db, s.device), multiDevice };
  return { kind: 'all', multiDevice };
}

/**
 * The bills a scope reads (docs/numbers.md): `usage` holds each device's bills (one row per
 * usage key and device), `usage_union` the union's (one row per usage key, over every device's
 * lines, attributed to the device of the earliest line). A store of one device keeps no union:
 * there `all` is `local`.
 */
export function usageTable(scope: ResolvedScope): 'usage' | 'usage_union' {
  return scope.kind === 'all' && scope.multiDevice ? 'usage_union' : 'usage';
}

/** The 15-minute sums of the same bills (migration 035). */
export function slotsTable(scope: ResolvedScope): 'usage_slots' | 'union_slots' {
  return usageTable(scope) === 'usage' ? 'usage_slots' : 'union_slots';
}

/** Which rows (alias `a`) of {@link usageTable} a scope bills. */
export function usageScopeSql(scope: ResolvedScope, a = 'u'): SqlFragment {
  if (scope.kind === 'all' || (scope.kind === 'local' && !scope.multiDevice)) return { sql: '1', params: [] };
  return { sql: `${a}.device_id = ?`, params: [scope.deviceId] };
}

/**
 * Which `events` rows (alias `a`) a scope shows. Under `all`, an event identity (`uid`)
 * present on several devices counts once: the row with the highest (written_at, device_id) wins.
 */
export function eventsScopeSql(scope: ResolvedScope, a = 'e'): SqlFragment {
  if (scope.kind !== 'device' && !scope.multiDevice) return { sql: '1', params: [] };
  if (scope.kind !== 'all') return { sql: `${a}.device_id = ?`, params: [scope.deviceId] };
  return {
    sql: `NOT EXISTS (SELECT 1 FROM events w WHERE w.uid_bytes = ${a}.uid_bytes AND w.device_id <> ${a}.device_id
      AND (w.written_at > ${a}.written_at OR (w.written_at = ${a}.written_at AND w.device_id > ${a}.device_id)))`,
    params: [],
  };
}
