/** What continuous sync costs in bucket requests at given settings, for `sync auto --status`. */
import type { AutoSettings } from './settings.js';

/** Requests a month (30 days) at these settings. */
export interface RequestEstimate {
  /** A machine where nothing happens anywhere: pulls at the idle interval plus housekeeping. */
  idlePerMonth: number;
  /** Extra requests per hour of activity (faster pulls, pushes at the debounce limit). */
  activePerHour: number;
  /** The arithmetic, for people. */
  basis: string;
}

/** Estimates bucket requests; `peers` = other devices in the bucket. */
export function estimateRequests(s: AutoSettings, peers: number): RequestEstimate {
  const month = 30 * 86_400;
  const pulls = Math.round(month / Math.max(s.pullInterval, 0.01));
  // Daily housekeeping: LIST devices + LIST our probe prefix + GET own manifest + GET each peer's manifest,
  // and at most one ack-only manifest (GET + PUT) per ack interval.
  const prunes = Math.round(month / Math.max(s.pruneInterval, 1));
  const pruneReqs = prunes * (3 + peers);
  const acks = Math.round(month / Math.max(s.ackInterval, 1)) * 2;
  const idle = pulls + pruneReqs + acks;
  // Active: pulls at the active interval instead of the idle one; during continuous activity a
  // push (segment PUT + manifest GET + PUT) every pushMaxWait seconds.
  const activePulls = 3600 / Math.max(s.pullActiveInterval, 0.01) - 3600 / Math.max(s.pullInterval, 0.01);
  const pushes = 3600 / Math.max(s.pushMaxWait, 0.01);
  const activePerHour = Math.round(Math.max(0, activePulls) + pushes * 3);
  return {
    idlePerMonth: idle,
    activePerHour,
    basis: `${pulls} pulls (1 LIST every ${s.pullInterval}s) + ${pruneReqs} prune + ${acks} ack requests per 30 days idle; ` +
      `active: 1 LIST every ${s.pullActiveInterval}s and, in continuous activity, ${Math.round(pushes)} pushes/h × 3 requests`,
  };
}
