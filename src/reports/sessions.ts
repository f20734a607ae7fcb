import type { Db } from '../store/db.js';
import type { Provider } from '../model/event.js';
import { aggregate } from './aggregate.js';
import { stmt } from '../store/statements.js';
import type { TokenCounts } from './reports.js';
import { contextMeta, filterTerms, reportContext, type ReportContext, type ReportMeta } from '../query/context.js';
import type { ReportOptions } from '../query/options.js';
import { groupCost } from '../query/pricing.js';
import { eventsScopeSql } from '../query/scope.js';
import { dayStartMs, localDate } from '../query/timezone.js';
import { SYNTHETIC_MODEL } from '../query/synthetic.js';

/** One session in the listing: activity from its events, tokens and cost from its billed usage. */
interface SessionListEntry extends RecentSession, TokenCounts {
  totalCost: number;
  modelsUsed: string[];
  unpricedModels: string[];
}

export interface SessionList {
  sessions: SessionListEntry[];
  meta: ReportMeta;
}

export interface SessionListOptions extends ReportOptions {
  /** At most this many sessions, most recent first. */
  limit?: number;
}

/** A session as the listings select it: where and when it was active. */
interface RecentSession {
  provider: Provider;
  sessionId: string;
  project: string;
  /** ISO-8601 UTC of the first and last event ('' when no event had a timestamp). */
  firstTimestamp: string;
  lastTimestamp: string;
  /** Local date of the last event. */
  lastActivity: string;
  /** Events of the session: each device's copies summed when `all` merges session rows (see `union`). */
  events: number;
  /** Devices the session's events came from. */
  deviceIds: string[];
}

/**
 * The one "recent sessions" rule, behind `sessions`, /api/sessions and the dashboard's list:
 * the sessions in scope (and of the context's provider and project) active in its range (last
 * event on or after `since`, first on or before `until`, local days in its zone), most recently
 * active first, at most `limit` of them, and how many there are in all.
 *
 * Read from the trigger-maintained per-device `sessions` table, merged across devices under
 * `all`, where `deviceIds` is every device holding a copy: no event scan. With `union`, `all` on
 * several devices reads the events by the union rule instead, so an event two devices hold
 * counts once and `deviceIds` names the devices whose copies won.
 */
export function recentSessions(db: Db, ctx: ReportContext, opts: { limit?: number; union?: boolean } = {}): { sessions: RecentSession[]; total: number } {
  const union = opts.union === true && ctx.scope.kind === 'all' && ctx.scope.multiDevice;
  const where: string[] = [];
  const params: unknown[] = [];
  if (union) {
    const scope = eventsScopeSql(ctx.scope, 'u');
    where.push(scope.sql);
    params.push(...scope.params);
  }
  filterTerms(ctx, where, params);
  if (!union && ctx.scope.kind !== 'all') {
    where.push('u.device_id = ?');
    params.push(ctx.scope.deviceId);
  }
  const [from, first, last, events] = union ? ['events', 'u.ts', 'u.ts', 'COUNT(*)'] : ['sessions', 'u.first_ts', 'u.last_ts', 'SUM(u.events)'];
  const having: string[] = [];
  if (ctx.sinceDay !== undefined) {
    having.push(`MAX(${last}) >= ?`);
    params.push(new Date(dayStartMs(ctx.timezone, ctx.sinceDay)).toISOString());
  }
  if (ctx.untilDay !== undefined) {
    having.push(`MIN(NULLIF(${first}, '')) < ?`);
    params.push(new Date(dayStartMs(ctx.timezone, ctx.untilDay + 1)).toISOString());
  }
  const rows = stmt(
    db,
    `SELECT u.provider, u.session_id, MAX(u.project) AS project, COALESCE(MIN(NULLIF(${first}, '')), '') AS first_ts,
       MAX(${last}) AS last_ts, ${events} AS events, group_concat(DISTINCT u.device_id) AS devices, COUNT(*) OVER () AS total
     FROM ${from} u ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
     GROUP BY u.provider, u.session_id ${having.length ? 'HAVING ' + having.join(' AND ') : ''}
     ORDER BY last_ts DESC, u.session_id LIMIT ?`,
  ).all(...params, opts.limit ?? -1) as Array<{ provider: Provider; session_id: string; project: string; first_ts: string; last_ts: string; events: number; devices: string; total: number }>;
  const sessions = rows.map((r) => ({
    provider: r.provider,
    sessionId: r.session_id,
    project: r.project,
    firstTimestamp: r.first_ts,
    lastTimestamp: r.last_ts,
    lastActivity: r.last_ts ? localDate(ctx.timezone, Date.parse(r.last_ts)) : '',
    events: r.events,
    deviceIds: r.devices.split(',').sort(),
  }));
  return { sessions, total: rows[0]?.total ?? 0 };
}

/**
 * Sessions, most recently active first. `since`/`until` keep sessions active on some day in
 * the range; token totals are the whole session's. Under `all` with several devices a
 * session seen on two devices is one entry whose events are counted once each (union rule).
 */
export function listSessions(db: Db, opts: SessionListOptions = {}, env?: NodeJS.ProcessEnv): SessionList {
  const ctx = reportContext(db, opts, env);
  const { sessions: rows } = recentSessions(db, ctx, { limit: opts.limit, union: true });

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
    if (r.model !== SYNTHETIC_MODEL) {
      const prev = u.models.get(name);
      if (prev === undefined || r.firstMs < prev) u.models.set(name, r.firstMs);
      const cost = groupCost(r);
      if (cost === null) u.unpriced.add(name);
      else u.cost += cost;
    }
  }

  const sessions = rows.map((s) => {
    const u = usage.get(s.provider + '\u0000' + s.sessionId);
    const t = u?.tokens ?? [0, 0, 0, 0];
    return {
      sessionId: s.sessionId,
      provider: s.provider,
      project: s.project,
      firstTimestamp: s.firstTimestamp,
      lastTimestamp: s.lastTimestamp,
      lastActivity: s.lastActivity,
      events: s.events,
      inputTokens: t[0],
      outputTokens: t[1],
      cacheCreationTokens: t[2],
      cacheReadTokens: t[3],
      totalTokens: t[0] + t[1] + t[2] + t[3],
      totalCost: u?.cost ?? 0,
      modelsUsed: u ? [...u.models.entries()].sort((a, b) => a[1] - b[1]).map(([n]) => n) : [],
      unpricedModels: u ? [...u.unpriced].sort() : [],
      deviceIds: s.deviceIds,
    };
  });
  return { sessions, meta: contextMeta(ctx) };
}
