import type { Db } from '../store/db.js';
import { changeKey } from './rollup.js';
import { knownDevices } from '../query/scope.js';

/** What the store holds from one origin device. */
export interface DeviceActivity {
  deviceId: string;
  /** Its name as the store knows it (a peer's manifest, this machine's settings), if any. */
  name: string | null;
  /** Events stored under this origin device. */
  events: number;
  sessions: number;
  /** Newest event timestamp from this device. */
  lastEvent: string | null;
  /** This device's events whose identity another device also holds (the union counts them once). */
  conflicts: number;
}

// Per-device conflict counts need a pass over the uid index: kept until the store changes.
const conflictCache = new WeakMap<Db, { key: string; counts: Map<string, number> }>();

/** Events per origin device that another device also holds; built once per store change. */
export function conflictsByDevice(db: Db): Map<string, number> {
  const key = changeKey(db);
  const hit = conflictCache.get(db);
  if (hit && hit.key === key) return hit.counts;
  const counts = new Map<string, number>();
  if (knownDevices(db).length > 1) {
    const rows = db
      .prepare(
        `SELECT e.device_id AS device, COUNT(*) AS n
         FROM (SELECT uid_bytes FROM events GROUP BY uid_bytes HAVING COUNT(*) > 1) d JOIN events e ON e.uid_bytes = d.uid_bytes
         GROUP BY e.device_id`,
      )
      .all() as Array<{ device: string; n: number }>;
    for (const r of rows) counts.set(r.device, r.n);
  }
  conflictCache.set(db, { key: changeKey(db), counts });
  return counts;
}

/** Every device the store knows, with what it holds from each. */
export function deviceActivity(db: Db): DeviceActivity[] {
  const perDevice = new Map(
    (db.prepare('SELECT device_id, SUM(events) AS events, COUNT(*) AS sessions, MAX(last_ts) AS last FROM sessions GROUP BY device_id').all() as Array<{
      device_id: string;
      events: number;
      sessions: number;
      last: string;
    }>).map((r) => [r.device_id, r]),
  );
  const conflicts = conflictsByDevice(db);
  return knownDevices(db).map((d) => {
    const s = perDevice.get(d.deviceId);
    return {
      deviceId: d.deviceId,
      name: d.name,
      events: s?.events ?? 0,
      sessions: s?.sessions ?? 0,
      lastEvent: s?.last || null,
      conflicts: conflicts.get(d.deviceId) ?? 0,
    };
  });
}
