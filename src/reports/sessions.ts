import type { Db } from '../store/db.js';
import type { Provider } from '../model/event.js';
import { aggregate } from './aggregate.js';
import { contextMeta, filterTerms, reportContext, type ReportMeta } from '../query/context.js';
import type { ReportOptions } from '../query/options.js';
import { costOf, priceFor } from '../query/pricing.js';
import { eventsScopeSql } from '../query/scope.js';
import { localDate } from '../query/timezone.js';
import { SYNTHETIC_MODEL } from '../query/synthetic.js';

/** One session in the listing: activity from its events, tokens and cost from its billed usage. */
interface SessionListEntry {
  sessionId: string;
  provider: Provider;
  project: string;
  /** ISO-8601 UTC of the first and last event ('' when no event had a timestamp). */
  firstTimestamp: string;
  lastTimestamp: string;
  /** Local date of the last event. */
  lastActivity: string;
  events: number;
  inputTokens: number;
  outputTokens: number;
  cacheCreationTokens: number;
  cacheReadTokens: number;
  totalTokens: number;
  totalCost: number;
  modelsUsed: string[];
  unpricedModels: string[];
  /** Devices the session's events came from. */
  deviceIds: string[];
}

export interface SessionList {
  sessions: SessionListEntry[];
  meta: ReportMeta;
}

export interface SessionListOptions extends ReportOptions {
  /** At most this many sessions, most recent first. */
  limit?: number;
}

interface SessionRow {
  provider: Provider;
  session_id: string;
  project: string;
  first_ts: string;
  last_ts: string;
  events: number;
  devices: string;
}

/**
 * Sessions, most recently active first. `since`/`until` keep sessions active on some day in
 * the range; token totals are the whole session's. Under `all` with several devices a
 * session seen on two devices is one entry whose events are counted once each (union rule).
 */
export function listSessions(db: Db, opts: SessionListOptions = {}, env?: NodeJS.ProcessEnv): SessionList {
  const ctx = reportContext(db, opts, env);
  const where: string[] = [];
  const params: unknown[] = [];
  filterTerms(ctx, where, params);
  let rows: SessionRow[];
  if (ctx.scope.kind === 'all' && ctx.scope.multiDevice) {
    const scope = eventsScopeSql(ctx.scope, 'u');
    rows = db
      .prepare(
        `SELECT u.provider, u.session_id, MAX(u.project) AS project, COALESCE(MIN(NULLIF(u.ts, '')), '') AS first_ts,
           MAX(u.ts) AS last_ts, COUNT(*) AS events, group_concat(DISTINCT u.device_id) AS devices
         FROM events u WHERE ${[scope.sql, ...where].join(' AND ')} GROUP BY u.provider, u.session_id`,
      )
      .all(...scope.params, ...params) as SessionRow[];
  } else {
    // The trigger-maintained per-device session table: no event scan.
    if (ctx.scope.kind !== 'all') {
      where.push('u.device_id = ?');
      params.push(ctx.scope.deviceId);
    }
    rows = db
      .prepare(
        `SELECT u.provider, u.session_id, u.project, u.first_ts, u.last_ts, u.events, u.device_id AS devices
         FROM sessions u ${where.length ? 'WHERE ' + where.join(' AND ') : ''}`,
      )
      .all(...params) as SessionRow[];
  }

  const tz = ctx.timezone;
  const dayOf = (ts: string) => (ts ? localDate(tz, Date.parse(ts)) : '');
  if (ctx.since || ctx.until) {
    rows = rows.filter((s) => (!ctx.since || dayOf(s.last_ts) >= ctx.since) && (!ctx.until || (s.first_ts !== '' && dayOf(s.first_ts) <= ctx.until)));
  }
  rows.sort((a, b) => b.last_ts.localeCompare(a.last_ts) || a.session_id.localeCompare(b.session_id));
  if (opts.limit !== undefined && opts.limit >= 0) rows = rows.slice(0, opts.limit);

  // Whole-session usage, whatever the date range.
  const usage = new Map<string, { tokens: number[]; cost: number; models: Map<string, number>; unpriced: Set<string> }>();
  const aggCtx = { ...ctx, since: undefined, until: undefined, sinceDay: undefined, untilDay: undefined };
  for (const r of aggregate(db, aggCtx, ['session'])) {
    const k = r.provider + '\u0000' + r.session;
    let u = usage.get(k);
    if (!u) usage.set(k, (u = { tokens: [0, 0, 0, 0], cost: 0, models: new Map(), unpriced: new Set() }));
    u.tokens[0] += r.inputTokens;
    u.tokens[1] += r.outputTokens;
    u.tokens[2] += r.cacheCreationTokens;
    u.tokens[3] += r.cacheReadTokens;
    const name = r.model ?? 'unknown';
    const sum = r.inputTokens + r.outputTokens + r.cacheCreationTokens + r.cacheReadTokens;
    if (r.model !== SYNTHETIC_MODEL) {
      const prev = u.models.get(name);
      if (prev === undefined || r.firstMs < prev) u.models.set(name, r.firstMs);
      const p = priceFor(r.model);
      if (p) u.cost += costOf(r, p);
      else if (sum > 0) u.unpriced.add(name);
    }
  }

  const sessions = rows.map((s) => {
    const u = usage.get(s.provider + '\u0000' + s.session_id);
    const t = u?.tokens ?? [0, 0, 0, 0];
    return {
      sessionId: s.session_id,
      provider: s.provider,
      project: s.project,
      firstTimestamp: s.first_ts,
      lastTimestamp: s.last_ts,
      lastActivity: dayOf(s.last_ts),
      events: s.events,
      inputTokens: t[0],
      outputTokens: t[1],
      cacheCreationTokens: t[2],
      cacheReadTokens: t[3],
      totalTokens: t[0] + t[1] + t[2] + t[3],
      totalCost: u?.cost ?? 0,
      modelsUsed: u ? [...u.models.entries()].sort((a, b) => a[1] - b[1]).map(([n]) => n) : [],
      unpricedModels: u ? [...u.unpriced].sort() : [],
      deviceIds: s.devices.split(',').sort(),
    };
  });
  return { sessions, meta: contextMeta(ctx) };
}
