import type { Db } from '../store/db.js';
import { contextMeta, reportContext, type ReportContext } from '../query/context.js';
import type { ReportOptions } from '../query/options.js';
import { Acc, projectPaths } from './reports.js';
import { groupCost } from '../query/pricing.js';
import { SYNTHETIC_MODEL } from '../query/synthetic.js';
import { eachScoped, rollup } from './rollup.js';
import { stmt } from '../store/statements.js';
import { recentSessions } from './sessions.js';
import { knownDevices } from '../query/scope.js';
import { dayToDate, defaultTimeZone, localDate } from '../query/timezone.js';

/** A chart shows this many series at most; smaller ones are summed into one "other" series. */
const MAX_SERIES = 8;
/** Longest day axis sent: a range wider than this is cut to the days that have data. */
const MAX_AXIS_DAYS = 3660;
/** The key of the series that sums the smaller ones. */
const OTHER_SERIES = 'other';

// The JSON these functions return is declared in src/api/shapes.ts, the contract with the page;
// the routes check these values against it.

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

/** Builds the rollup for the default view ahead of the first request (the API's warmer calls it). */
export function warmDashboard(db: Db, env?: NodeJS.ProcessEnv): void {
  rollup(db, contextOf(db, {}, env).timezone);
}

type DailyAcc = Map<string, { label: string; tokens: Float64Array; cost: Float64Array }>;

/** Builds stacked series from per-key daily sums, the biggest first, the tail folded into "other". */
function toSeries(perKey: DailyAcc) {
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

/** The accumulator of `key` in `m`, created on first use. */
function accOf<K>(m: Map<K, Acc>, key: K): Acc {
  let acc = m.get(key);
  if (!acc) m.set(key, (acc = new Acc()));
  return acc;
}

/**
 * GET /api/dashboard/summary: everything the charts, totals and the models and projects tables
 * need, summed from the rollup under the scope and range. Same usage rows, same union rule,
 * same accumulator and prices as the reports, so the totals are those of `/api/reports/daily`.
 */
export function dashboardSummary(db: Db, opts: ReportOptions, env?: NodeJS.ProcessEnv, now: number = Date.now()) {
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
  const totals = new Acc();
  const byModel: DailyAcc = new Map();
  const byDevice: DailyAcc = new Map();
  const models = new Map<string, Acc>();
  const projects = new Map<string, Acc>();
  const bump = (m: DailyAcc, key: string, label: string, i: number, t: number, c: number) => {
    let acc = m.get(key);
    if (!acc) m.set(key, (acc = { label, tokens: new Float64Array(n), cost: new Float64Array(n) }));
    acc.tokens[i] += t;
    acc.cost[i] += c;
  };
  eachScoped(db, ctx, (r) => {
    const cost = groupCost(r);
    totals.add(r, cost, false);
    const model = r.model ?? 'unknown';
    if (r.model !== SYNTHETIC_MODEL) accOf(models, model).add(r, cost, false);
    accOf(projects, r.project).add(r, cost, false);
    const i = r.day - axis0;
    const t = r.inputTokens + r.outputTokens + r.cacheCreationTokens + r.cacheReadTokens;
    if (i < 0 || i >= n || t === 0) return;
    bump(byModel, model, model, i, t, cost ?? 0);
    bump(byDevice, r.device, names.get(r.device) ?? r.device.slice(0, 8), i, t, cost ?? 0);
  });

  const paths = projectPaths(db);
  const modelList = [...models.entries()]
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
  const projectList = [...projects.entries()]
    .map(([project, m]) => ({
      project,
      projectPath: paths.get(project) ?? null,
      providers: [...m.providers].sort(),
      sessions: m.sessions.size,
      requests: m.requests,
      totalTokens: m.totalTokens,
      totalCost: m.cost,
      // As the projects report dates it: the local day of the last billed request.
      lastActivity: localDate(ctx.timezone, m.lastMs),
    }))
    .sort((x, y) => y.totalCost - x.totalCost || y.totalTokens - x.totalTokens || x.project.localeCompare(y.project));

  return {
    meta: contextMeta(ctx),
    today: localDate(ctx.timezone, now),
    dataSpan: span,
    days,
    totals: { ...totals.totals(), requests: totals.requests, sessions: totals.sessions.size, projects: projects.size },
    byModel: toSeries(byModel),
    byDevice: toSeries(byDevice),
    models: modelList,
    projects: projectList,
  };
}

/**
 * GET /api/dashboard/sessions: the most recent sessions active in the range, chosen by the rule
 * of `/api/sessions` (recentSessions) from the per-device session rows, with each session's whole
 * billed usage from the rollup. It never scans the events, and has no event counts.
 */
export function dashboardSessions(db: Db, opts: ReportOptions & { limit?: number }, env?: NodeJS.ProcessEnv) {
  const ctx = contextOf(db, opts, env);
  const limit = Math.min(opts.limit ?? 50, 500);
  const { sessions: rows, total } = recentSessions(db, ctx, { limit });

  const usage = new Map<string, Acc>();
  for (const r of rows) usage.set(r.provider + '\u0000' + r.sessionId, new Acc());
  eachScoped(db, { ...ctx, sinceDay: undefined, untilDay: undefined }, (r) => {
    usage.get(r.provider + '\u0000' + r.session)?.add(r, groupCost(r), false);
  });
  const pathOf = stmt(db, 'SELECT path FROM projects WHERE provider = ? AND slug = ?').pluck();
  const sessions = rows.map((r) => {
    const u = usage.get(r.provider + '\u0000' + r.sessionId)!;
    return {
      sessionId: r.sessionId,
      provider: r.provider,
      project: r.project,
      projectPath: (pathOf.get(r.provider, r.project) as string | null | undefined) ?? null,
      firstTimestamp: r.firstTimestamp,
      lastTimestamp: r.lastTimestamp,
      lastActivity: r.lastActivity,
      deviceIds: r.deviceIds,
      totalTokens: u.totalTokens,
      totalCost: u.cost,
      requests: u.requests,
      modelsUsed: u.modelsUsed(),
      unpricedModels: [...u.unpriced].sort(),
    };
  });
  return { sessions, total, meta: { ...contextMeta(ctx), limit } };
}
