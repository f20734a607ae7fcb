import { Hono } from 'hono';
import type { Provider } from '../../adapters/types.js';
import type { Db } from '../../store/db.js';
import { ensureDeviceId } from '../../store/db.js';
import { reportContext, type AggRow, type ReportContext } from '../../reports/aggregate.js';
import { costOf, LONG_CONTEXT_THRESHOLD, priceFor } from '../../reports/pricing.js';
import { formatScope, knownDevices } from '../../reports/scope.js';
import { dayToDate, localDaySql, localDate, offsetAt, offsetSegments } from '../../reports/timezone.js';
import { SYNTHETIC_MODEL, type ReportMeta, type UsageTotals, type ReportOptions } from '../../reports/index.js';
import type { ApiContext } from '../app.js';
import { parseLimit, readQuery, reportOptionsFromQuery } from '../query.js';

const DAY_MS = 86_400_000;
/** A chart shows this many series at most; smaller ones are summed into one "other" series. */
const MAX_SERIES = 8;
/** Longest day axis sent: a range wider than this is cut to the days that have data. */
const MAX_AXIS_DAYS = 3660;
export const OTHER_SERIES = 'other';

/** One stacked series: a model or a device, its tokens and cost per day of `days`. */
export interface DashboardSeries {
  key: string;
  label: string;
  tokens: number[];
  cost: number[];
  totalTokens: number;
  totalCost: number;
}

export interface DashboardModel {
  modelName: string;
  provider: Provider;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  cacheCreationTokens: number;
  cacheReadTokens: number;
  totalTokens: number;
  /** null when the model has no price. */
  totalCost: number | null;
}

export interface DashboardProject {
  project: string;
  projectPath: string | null;
  providers: Provider[];
  /** Sessions with billed usage in the range. */
  sessions: number;
  requests: number;
  totalTokens: number;
  totalCost: number;
  /** Local date of the project's last billed request in the range. */
  lastActivity: string;
}

/**
 * GET /api/dashboard/summary: everything the charts, totals and the models and projects tables
 * need, summed from the rollup (below) under the scope and range. Same usage rows, same union
 * rule and same prices as the reports, so the totals are those of `/api/reports/daily`.
 */
export interface DashboardSummary {
  meta: ReportMeta;
  /** Today in the report's zone: the page's range presets count back from it. */
  today: string;
  /** First and last local day with billed usage in scope (ignoring the range); null when none. */
  dataSpan: { first: string; last: string } | null;
  /** The chart's x axis: every day of the range (or of the data, without a range). */
  days: string[];
  totals: UsageTotals & { requests: number; sessions: number; projects: number };
  byModel: DashboardSeries[];
  byDevice: DashboardSeries[];
  models: DashboardModel[];
  projects: DashboardProject[];
}

// ---------------------------------------------------------------------------------------------
// The rollup: billed usage summed by SQL to one row per (origin device, local day, project,
// session, provider, model), twice: over every row, and over the rows that win under `all`
// (of the rows sharing a usage key, the greatest (written_at, device_id), as usageScopeSql
// decides). Every view of the page (any scope, any range) is a sum of these rows, so a switch
// never goes back to the usage table. It is rebuilt when the store changes (SQLite's
// data_version for other connections, total_changes for this one) or the zone differs.

/** Token sums of one rollup row for one way of counting. */
interface Part {
  inputTokens: number;
  outputTokens: number;
  cacheCreationTokens: number;
  cacheReadTokens: number;
  reasoningTokens: number;
  inputAbove: number;
  outputAbove: number;
  cacheCreationAbove: number;
  cacheReadAbove: number;
  requests: number;
  firstMs: number;
  lastMs: number;
}

interface RollRow {
  device: string;
  day: number;
  project: string;
  session: string;
  provider: Provider;
  model: string | null;
  /** Every usage row of this device. */
  all: Part;
  /** Only rows that win under `all`; requests = 0 when none does. */
  win: Part;
}

interface Rollup {
  key: string;
  rows: RollRow[];
}

const rollups = new WeakMap<Db, Rollup>();
const T = LONG_CONTEXT_THRESHOLD;

function sumCols(w: string, p: string): string {
  return [
    `SUM(${w}u.input_tokens) AS ${p}in`,
    `SUM(${w}u.output_tokens) AS ${p}out`,
    `SUM(${w}u.cache_creation_tokens) AS ${p}cw`,
    `SUM(${w}u.cache_read_tokens) AS ${p}cr`,
    `SUM(${w}u.reasoning_tokens) AS ${p}rs`,
    `SUM(${w}MAX(u.input_tokens - ${T}, 0)) AS ${p}ain`,
    `SUM(${w}MAX(u.output_tokens - ${T}, 0)) AS ${p}aout`,
    `SUM(${w}MAX(u.cache_creation_tokens - ${T}, 0)) AS ${p}acw`,
    `SUM(${w}MAX(u.cache_read_tokens - ${T}, 0)) AS ${p}acr`,
  ].join(', ');
}

type RawRoll = Record<string, number | string | null>;

function part(r: RawRoll, p: string, requests: number, first: number | null, last: number | null): Part {
  return {
    inputTokens: r[p + 'in'] as number,
    outputTokens: r[p + 'out'] as number,
    cacheCreationTokens: r[p + 'cw'] as number,
    cacheReadTokens: r[p + 'cr'] as number,
    reasoningTokens: r[p + 'rs'] as number,
    inputAbove: r[p + 'ain'] as number,
    outputAbove: r[p + 'aout'] as number,
    cacheCreationAbove: r[p + 'acw'] as number,
    cacheReadAbove: r[p + 'acr'] as number,
    requests,
    firstMs: first ?? 0,
    lastMs: last ?? 0,
  };
}

/** Changes whenever anything is committed to the store, by this connection or another. */
function changeKey(db: Db): string {
  return `${db.pragma('data_version', { simple: true })}:${db.prepare('SELECT total_changes()').pluck().get()}`;
}

function rollup(db: Db, timezone: string): Rollup {
  const key = `${changeKey(db)}:${timezone}`;
  const hit = rollups.get(db);
  if (hit && hit.key === key) return hit;
  const lo = db.prepare('SELECT ts_ms FROM usage WHERE ts_ms > 0 ORDER BY ts_ms LIMIT 1').pluck().get() as number | undefined;
  const hi = db.prepare('SELECT ts_ms FROM usage ORDER BY ts_ms DESC LIMIT 1').pluck().get() as number | undefined;
  let rows: RollRow[] = [];
  if (lo !== undefined && hi !== undefined) {
    const day = localDaySql('u.ts_ms', offsetSegments(timezone, lo, hi));
    // The window runs over every usage row (a row without a time can still win and hide
    // another device's copy), and rows without a time are then left out, as the reports do.
    const raw = db
      .prepare(
        `SELECT u.device_id AS device, ${day} AS day, u.project AS project, u.session_id AS session, u.provider AS provider, u.model AS model,
           ${sumCols('', 'a_')}, COUNT(*) AS a_n, MIN(u.ts_ms) AS a_first, MAX(u.ts_ms) AS a_last,
           ${sumCols('u.win * ', 'w_')}, SUM(u.win) AS w_n,
           MIN(CASE WHEN u.win = 1 THEN u.ts_ms END) AS w_first, MAX(CASE WHEN u.win = 1 THEN u.ts_ms END) AS w_last
         FROM (SELECT usage.*, (ROW_NUMBER() OVER (PARTITION BY usage_key ORDER BY written_at DESC, device_id DESC) = 1) AS win FROM usage) u
         WHERE u.ts_ms > 0
         GROUP BY u.device_id, day, u.project, u.session_id, u.provider, u.model`,
      )
      .all() as RawRoll[];
    rows = raw.map((r) => ({
      device: r.device as string,
      day: r.day as number,
      project: r.project as string,
      session: r.session as string,
      provider: r.provider as Provider,
      model: r.model as string | null,
      all: part(r, 'a_', r.a_n as number, r.a_first as number, r.a_last as number),
      win: part(r, 'w_', r.w_n as number, r.w_first as number | null, r.w_last as number | null),
    }));
  }
  const built = { key, rows };
  rollups.set(db, built);
  return built;
}

/** The rollup's rows a scope and range count, as AggRows with the matching token sums. */
function scoped(db: Db, ctx: ReportContext): AggRow[] {
  const { rows } = rollup(db, ctx.timezone);
  const device = ctx.scope.kind === 'all' ? null : ctx.scope.deviceId;
  const out: AggRow[] = [];
  for (const r of rows) {
    if (device !== null && r.device !== device) continue;
    if (ctx.sinceDay !== undefined && r.day < ctx.sinceDay) continue;
    if (ctx.untilDay !== undefined && r.day > ctx.untilDay) continue;
    const p = device === null ? r.win : r.all;
    if (p.requests === 0) continue;
    out.push({
      day: r.day,
      project: r.project,
      session: r.session,
      device: r.device,
      provider: r.provider,
      model: r.model,
      inputTokens: p.inputTokens,
      outputTokens: p.outputTokens,
      cacheCreationTokens: p.cacheCreationTokens,
      cacheReadTokens: p.cacheReadTokens,
      reasoningTokens: p.reasoningTokens,
      inputAbove: p.inputAbove,
      outputAbove: p.outputAbove,
      cacheCreationAbove: p.cacheCreationAbove,
      cacheReadAbove: p.cacheReadAbove,
      requests: p.requests,
      firstTs: new Date(p.firstMs).toISOString(),
      lastTs: new Date(p.lastMs).toISOString(),
    });
  }
  return out;
}

/** Only scope, range and zone: the page has no other filter, and the rollup is built for these. */
const DASHBOARD_PARAMS = ['scope', 'since', 'until', 'timezone'] as const;

function groupCost(r: AggRow): number | null {
  const tokens = tokensOf(r);
  if (tokens === 0 || r.model === SYNTHETIC_MODEL) return 0;
  const p = priceFor(r.model);
  return p ? costOf(r, p) : null;
}

const tokensOf = (r: { inputTokens: number; outputTokens: number; cacheCreationTokens: number; cacheReadTokens: number }) =>
  r.inputTokens + r.outputTokens + r.cacheCreationTokens + r.cacheReadTokens;

/** Costs in series are for drawing: micro-dollars are plenty and keep the JSON small. */
const micro = (x: number) => Math.round(x * 1e6) / 1e6;

function metaOf(ctx: ReportContext): ReportMeta {
  return {
    timezone: ctx.timezone,
    scope: formatScope(ctx.scope),
    since: ctx.since ?? null,
    until: ctx.until ?? null,
    project: ctx.project ?? null,
    provider: ctx.provider ?? null,
  };
}

class Sums {
  inputTokens = 0;
  outputTokens = 0;
  cacheCreationTokens = 0;
  cacheReadTokens = 0;
  reasoningTokens = 0;
  requests = 0;
  cost = 0;
  unpricedTokens = 0;
  lastTs = '';
  readonly unpriced = new Set<string>();
  readonly providers = new Set<Provider>();
  readonly sessions = new Set<string>();

  add(r: AggRow, cost: number | null): void {
    this.inputTokens += r.inputTokens;
    this.outputTokens += r.outputTokens;
    this.cacheCreationTokens += r.cacheCreationTokens;
    this.cacheReadTokens += r.cacheReadTokens;
    this.reasoningTokens += r.reasoningTokens;
    this.requests += r.requests;
    this.providers.add(r.provider);
    if (r.session !== null) this.sessions.add(r.provider + '\u0000' + r.session);
    if (r.lastTs > this.lastTs) this.lastTs = r.lastTs;
    if (cost === null) {
      this.unpriced.add(r.model ?? 'unknown');
      this.unpricedTokens += tokensOf(r);
    } else {
      this.cost += cost;
    }
  }

  get totalTokens(): number {
    return tokensOf(this);
  }
}

type DailyAcc = Map<string, { label: string; tokens: Float64Array; cost: Float64Array }>;

/** Builds stacked series from per-key daily sums, the biggest first, the tail folded into "other". */
function toSeries(perKey: DailyAcc): DashboardSeries[] {
  const all = [...perKey.entries()].map(([key, v]) => {
    let t = 0;
    let c = 0;
    for (let i = 0; i < v.tokens.length; i++) {
      t += v.tokens[i];
      c += v.cost[i];
    }
    return { key, label: v.label, tokens: v.tokens, cost: v.cost, totalTokens: t, totalCost: c };
  });
  all.sort((a, b) => b.totalCost - a.totalCost || b.totalTokens - a.totalTokens || a.key.localeCompare(b.key));
  let kept = all;
  if (all.length > MAX_SERIES) {
    kept = all.slice(0, MAX_SERIES - 1);
    const rest = all.slice(MAX_SERIES - 1);
    const n = rest[0].tokens.length;
    const other = { key: OTHER_SERIES, label: `${rest.length} others`, tokens: new Float64Array(n), cost: new Float64Array(n), totalTokens: 0, totalCost: 0 };
    for (const s of rest) {
      for (let i = 0; i < n; i++) {
        other.tokens[i] += s.tokens[i];
        other.cost[i] += s.cost[i];
      }
      other.totalTokens += s.totalTokens;
      other.totalCost += s.totalCost;
    }
    kept.push(other);
  }
  return kept.map((s) => ({
    key: s.key,
    label: s.label,
    tokens: Array.from(s.tokens),
    cost: Array.from(s.cost, micro),
    totalTokens: s.totalTokens,
    totalCost: s.totalCost,
  }));
}

/** See {@link DashboardSummary}. */
export function dashboardSummary(db: Db, opts: ReportOptions, env?: NodeJS.ProcessEnv, now: number = Date.now()): DashboardSummary {
  const ctx = reportContext(db, opts, env);
  const inScope = scoped(db, { ...ctx, sinceDay: undefined, untilDay: undefined });
  let spanLo = Infinity;
  let spanHi = -Infinity;
  for (const r of inScope) {
    if ((r.day as number) < spanLo) spanLo = r.day as number;
    if ((r.day as number) > spanHi) spanHi = r.day as number;
  }
  const span = inScope.length ? { first: dayToDate(spanLo), last: dayToDate(spanHi) } : null;
  const rows = inScope.filter((r) => (ctx.sinceDay === undefined || (r.day as number) >= ctx.sinceDay) && (ctx.untilDay === undefined || (r.day as number) <= ctx.untilDay));

  // The axis: the requested range, else the data's span; never thousands of empty years.
  let first = ctx.sinceDay ?? (span ? spanLo : undefined);
  let last = ctx.untilDay ?? (span ? spanHi : undefined);
  if (first !== undefined && last !== undefined && last - first + 1 > MAX_AXIS_DAYS) {
    let lo = Infinity;
    for (const r of rows) lo = Math.min(lo, r.day as number);
    first = Number.isFinite(lo) ? Math.max(first, lo) : last - MAX_AXIS_DAYS + 1;
    last = Math.max(first, Math.min(last, first + MAX_AXIS_DAYS - 1));
  }
  const n = first === undefined || last === undefined ? 0 : last - first + 1;
  const days = Array.from({ length: n }, (_, i) => dayToDate((first as number) + i));

  const names = new Map(knownDevices(db).map((d) => [d.deviceId, d.name ?? d.deviceId.slice(0, 8)]));
  const totals = new Sums();
  const byModel: DailyAcc = new Map();
  const byDevice: DailyAcc = new Map();
  const models = new Map<string, Sums>();
  const projects = new Map<string, Sums>();
  const bump = (m: DailyAcc, key: string, label: string, i: number, t: number, c: number) => {
    let s = m.get(key);
    if (!s) m.set(key, (s = { label, tokens: new Float64Array(n), cost: new Float64Array(n) }));
    s.tokens[i] += t;
    s.cost[i] += c;
  };
  const sumsOf = (m: Map<string, Sums>, key: string) => {
    let s = m.get(key);
    if (!s) m.set(key, (s = new Sums()));
    return s;
  };
  for (const r of rows) {
    const cost = groupCost(r);
    totals.add(r, cost);
    const model = r.model ?? 'unknown';
    if (r.model !== SYNTHETIC_MODEL) sumsOf(models, model).add(r, cost);
    sumsOf(projects, r.project ?? '').add(r, cost);
    const i = (r.day as number) - (first as number);
    const t = tokensOf(r);
    if (i < 0 || i >= n || t === 0) continue;
    bump(byModel, model, model, i, t, cost ?? 0);
    const dev = r.device ?? '';
    bump(byDevice, dev, names.get(dev) ?? dev.slice(0, 8), i, t, cost ?? 0);
  }

  const paths = new Map<string, string>();
  for (const p of db.prepare('SELECT slug, path FROM projects WHERE path IS NOT NULL').all() as Array<{ slug: string; path: string }>) {
    if (!paths.has(p.slug)) paths.set(p.slug, p.path);
  }
  const modelList: DashboardModel[] = [...models.entries()]
    .map(([modelName, s]) => ({
      modelName,
      provider: [...s.providers][0],
      requests: s.requests,
      inputTokens: s.inputTokens,
      outputTokens: s.outputTokens,
      cacheCreationTokens: s.cacheCreationTokens,
      cacheReadTokens: s.cacheReadTokens,
      totalTokens: s.totalTokens,
      totalCost: s.unpriced.size === 0 ? s.cost : null,
    }))
    .sort((a, b) => (b.totalCost ?? -1) - (a.totalCost ?? -1) || b.totalTokens - a.totalTokens || a.modelName.localeCompare(b.modelName));
  const projectList: DashboardProject[] = [...projects.entries()]
    .map(([project, s]) => ({
      project,
      projectPath: paths.get(project) ?? null,
      providers: [...s.providers].sort(),
      sessions: s.sessions.size,
      requests: s.requests,
      totalTokens: s.totalTokens,
      totalCost: s.cost,
      lastActivity: s.lastTs ? localDate(ctx.timezone, Date.parse(s.lastTs)) : '',
    }))
    .sort((a, b) => b.totalCost - a.totalCost || b.totalTokens - a.totalTokens || a.project.localeCompare(b.project));

  return {
    meta: metaOf(ctx),
    today: localDate(ctx.timezone, now),
    dataSpan: span,
    days,
    totals: {
      inputTokens: totals.inputTokens,
      outputTokens: totals.outputTokens,
      cacheCreationTokens: totals.cacheCreationTokens,
      cacheReadTokens: totals.cacheReadTokens,
      totalCost: totals.cost,
      totalTokens: totals.totalTokens,
      reasoningTokens: totals.reasoningTokens,
      unpricedModels: [...totals.unpriced].sort(),
      unpricedTokens: totals.unpricedTokens,
      requests: totals.requests,
      sessions: totals.sessions.size,
      projects: projects.size,
    },
    byModel: toSeries(byModel),
    byDevice: toSeries(byDevice),
    models: modelList,
    projects: projectList,
  };
}

/** One row of the dashboard's session list. */
export interface DashboardSession {
  sessionId: string;
  provider: Provider;
  project: string;
  /** The project's working directory as logged, when known. */
  projectPath: string | null;
  firstTimestamp: string;
  lastTimestamp: string;
  lastActivity: string;
  /**
   * Devices holding a copy of the session's events (in scope). Under `all` a session mounted on
   * two machines names both, where `/api/sessions` names only the devices whose copies won.
   */
  deviceIds: string[];
  /** The whole session's billed usage under the scope (as `/api/sessions`), whatever the range. */
  totalTokens: number;
  totalCost: number;
  requests: number;
  modelsUsed: string[];
  unpricedModels: string[];
}

export interface DashboardSessions {
  sessions: DashboardSession[];
  /** Sessions active in the range, of which `sessions` are the most recent. */
  total: number;
  meta: ReportMeta & { limit: number };
}

/** The first instant (epoch ms) of local day `day` in `tz`. */
function localMidnight(tz: string, day: number): number {
  const wall = day * DAY_MS;
  const t = wall - offsetAt(tz, wall);
  return wall - offsetAt(tz, t);
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * GET /api/dashboard/sessions: the most recent sessions active in the range (as `/api/sessions`
 * selects them: last event on or after `since`, first on or before `until`), from the
 * trigger-maintained per-device `sessions` table merged across devices under `all`, with each
 * session's whole billed usage from the rollup. It never scans the events, and has no event counts.
 */
export function dashboardSessions(db: Db, opts: ReportOptions & { limit?: number }, env?: NodeJS.ProcessEnv): DashboardSessions {
  const ctx = reportContext(db, opts, env);
  const limit = Math.min(opts.limit ?? 50, 500);
  const where: string[] = [];
  const params: unknown[] = [];
  if (ctx.scope.kind !== 'all') {
    where.push('u.device_id = ?');
    params.push(ctx.scope.deviceId);
  }
  const having: string[] = [];
  if (ctx.sinceDay !== undefined) {
    having.push('MAX(u.last_ts) >= ?');
    params.push(iso(localMidnight(ctx.timezone, ctx.sinceDay)));
  }
  if (ctx.untilDay !== undefined) {
    having.push("MIN(NULLIF(u.first_ts, '')) < ?");
    params.push(iso(localMidnight(ctx.timezone, ctx.untilDay + 1)));
  }
  const rows = db
    .prepare(
      `SELECT u.provider, u.session_id, MAX(u.project) AS project, COALESCE(MIN(NULLIF(u.first_ts, '')), '') AS first_ts,
         MAX(u.last_ts) AS last_ts, group_concat(DISTINCT u.device_id) AS devices, COUNT(*) OVER () AS total
       FROM sessions u ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
       GROUP BY u.provider, u.session_id ${having.length ? 'HAVING ' + having.join(' AND ') : ''}
       ORDER BY last_ts DESC, u.session_id LIMIT ?`,
    )
    .all(...params, limit) as Array<{ provider: Provider; session_id: string; project: string; first_ts: string; last_ts: string; devices: string; total: number }>;

  const wanted = new Set(rows.map((r) => r.provider + '\u0000' + r.session_id));
  const usage = new Map<string, { tokens: number; cost: number; requests: number; models: Map<string, string>; unpriced: Set<string> }>();
  for (const r of scoped(db, { ...ctx, sinceDay: undefined, untilDay: undefined })) {
    const k = r.provider + '\u0000' + r.session;
    if (!wanted.has(k)) continue;
    let u = usage.get(k);
    if (!u) usage.set(k, (u = { tokens: 0, cost: 0, requests: 0, models: new Map(), unpriced: new Set() }));
    const t = tokensOf(r);
    u.tokens += t;
    u.requests += r.requests;
    if (r.model === SYNTHETIC_MODEL) continue;
    const name = r.model ?? 'unknown';
    const prev = u.models.get(name);
    if (!prev || r.firstTs < prev) u.models.set(name, r.firstTs);
    const p = priceFor(r.model);
    if (p) u.cost += costOf(r, p);
    else if (t > 0) u.unpriced.add(name);
  }
  const pathOf = db.prepare('SELECT path FROM projects WHERE provider = ? AND slug = ?').pluck();
  const sessions = rows.map((r) => {
    const u = usage.get(r.provider + '\u0000' + r.session_id);
    return {
      sessionId: r.session_id,
      provider: r.provider,
      project: r.project,
      projectPath: (pathOf.get(r.provider, r.project) as string | null | undefined) ?? null,
      firstTimestamp: r.first_ts,
      lastTimestamp: r.last_ts,
      lastActivity: r.last_ts ? localDate(ctx.timezone, Date.parse(r.last_ts)) : '',
      deviceIds: r.devices.split(',').sort(),
      totalTokens: u?.tokens ?? 0,
      totalCost: u?.cost ?? 0,
      requests: u?.requests ?? 0,
      modelsUsed: u ? [...u.models.entries()].sort((a, b) => a[1].localeCompare(b[1])).map(([m]) => m) : [],
      unpricedModels: u ? [...u.unpriced].sort() : [],
    };
  });
  return { sessions, total: rows[0]?.total ?? 0, meta: { ...metaOf(ctx), limit } };
}

/** One device in the Devices panel. */
export interface DashboardDevice {
  deviceId: string;
  name: string | null;
  /** This machine. */
  local: boolean;
  /** Events stored under this origin device. */
  events: number;
  sessions: number;
  /** Newest event timestamp from this device. */
  lastEvent: string | null;
  /** Peers: when we last pulled from it, and when it last pushed (its manifest's time), as of that pull. */
  lastPulled: string | null;
  lastPush: string | null;
  /** This device's events whose identity another device also holds (the union counts them once). */
  conflicts: number;
}

export interface DashboardDevices {
  devices: DashboardDevice[];
  sync: {
    enabled: boolean;
    deviceName: string | null;
    bucket: string | null;
    lastSyncTime: string | null;
    pendingEvents: number;
    queuedSegments: number;
    conflictCount: number;
    lastError: { time: string; op: string; message: string | null } | null;
    /** The one command that turns sync on, when it is off. */
    enableCommand: string | null;
  };
}

export const SYNC_INIT_COMMAND = 'stackunderflow sync init --bucket s3://BUCKET[/prefix]';

// Per-device conflict counts need a pass over the uid index: kept until the store changes.
const conflictCache = new WeakMap<Db, { key: string; counts: Map<string, number> }>();

function conflictsByDevice(db: Db, deviceIds: string[]): Map<string, number> {
  const key = changeKey(db);
  const hit = conflictCache.get(db);
  if (hit && hit.key === key) return hit.counts;
  const counts = new Map<string, number>();
  if (deviceIds.length > 1) {
    const rows = db
      .prepare(
        `SELECT e.device_id AS device, COUNT(*) AS n
         FROM (SELECT uid FROM events GROUP BY uid HAVING COUNT(*) > 1) d JOIN events e ON e.uid = d.uid
         GROUP BY e.device_id`,
      )
      .all() as Array<{ device: string; n: number }>;
    for (const r of rows) counts.set(r.device, r.n);
  }
  conflictCache.set(db, { key: changeKey(db), counts });
  return counts;
}

/** GET /api/devices: every device the store knows, and this machine's sync status. No secrets. */
export async function dashboardDevices(db: Db, env?: NodeJS.ProcessEnv): Promise<DashboardDevices> {
  const self = ensureDeviceId(db);
  const known = knownDevices(db);
  const perDevice = new Map(
    (db.prepare('SELECT device_id, SUM(events) AS events, COUNT(*) AS sessions, MAX(last_ts) AS last FROM sessions GROUP BY device_id').all() as Array<{
      device_id: string;
      events: number;
      sessions: number;
      last: string;
    }>).map((r) => [r.device_id, r]),
  );
  // Loaded on first use, as /api/sync/status does: serving reports never loads the sync modules.
  const { syncStatus } = await import('../../sync/status.js');
  const status = syncStatus(db, env);
  const peers = new Map(status.peers.map((p) => [p.id, p]));
  const conflicts = conflictsByDevice(db, known.map((d) => d.deviceId));
  const devices = known
    .map((d) => {
      const s = perDevice.get(d.deviceId);
      const p = peers.get(d.deviceId);
      return {
        deviceId: d.deviceId,
        // This machine's sync name is what `sync status` reports, whatever else knows it by.
        name: (d.deviceId === self ? status.device.name : null) ?? d.name ?? p?.name ?? null,
        local: d.deviceId === self,
        events: s?.events ?? 0,
        sessions: s?.sessions ?? 0,
        lastEvent: s?.last || null,
        lastPulled: p?.lastSeen ?? null,
        lastPush: d.deviceId === self ? status.lastSyncTime : (p?.manifestWrittenAt ?? null),
        conflicts: conflicts.get(d.deviceId) ?? 0,
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

/** The dashboard's endpoints (mounted under /api): summary, sessions, devices. */
export function dashboardRoutes(ctx: ApiContext): Hono {
  const r = new Hono();
  r.get('/dashboard/summary', (c) => c.json(dashboardSummary(ctx.db, reportOptionsFromQuery(readQuery(c, DASHBOARD_PARAMS)), ctx.env)));
  r.get('/dashboard/sessions', (c) => {
    const q = readQuery(c, [...DASHBOARD_PARAMS, 'limit']);
    return c.json(dashboardSessions(ctx.db, { ...reportOptionsFromQuery(q), limit: parseLimit(q.limit) }, ctx.env));
  });
  r.get('/devices', async (c) => {
    readQuery(c, []);
    return c.json(await dashboardDevices(ctx.db, ctx.env));
  });
  return r;
}
