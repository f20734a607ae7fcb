import { Hono } from 'hono';
import type { Provider } from '../../adapters/types.js';
import type { Statement } from 'better-sqlite3';
import type { Db } from '../../store/db.js';
import { ensureDeviceId, getMeta } from '../../store/db.js';
import { contextMeta, dataSpan, reportContext, type ReportContext } from '../../reports/aggregate.js';
import { costOf, LONG_CONTEXT_THRESHOLD, priceFor, type ModelPrice } from '../../reports/pricing.js';
import { knownDevices } from '../../reports/scope.js';
import { dayToDate, defaultTimeZone, localDaySql, localDate, offsetAt, offsetSegments } from '../../reports/timezone.js';
import { SYNTHETIC_MODEL, currentWindow, type ReportMeta, type UsageTotals, type ReportOptions } from '../../reports/index.js';
import type { TokenCounts } from '../../reports/reports.js';
import type { ApiContext } from '../app.js';
import { parseLimit, readQuery, reportOptionsFromQuery } from '../query.js';

const DAY_MS = 86_400_000;
/** A chart shows this many series at most; smaller ones are summed into one "other" series. */
const MAX_SERIES = 8;
/** Longest day axis sent: a range wider than this is cut to the days that have data. */
const MAX_AXIS_DAYS = 3660;
/** The key of the series that sums the smaller ones. */
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

/** One row of the models table: a model's usage in the range. */
export interface DashboardModel extends TokenCounts {
  modelName: string;
  provider: Provider;
  requests: number;
  /** null when the model has no price. */
  totalCost: number | null;
}

/** One row of the projects table: a project's usage in the range. */
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
// session, provider, model), twice: over each device's own bills (`usage`), and over the
// union's bills (`usage_union`, each attributed to the device of its earliest line; see
// usageTable). Every view of the page (any scope, any range) is a sum of these rows, so a switch
// never goes back to the usage table. It is rebuilt when the store changes (SQLite's
// data_version for other connections, total_changes for this one) or the zone differs.

/** Token sums of one rollup row for one way of counting. */
interface Part {
  inputTokens: number;
  outputTokens: number;
  cacheCreationTokens: number;
  cacheReadTokens: number;
  cacheCreation1hTokens: number;
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
  /** This device's own bills. */
  all: Part;
  /** The union's bills attributed to this device; requests = 0 when none is. */
  win: Part;
}

interface Rollup {
  key: string;
  rows: RollRow[];
}

const rollups = new WeakMap<Db, Rollup>();
const T = LONG_CONTEXT_THRESHOLD;

const SUM_COLS = [
  'SUM(u.input_tokens)', 'SUM(u.output_tokens)', 'SUM(u.cache_creation_tokens)', 'SUM(u.cache_read_tokens)', 'SUM(u.reasoning_tokens)',
  `SUM(MAX(u.input_tokens - ${T}, 0))`, `SUM(MAX(u.output_tokens - ${T}, 0))`,
  `SUM(MAX(u.cache_creation_tokens - ${T}, 0))`, `SUM(MAX(u.cache_read_tokens - ${T}, 0))`,
  'COUNT(*)', 'MIN(u.ts_ms)', 'MAX(u.ts_ms)', 'SUM(u.cache_1h_tokens)',
].join(', ');

/** Sums of one group, by position after the six key columns (SUM_COLS order). */
function part(r: unknown[] | undefined): Part {
  const n = (i: number) => (r ? (r[6 + i] as number) : 0);
  return {
    inputTokens: n(0),
    outputTokens: n(1),
    cacheCreationTokens: n(2),
    cacheReadTokens: n(3),
    reasoningTokens: n(4),
    inputAbove: n(5),
    outputAbove: n(6),
    cacheCreationAbove: n(7),
    cacheReadAbove: n(8),
    requests: n(9),
    firstMs: n(10),
    lastMs: n(11),
    cacheCreation1hTokens: n(12),
  };
}

/** Changes whenever anything is committed to the store, by this connection or another. */
function changeKey(db: Db): string {
  return `${db.pragma('data_version', { simple: true })}:${stmt(db, 'SELECT total_changes()').pluck().get()}`;
}

function rollup(db: Db, timezone: string): Rollup {
  const key = `${changeKey(db)}:${timezone}`;
  const hit = rollups.get(db);
  if (hit && hit.key === key) return hit;
  const span = dataSpan(db);
  const lo = span?.lo;
  const hi = span?.hi;
  const rows: RollRow[] = [];
  if (lo !== undefined && hi !== undefined) {
    const day = localDaySql('u.ts_ms', offsetSegments(timezone, lo, hi));
    const sums = (table: string) =>
      db
        .prepare(
          `SELECT u.device_id, ${day} AS day, u.project, u.session_id, u.provider, u.model, ${SUM_COLS}
           FROM ${table} u WHERE u.ts_ms > 0 GROUP BY u.device_id, day, u.project, u.session_id, u.provider, u.model`,
        )
        .raw()
        .all() as unknown[][];
    const keyOf = (r: unknown[]) => r.slice(0, 6).join('\u0000');
    const own = sums('usage');
    // Without a union (one device), the union's bills are the device's own.
    const union = getMeta(db, 'usage_union') === '1' ? new Map(sums('usage_union').map((r) => [keyOf(r), r])) : null;
    const toRow = (r: unknown[], all: unknown[] | undefined, win: unknown[] | undefined): RollRow => ({
      device: r[0] as string,
      day: r[1] as number,
      project: r[2] as string,
      session: r[3] as string,
      provider: r[4] as Provider,
      model: r[5] as string | null,
      all: part(all),
      win: part(win),
    });
    for (const r of own) {
      const k = keyOf(r);
      rows.push(toRow(r, r, union ? union.get(k) : r));
      union?.delete(k);
    }
    // A union bill lands where the earliest line is; the device that has it may bill it elsewhere.
    for (const r of union?.values() ?? []) rows.push(toRow(r, undefined, r));
  }
  const built = { key, rows };
  rollups.set(db, built);
  return built;
}

/**
 * Calls `fn` for each rollup row the scope and range count, with the sums that scope counts:
 * under `all` the winning rows' sums, under one device that device's rows.
 */
function eachScoped(db: Db, ctx: ReportContext, fn: (r: RollRow, p: Part) => void): void {
  const { rows } = rollup(db, ctx.timezone);
  const device = ctx.scope.kind === 'all' ? null : ctx.scope.deviceId;
  const lo = ctx.sinceDay ?? -Infinity;
  const hi = ctx.untilDay ?? Infinity;
  for (const r of rows) {
    if (device !== null && r.device !== device) continue;
    if (r.day < lo || r.day > hi) continue;
    const p = device === null ? r.win : r.all;
    if (p.requests > 0) fn(r, p);
  }
}

/** Only scope, range and zone: the page has no other filter, and the rollup is built for these. */
const DASHBOARD_PARAMS = ['scope', 'since', 'until', 'timezone'] as const;

// Model names repeat across thousands of rollup rows; normalizing each name once is enough.
const prices = new Map<string, ModelPrice | null>();

/** Cost of one rollup row's sums, as the reports price a group; null when the model has no price. */
function costOfPart(model: string | null, p: Part): number | null {
  if (tokensOf(p) === 0 || model === SYNTHETIC_MODEL) return 0;
  if (model === null) return null;
  let price = prices.get(model);
  if (price === undefined) prices.set(model, (price = priceFor(model)));
  return price ? costOf(p, price) : null;
}

const tokensOf = (r: { inputTokens: number; outputTokens: number; cacheCreationTokens: number; cacheReadTokens: number }) =>
  r.inputTokens + r.outputTokens + r.cacheCreationTokens + r.cacheReadTokens;

/** Costs in series are for drawing: micro-dollars are plenty and keep the JSON small. */
const micro = (x: number) => Math.round(x * 1e6) / 1e6;

// Resolving the default zone builds an Intl formatter: once per TZ value is enough.
const zones = new Map<string, string>();

/** reportContext, with the default zone resolved once per environment value. */
function contextOf(db: Db, opts: ReportOptions, env: NodeJS.ProcessEnv = process.env): ReportContext {
  if (opts.timezone !== undefined) return reportContext(db, opts, env);
  const k = env.TZ ?? '';
  let tz = zones.get(k);
  if (tz === undefined) zones.set(k, (tz = defaultTimeZone(env)));
  return reportContext(db, { ...opts, timezone: tz }, env);
}

// Statements prepared once per connection.
const statements = new WeakMap<Db, Map<string, Statement>>();

function stmt(db: Db, sql: string): Statement {
  let m = statements.get(db);
  if (!m) statements.set(db, (m = new Map()));
  let st = m.get(sql);
  if (!st) m.set(sql, (st = db.prepare(sql)));
  return st;
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
  lastDay = -Infinity;
  readonly unpriced = new Set<string>();
  readonly providers = new Set<Provider>();
  readonly sessions = new Set<string>();

  add(r: RollRow, p: Part, cost: number | null): void {
    this.inputTokens += p.inputTokens;
    this.outputTokens += p.outputTokens;
    this.cacheCreationTokens += p.cacheCreationTokens;
    this.cacheReadTokens += p.cacheReadTokens;
    this.reasoningTokens += p.reasoningTokens;
    this.requests += p.requests;
    this.providers.add(r.provider);
    this.sessions.add(r.provider + '\u0000' + r.session);
    if (r.day > this.lastDay) this.lastDay = r.day;
    if (cost === null) {
      this.unpriced.add(r.model ?? 'unknown');
      this.unpricedTokens += tokensOf(p);
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
  const ctx = contextOf(db, opts, env);
  // The data's span in scope (whatever the range), and the first day with data in the range.
  let spanLo = Infinity;
  let spanHi = -Infinity;
  let rangeLo = Infinity;
  const sinceDay = ctx.sinceDay ?? -Infinity;
  const untilDay = ctx.untilDay ?? Infinity;
  eachScoped(db, { ...ctx, sinceDay: undefined, untilDay: undefined }, (r) => {
    if (r.day < spanLo) spanLo = r.day;
    if (r.day > spanHi) spanHi = r.day;
    if (r.day >= sinceDay && r.day <= untilDay && r.day < rangeLo) rangeLo = r.day;
  });
  const span = Number.isFinite(spanLo) ? { first: dayToDate(spanLo), last: dayToDate(spanHi) } : null;

  // The axis: the requested range, else the data's span; never thousands of empty years.
  let first = ctx.sinceDay ?? (span ? spanLo : undefined);
  let last = ctx.untilDay ?? (span ? spanHi : undefined);
  if (first !== undefined && last !== undefined && last - first + 1 > MAX_AXIS_DAYS) {
    first = Number.isFinite(rangeLo) ? Math.max(first, rangeLo) : last - MAX_AXIS_DAYS + 1;
    last = Math.max(first, Math.min(last, first + MAX_AXIS_DAYS - 1));
  }
  const n = first === undefined || last === undefined ? 0 : last - first + 1;
  const axis0 = first ?? 0;
  const days = Array.from({ length: n }, (_, i) => dayToDate(axis0 + i));

  const names = new Map(knownDevices(db).map((d) => [d.deviceId, d.name ?? d.deviceId.slice(0, 8)]));
  const totals = new Sums();
  const byModel: DailyAcc = new Map();
  const byDevice: DailyAcc = new Map();
  const models = new Map<string, Sums>();
  const projects = new Map<string, Sums>();
  const bump = (m: DailyAcc, key: string, label: string, i: number, t: number, c: number) => {
    let acc = m.get(key);
    if (!acc) m.set(key, (acc = { label, tokens: new Float64Array(n), cost: new Float64Array(n) }));
    acc.tokens[i] += t;
    acc.cost[i] += c;
  };
  const sumsOf = (m: Map<string, Sums>, key: string) => {
    let acc = m.get(key);
    if (!acc) m.set(key, (acc = new Sums()));
    return acc;
  };
  eachScoped(db, ctx, (r, p) => {
    const cost = costOfPart(r.model, p);
    totals.add(r, p, cost);
    const model = r.model ?? 'unknown';
    if (r.model !== SYNTHETIC_MODEL) sumsOf(models, model).add(r, p, cost);
    sumsOf(projects, r.project).add(r, p, cost);
    const i = r.day - axis0;
    const t = tokensOf(p);
    if (i < 0 || i >= n || t === 0) return;
    bump(byModel, model, model, i, t, cost ?? 0);
    bump(byDevice, r.device, names.get(r.device) ?? r.device.slice(0, 8), i, t, cost ?? 0);
  });

  const paths = new Map<string, string>();
  for (const row of stmt(db, 'SELECT slug, path FROM projects WHERE path IS NOT NULL').all() as Array<{ slug: string; path: string }>) {
    if (!paths.has(row.slug)) paths.set(row.slug, row.path);
  }
  const modelList: DashboardModel[] = [...models.entries()]
    .map(([modelName, m]) => ({
      modelName,
      provider: [...m.providers][0],
      requests: m.requests,
      inputTokens: m.inputTokens,
      outputTokens: m.outputTokens,
      cacheCreationTokens: m.cacheCreationTokens,
      cacheReadTokens: m.cacheReadTokens,
      totalTokens: m.totalTokens,
      totalCost: m.unpriced.size === 0 ? m.cost : null,
    }))
    .sort((x, y) => (y.totalCost ?? -1) - (x.totalCost ?? -1) || y.totalTokens - x.totalTokens || x.modelName.localeCompare(y.modelName));
  const projectList: DashboardProject[] = [...projects.entries()]
    .map(([project, m]) => ({
      project,
      projectPath: paths.get(project) ?? null,
      providers: [...m.providers].sort(),
      sessions: m.sessions.size,
      requests: m.requests,
      totalTokens: m.totalTokens,
      totalCost: m.cost,
      // The rollup's days are local days of the zone: the last one is the last activity's date.
      lastActivity: dayToDate(m.lastDay),
    }))
    .sort((x, y) => y.totalCost - x.totalCost || y.totalTokens - x.totalTokens || x.project.localeCompare(y.project));

  return {
    meta: contextMeta(ctx),
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

/** GET /api/dashboard/sessions: see {@link dashboardSessions}. */
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
  const ctx = contextOf(db, opts, env);
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
  const rows = stmt(
    db,
    `SELECT u.provider, u.session_id, MAX(u.project) AS project, COALESCE(MIN(NULLIF(u.first_ts, '')), '') AS first_ts,
       MAX(u.last_ts) AS last_ts, group_concat(DISTINCT u.device_id) AS devices, COUNT(*) OVER () AS total
     FROM sessions u ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
     GROUP BY u.provider, u.session_id ${having.length ? 'HAVING ' + having.join(' AND ') : ''}
     ORDER BY last_ts DESC, u.session_id LIMIT ?`,
  ).all(...params, limit) as Array<{ provider: Provider; session_id: string; project: string; first_ts: string; last_ts: string; devices: string; total: number }>;

  const usage = new Map<string, { tokens: number; cost: number; requests: number; models: Map<string, number>; unpriced: Set<string> }>();
  for (const r of rows) usage.set(r.provider + '\u0000' + r.session_id, { tokens: 0, cost: 0, requests: 0, models: new Map(), unpriced: new Set() });
  eachScoped(db, { ...ctx, sinceDay: undefined, untilDay: undefined }, (r, p) => {
    const u = usage.get(r.provider + '\u0000' + r.session);
    if (!u) return;
    const t = tokensOf(p);
    u.tokens += t;
    u.requests += p.requests;
    if (r.model === SYNTHETIC_MODEL) return;
    const name = r.model ?? 'unknown';
    const prev = u.models.get(name);
    if (prev === undefined || p.firstMs < prev) u.models.set(name, p.firstMs);
    const cost = costOfPart(r.model, p);
    if (cost !== null) u.cost += cost;
    else if (t > 0) u.unpriced.add(name);
  });
  const pathOf = stmt(db, 'SELECT path FROM projects WHERE provider = ? AND slug = ?').pluck();
  const sessions = rows.map((r) => {
    const u = usage.get(r.provider + '\u0000' + r.session_id)!;
    return {
      sessionId: r.session_id,
      provider: r.provider,
      project: r.project,
      projectPath: (pathOf.get(r.provider, r.project) as string | null | undefined) ?? null,
      firstTimestamp: r.first_ts,
      lastTimestamp: r.last_ts,
      lastActivity: r.last_ts ? localDate(ctx.timezone, Date.parse(r.last_ts)) : '',
      deviceIds: r.devices.split(',').sort(),
      totalTokens: u.tokens,
      totalCost: u.cost,
      requests: u.requests,
      modelsUsed: [...u.models.entries()].sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0])).map(([m]) => m),
      unpricedModels: [...u.unpriced].sort(),
    };
  });
  return { sessions, total: rows[0]?.total ?? 0, meta: { ...contextMeta(ctx), limit } };
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

/** GET /api/devices: see {@link dashboardDevices}. */
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

/** What the Devices panel tells a machine without sync to run. */
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

let statusModule: Promise<typeof import('../../sync/status.js')> | undefined;

/**
 * The sync status module, loaded on first use as /api/sync/status loads it (serving reports
 * alone never loads the sync modules). Loading it (age and the daemon's modules) takes a while,
 * so the warm-up starts it.
 */
function syncStatusModule(): Promise<typeof import('../../sync/status.js')> {
  statusModule ??= import('../../sync/status.js');
  return statusModule;
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
  const { syncStatus } = await syncStatusModule();
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

/** How often the background check looks for a changed store, and how long after the page's last request it keeps looking. */
const WARM_CHECK_MS = 5_000;
const WARM_WHILE_MS = 120_000;

/**
 * Builds the rollup and conflict counts off the request path: once when the app starts (the
 * page is opened seconds after `serve` prints its address), and again whenever the store has
 * changed (an ingest, a pull) while the page is in use. A request never waits for a rebuild
 * that could have happened while nobody was asking; with no page open nothing runs.
 */
class Warmer {
  private lastRequest = 0;
  private builtFor = '';
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly ctx: ApiContext) {
    setImmediate(() => {
      this.build();
      syncStatusModule().catch(() => undefined);
    }).unref?.();
    this.timer = setInterval(() => {
      if (Date.now() - this.lastRequest < WARM_WHILE_MS) this.build();
    }, WARM_CHECK_MS);
    this.timer.unref();
  }

  /** Called on each dashboard request. */
  touch(): void {
    this.lastRequest = Date.now();
  }

  private build(): void {
    const { db } = this.ctx;
    if (!db.open) {
      clearInterval(this.timer);
      return;
    }
    try {
      const key = changeKey(db);
      if (key === this.builtFor) return;
      const ctx = contextOf(db, {}, this.ctx.env);
      rollup(db, ctx.timezone);
      conflictsByDevice(db, knownDevices(db).map((d) => d.deviceId));
      this.builtFor = key;
    } catch {
      // A store being migrated or closed: the next request builds (and reports) for itself.
    }
  }
}

/** The dashboard's endpoints (mounted under /api): summary, sessions, devices. */
export function dashboardRoutes(ctx: ApiContext): Hono {
  const r = new Hono();
  const warmer = new Warmer(ctx);
  r.use('/dashboard/*', async (_c, next) => {
    warmer.touch();
    await next();
  });
  r.get('/dashboard/summary', (c) => c.json(dashboardSummary(ctx.db, reportOptionsFromQuery(readQuery(c, DASHBOARD_PARAMS)), ctx.env)));
  r.get('/dashboard/sessions', (c) => {
    const q = readQuery(c, [...DASHBOARD_PARAMS, 'limit']);
    return c.json(dashboardSessions(ctx.db, { ...reportOptionsFromQuery(q), limit: parseLimit(q.limit) }, ctx.env));
  });
  // The current 5-hour window: from recent usage rows only (src/reports), not the rollup.
  r.get('/dashboard/window', (c) => c.json(currentWindow(ctx.db, reportOptionsFromQuery(readQuery(c, ['scope', 'timezone'])), ctx.env)));
  r.get('/devices', async (c) => {
    readQuery(c, []);
    warmer.touch();
    return c.json(await dashboardDevices(ctx.db, ctx.env));
  });
  return r;
}
