import { ensureDeviceId, type Db } from '../store/db.js';
import { deviceActivity } from '../reports/devices.js';
import type { DashboardDevices } from './shapes.js';

/** What the Devices panel tells a machine without sync to run. */
const SYNC_INIT_COMMAND = 'stackunderflow sync init --bucket s3://BUCKET[/prefix]';

let statusModule: Promise<typeof import('../sync/index.js')> | undefined;

/**
 * The sync status module, loaded on first use as /api/sync/status loads it (serving reports
 * alone never loads the sync modules). Loading it (age and the daemon's modules) takes a while,
 * so the warm-up starts it.
 */
export function syncStatusModule(): Promise<typeof import('../sync/index.js')> {
  statusModule ??= import('../sync/index.js');
  return statusModule;
}

/** GET /api/devices (DashboardDevices): every device the store knows, and this machine's sync status. No secrets. */
export async function dashboardDevices(db: Db, env?: NodeJS.ProcessEnv): Promise<DashboardDevices> {
  const self = ensureDeviceId(db);
  const { syncStatus } = await syncStatusModule();
  const status = syncStatus(db, env);
  const peers = new Map(status.peers.map((p) => [p.id, p]));
  const devices = deviceActivity(db)
    .map((d) => {
      const p = peers.get(d.deviceId);
      return {
        deviceId: d.deviceId,
        // This machine's sync name is what `sync status` reports, whatever else knows it by.
        name: (d.deviceId === self ? status.device.name : null) ?? d.name ?? p?.name ?? null,
        local: d.deviceId === self,
        events: d.events,
        sessions: d.sessions,
        lastEvent: d.lastEvent,
        lastPulled: p?.lastSeen ?? null,
        lastPush: d.deviceId === self ? status.lastSyncTime : (p?.manifestWrittenAt ?? null),
        conflicts: d.conflicts,
      };
    })
    .sort((a, b) => Number(b.local) - Number(a.local) || (a.name ?? a.deviceId).localeCompare(b.name ?? b.deviceId));
  return {
    devices,
    sync: {
      enabled: status.enabled,
      deviceName: status.device.name,
      bucket: status.bucket,
      lastSyncTime: status.lastSyncTime,
      pendingEvents: status.pendingEvents,
      queuedSegments: status.queuedSegments.count,
      conflictCount: status.conflictCount,
      lastError: status.lastError,
      enableCommand: status.enabled ? null : SYNC_INIT_COMMAND,
    },
  };
}
