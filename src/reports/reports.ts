import type { Db } from '../store/db.js';
import type { Provider } from '../model/event.js';
import { aggregate, type AggRow, type GroupKey } from './aggregate.js';
import { contextMeta, reportContext, type ReportContext, type ReportMeta } from '../query/context.js';
import type { ReportOptions } from '../query/options.js';
import type { ReportKind } from './kinds.js';
import { groupCost } from '../query/pricing.js';
import { knownDevices } from '../query/scope.js';
import { dateToDay, dayToDate, defaultTimeZone, localDate } from '../query/timezone.js';
import { lastPeriodsStart, weekStart, type Period, type Weekday } from '../query/periods.js';
import { SYNTHETIC_MODEL } from '../query/synthetic.js';

/** ccusage's per-model entry; `cost` is null when the model has no price. Extras follow theirs. */
export interface ModelBreakdown {
  modelName: string;
  inputTokens: number;
  outputTokens: number;
  cacheCreationTokens: number;
  cacheReadTokens: number;
  cost: number | null;
  provider: Provider;
  reasoningTokens: number;
}

/** One agent's share of a row (a project, a day…): its models' sums. */
interface AgentBreakdown extends TokenCounts {
  provider: Provider;
  reasoningTokens: number;
  /** Cost of its priced models. */
  totalCost: number;
  /** Tokens of its models without a price (not in totalCost). */
  unpricedTokens: number;
}

/** The token and cost columns every row and total carries (ccusage's names), plus our extras. */
export interface UsageTotals {
  inputTokens: number;
  outputTokens: number;
  cacheCreationTokens: number;
  cacheReadTokens: number;
  totalCost: number;
  totalTokens: number;
  /** Informational; already inside outputTokens for Codex. */
  reasoningTokens: number;
  /** Models with usage but no price: `totalCost` excludes their usage. Empty when the cost is complete. */
  unpricedModels: string[];
  /** Tokens (all four kinds) of unpriced models, left out of `totalCost`. */
  unpricedTokens: number;
}

/** The four token kinds and their sum, as every report row, share and dashboard row carries them. */
export interface TokenCounts {
  inputTokens: number;
  outputTokens: number;
  cacheCreationTokens: number;
  cacheReadTokens: number;
  totalTokens: number;
}

/** One device's share of a row (with `byDevice`). */
export interface DeviceShare extends TokenCounts {
  deviceId: string;
  deviceName: string | null;
  totalCost: number;
  unpricedModels: string[];
}

interface RowCommon extends TokenCounts {
  totalCost: number;
}

interface RowExtras {
  modelsUsed: string[];
  modelBreakdowns: ModelBreakdown[];
  providers: Provider[];
  /** The row per agent, largest first. */
  agentBreakdowns: AgentBreakdown[];
  reasoningTokens: number;
  unpricedModels: string[];
  unpricedTokens: number;
  devices?: DeviceShare[];
}

type DailyEntry = { date: string } & RowCommon & RowExtras;
type WeeklyEntry = { week: string } & RowCommon & RowExtras;
type MonthlyEntry = { month: string } & RowCommon & RowExtras;
export type SessionEntry = { sessionId: string } & RowCommon & {
  lastActivity: string;
  projectPath: string;
  provider: Provider;
  project: string;
  firstTimestamp: string;
  lastTimestamp: string;
} & RowExtras;
type ProjectEntry = { project: string; projectPath: string | null } & RowCommon & {
  lastActivity: string;
  sessions: number;
} & RowExtras;
interface ModelEntry extends TokenCounts {
  modelName: string;
  provider: Provider;
  /** null when the model has no price. */
  totalCost: number | null;
  reasoningTokens: number;
  requests: number;
  priced: boolean;
  devices?: DeviceShare[];
}

export interface DailyReport { daily: DailyEntry[]; totals: UsageTotals; meta: ReportMeta }
export interface WeeklyReport { weekly: WeeklyEntry[]; totals: UsageTotals; meta: ReportMeta & { startOfWeek: Weekday } }
export interface MonthlyReport { monthly: MonthlyEntry[]; totals: UsageTotals; meta: ReportMeta }
export interface SessionReport { sessions: SessionEntry[]; totals: UsageTotals; meta: ReportMeta }
export interface ProjectReport { projects: ProjectEntry[]; totals: UsageTotals; meta: ReportMeta }
export interface ModelReport { models: ModelEntry[]; totals: UsageTotals; meta: ReportMeta }

/**
 * Order of two timestamps or dates in one ISO-8601 format (toISOString, `YYYY-MM`): their
 * code units sort the same as localeCompare would, without building an ICU collator (~10 ms
 * of a report's start-up).
 */
function compareIso(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function modelName(r: AggRow): string {
  return r.model ?? 'unknown';
}

/** Model breakdowns summed per agent, by total tokens, largest first. */
function agentBreakdowns(models: ModelBreakdown[]): AgentBreakdown[] {
  const by = new Map<string, AgentBreakdown>();
  for (const m of models) {
    let a = by.get(m.provider);
    if (!a) {
      a = { provider: m.provider, inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0, reasoningTokens: 0, totalTokens: 0, totalCost: 0, unpricedTokens: 0 };
      by.set(m.provider, a);
    }
    const tokens = m.inputTokens + m.outputTokens + m.cacheCreationTokens + m.cacheReadTokens;
    a.inputTokens += m.inputTokens;
    a.outputTokens += m.outputTokens;
    a.cacheCreationTokens += m.cacheCreationTokens;
    a.cacheReadTokens += m.cacheReadTokens;
    a.reasoningTokens += m.reasoningTokens;
    a.totalTokens += tokens;
    if (m.cost === null) a.unpricedTokens += tokens;
    else a.totalCost += m.cost;
  }
  return [...by.values()].sort((x, y) => y.totalTokens - x.totalTokens || x.provider.localeCompare(y.provider));
}

/** Accumulates aggregated groups into one output row (a report's row, a dashboard table's row, a session). */
export class Acc {
  inputTokens = 0;
  outputTokens = 0;
  cacheCreationTokens = 0;
  cacheReadTokens = 0;
  reasoningTokens = 0;
  cost = 0;
  unpricedTokens = 0;
  requests = 0;
  firstMs = Infinity;
  lastMs = -Infinity;
  readonly unpriced = new Set<string>();
  readonly providers = new Set<Provider>();
  readonly models = new Map<string, { b: ModelBreakdown; firstMs: number; priced: boolean }>();
  readonly sessions = new Set<string>();
  devices: Map<string, Acc> | null = null;

  add(r: AggRow, cost: number | null, byDevice: boolean): void {
    this.inputTokens += r.inputTokens;
    this.outputTokens += r.outputTokens;
    this.cacheCreationTokens += r.cacheCreationTokens;
    this.cacheReadTokens += r.cacheReadTokens;
    this.reasoningTokens += r.reasoningTokens;
    this.requests += r.requests;
    this.providers.add(r.provider);
    if (r.session !== null) this.sessions.add(r.provider + '\u0000' + r.session);
    if (r.firstMs < this.firstMs) this.firstMs = r.firstMs;
    if (r.lastMs > this.lastMs) this.lastMs = r.lastMs;
    const name = modelName(r);
    if (cost === null) {
      this.unpriced.add(name);
      this.unpricedTokens += r.inputTokens + r.outputTokens + r.cacheCreationTokens + r.cacheReadTokens;
    } else {
      this.cost += cost;
    }
    if (r.model !== SYNTHETIC_MODEL) {
      let m = this.models.get(name);
      if (!m) {
        m = {
          b: { modelName: name, inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0, cost: 0, provider: r.provider, reasoningTokens: 0 },
          firstMs: r.firstMs,
          priced: true,
        };
        this.models.set(name, m);
      }
      m.b.inputTokens += r.inputTokens;
      m.b.outputTokens += r.outputTokens;
      m.b.cacheCreationTokens += r.cacheCreationTokens;
      m.b.cacheReadTokens += r.cacheReadTokens;
      m.b.reasoningTokens += r.reasoningTokens;
      if (cost === null) m.priced = false;
      else m.b.cost = (m.b.cost ?? 0) + cost;
      if (r.firstMs < m.firstMs) m.firstMs = r.firstMs;
    }
    if (byDevice && r.device !== null) {
      this.devices ??= new Map();
      let d = this.devices.get(r.device);
      if (!d) this.devices.set(r.device, (d = new Acc()));
      d.add({ ...r, device: null }, cost, false);
    }
  }

  get totalTokens(): number {
    return this.inputTokens + this.outputTokens + this.cacheCreationTokens + this.cacheReadTokens;
  }

  common(): RowCommon {
    return {
      inputTokens: this.inputTokens,
      outputTokens: this.outputTokens,
      cacheCreationTokens: this.cacheCreationTokens,
      cacheReadTokens: this.cacheReadTokens,
      totalTokens: this.totalTokens,
      totalCost: this.cost,
    };
  }

  breakdowns(): ModelBreakdown[] {
    const list = [...this.models.values()].map((m) => ({ ...m.b, cost: m.priced ? m.b.cost : null }));
    // ccusage orders by cost, highest first; unknown costs go last, then by name for a stable order.
    return list.sort((a, b) => (b.cost ?? -1) - (a.cost ?? -1) || a.modelName.localeCompare(b.modelName));
  }

  modelsUsed(): string[] {
    return [...this.models.entries()].sort((a, b) => a[1].firstMs - b[1].firstMs || a[0].localeCompare(b[0])).map(([n]) => n);
  }

  extras(names: Map<string, string | null>): RowExtras {
    const modelBreakdowns = this.breakdowns();
    const out: RowExtras = {
      modelsUsed: this.modelsUsed(),
      modelBreakdowns,
      providers: [...this.providers].sort(),
      agentBreakdowns: agentBreakdowns(modelBreakdowns),
      reasoningTokens: this.reasoningTokens,
      unpricedModels: [...this.unpriced].sort(),
      unpricedTokens: this.unpricedTokens,
    };
    if (this.devices) out.devices = deviceShares(this.devices, names);
    return out;
  }

  totals(): UsageTotals {
    return {
      inputTokens: this.inputTokens,
      outputTokens: this.outputTokens,
      cacheCreationTokens: this.cacheCreationTokens,
      cacheReadTokens: this.cacheReadTokens,
      totalCost: this.cost,
      totalTokens: this.totalTokens,
      reasoningTokens: this.reasoningTokens,
      unpricedModels: [...this.unpriced].sort(),
      unpricedTokens: this.unpricedTokens,
    };
  }
}

function deviceShares(devices: Map<string, Acc>, names: Map<string, string | null>): DeviceShare[] {
  return [...devices.entries()]
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([deviceId, d]) => ({
      deviceId,
      deviceName: names.get(deviceId) ?? null,
      inputTokens: d.inputTokens,
      outputTokens: d.outputTokens,
      cacheCreationTokens: d.cacheCreationTokens,
      cacheReadTokens: d.cacheReadTokens,
      totalTokens: d.totalTokens,
      totalCost: d.cost,
      unpricedModels: [...d.unpriced].sort(),
    }));
}

interface Run {
  ctx: ReportContext;
  rows: Array<AggRow & { cost: number | null }>;
  totals: Acc;
  names: Map<string, string | null>;
  meta: ReportMeta;
}

function run(db: Db, opts: ReportOptions, keys: GroupKey[], env?: NodeJS.ProcessEnv): Run {
  const ctx = reportContext(db, opts, env);
  const allKeys = ctx.byDevice ? [...keys, 'device' as const] : keys;
  // The rows are fresh objects: adding the cost in place is cheaper than copying each.
  const rows = aggregate(db, ctx, allKeys) as Array<AggRow & { cost: number | null }>;
  for (const r of rows) r.cost = groupCost(r);
  const totals = new Acc();
  for (const r of rows) totals.add(r, r.cost, false);
  const names = new Map<string, string | null>();
  if (ctx.byDevice) for (const d of knownDevices(db)) names.set(d.deviceId, d.name);
  return { ctx, rows, totals, names, meta: contextMeta(ctx) };
}

function groupRows<K>(r: Run, keyOf: (row: AggRow) => K): Map<K, Acc> {
  const groups = new Map<K, Acc>();
  for (const row of r.rows) {
    const k = keyOf(row);
    let acc = groups.get(k);
    if (!acc) groups.set(k, (acc = new Acc()));
    acc.add(row, row.cost, r.ctx.byDevice);
  }
  return groups;
}

/**
 * `last` as a date filter: the first day of the N most recent periods (the current one, in the
 * report's zone, included) becomes `since`, unless `since` is later already.
 */
function withLast(opts: ReportOptions, period: Period, env?: NodeJS.ProcessEnv): ReportOptions {
  if (opts.last === undefined) return opts;
  const tz = opts.timezone ?? defaultTimeZone(env ?? process.env);
  const today = dateToDay(localDate(tz, opts.now ?? Date.now()));
  const since = dayToDate(lastPeriodsStart(period, opts.last, today, opts.startOfWeek));
  return { ...opts, since: opts.since && opts.since > since ? opts.since : since };
}

/**
 * Usage per local day, oldest first. JSON-compatible with `ccusage daily --json`
 * (same field names and meanings), with our extras beside them.
 */
export function dailyReport(db: Db, opts: ReportOptions = {}, env?: NodeJS.ProcessEnv): DailyReport {
  const r = run(db, withLast(opts, 'day', env), ['day'], env);
  const days = groupRows(r, (row) => row.day as number);
  const daily = [...days.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([day, acc]) => ({ date: dayToDate(day), ...acc.common(), ...acc.extras(r.names) }));
  return { daily, totals: r.totals.totals(), meta: r.meta };
}

/** Usage per local calendar month (`YYYY-MM`), oldest first; ccusage's `monthly --json` shape. */
export function monthlyReport(db: Db, opts: ReportOptions = {}, env?: NodeJS.ProcessEnv): MonthlyReport {
  const r = run(db, withLast(opts, 'month', env), ['day'], env);
  const months = groupRows(r, (row) => dayToDate(row.day as number).slice(0, 7));
  const monthly = [...months.entries()]
    .sort((a, b) => compareIso(a[0], b[0]))
    .map(([month, acc]) => ({ month, ...acc.common(), ...acc.extras(r.names) }));
  return { monthly, totals: r.totals.totals(), meta: r.meta };
}

/**
 * Usage per local week, keyed by the week's first day (`startOfWeek`, default Sunday, as
 * ccusage), oldest first; ccusage's `weekly --json` shape.
 */
export function weeklyReport(db: Db, opts: ReportOptions = {}, env?: NodeJS.ProcessEnv): WeeklyReport {
  const start = opts.startOfWeek ?? 'sunday';
  const r = run(db, withLast(opts, 'week', env), ['day'], env);
  const weeks = groupRows(r, (row) => weekStart(row.day as number, start));
  const weekly = [...weeks.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([week, acc]) => ({ week: dayToDate(week), ...acc.common(), ...acc.extras(r.names) }));
  return { weekly, totals: r.totals.totals(), meta: { ...r.meta, startOfWeek: start } };
}

/**
 * Usage per session (provider + session id), least recently active first like ccusage;
 * `lastActivity` is the local date of the session's last billed request.
 */
export function sessionReport(db: Db, opts: ReportOptions = {}, env?: NodeJS.ProcessEnv): SessionReport {
  const r = run(db, opts, ['session', 'project'], env);
  const groups = groupRows(r, (row) => row.provider + '\u0000' + row.session);
  // A session's project is the one of its latest usage (a Codex session may change directory).
  const projectOf = new Map<string, { project: string; ms: number }>();
  for (const row of r.rows) {
    const k = row.provider + '\u0000' + row.session;
    const cur = projectOf.get(k);
    if (!cur || row.lastMs > cur.ms) projectOf.set(k, { project: row.project ?? '', ms: row.lastMs });
  }
  const sessions = [...groups.entries()]
    .map(([k, acc]) => {
      const [provider, sessionId] = k.split('\u0000') as [Provider, string];
      const project = projectOf.get(k)?.project ?? '';
      const { modelsUsed, modelBreakdowns, ...extras } = acc.extras(r.names);
      // Key order follows ccusage's `session --json`, extras after.
      return {
        sessionId,
        ...acc.common(),
        lastActivity: localDate(r.ctx.timezone, acc.lastMs),
        modelsUsed,
        modelBreakdowns,
        projectPath: project,
        provider,
        project,
        firstTimestamp: new Date(acc.firstMs).toISOString(),
        lastTimestamp: new Date(acc.lastMs).toISOString(),
        ...extras,
      };
    })
    .sort((a, b) => a.lastTimestamp.localeCompare(b.lastTimestamp) || a.sessionId.localeCompare(b.sessionId));
  return { sessions, totals: r.totals.totals(), meta: r.meta };
}

/** Each project slug's working directory as logged (the first known, when agents disagree). */
export function projectPaths(db: Db): Map<string, string> {
  const paths = new Map<string, string>();
  for (const p of db.prepare('SELECT slug, path FROM projects WHERE path IS NOT NULL').all() as Array<{ slug: string; path: string }>) {
    if (!paths.has(p.slug)) paths.set(p.slug, p.path);
  }
  return paths;
}

/** Usage per project slug (both providers share the slug rule, so one project is one row), by cost. */
export function projectReport(db: Db, opts: ReportOptions = {}, env?: NodeJS.ProcessEnv): ProjectReport {
  const r = run(db, opts, ['project', 'session'], env);
  const groups = groupRows(r, (row) => row.project as string);
  const paths = projectPaths(db);
  const projects = [...groups.entries()]
    .map(([project, acc]) => ({
      project,
      projectPath: paths.get(project) ?? null,
      ...acc.common(),
      lastActivity: localDate(r.ctx.timezone, acc.lastMs),
      sessions: acc.sessions.size,
      ...acc.extras(r.names),
    }))
    .sort((a, b) => b.totalCost - a.totalCost || b.totalTokens - a.totalTokens || a.project.localeCompare(b.project));
  return { projects, totals: r.totals.totals(), meta: r.meta };
}

/** Usage per model, most expensive first (unpriced models last, by tokens). */
export function modelReport(db: Db, opts: ReportOptions = {}, env?: NodeJS.ProcessEnv): ModelReport {
  const r = run(db, opts, [], env);
  const groups = groupRows(r, (row) => modelName(row));
  const models: ModelEntry[] = [];
  for (const [name, acc] of groups) {
    if (name === SYNTHETIC_MODEL) continue;
    const priced = acc.unpriced.size === 0;
    const e: ModelEntry = {
      modelName: name,
      provider: [...acc.providers][0],
      inputTokens: acc.inputTokens,
      outputTokens: acc.outputTokens,
      cacheCreationTokens: acc.cacheCreationTokens,
      cacheReadTokens: acc.cacheReadTokens,
      totalTokens: acc.totalTokens,
      totalCost: priced ? acc.cost : null,
      reasoningTokens: acc.reasoningTokens,
      requests: acc.requests,
      priced,
    };
    if (acc.devices) e.devices = deviceShares(acc.devices, r.names);
    models.push(e);
  }
  models.sort((a, b) => (b.totalCost ?? -1) - (a.totalCost ?? -1) || b.totalTokens - a.totalTokens || a.modelName.localeCompare(b.modelName));
  return { models, totals: r.totals.totals(), meta: r.meta };
}

/** True when the store holds no events at all (nothing was ingested or synced yet). */
export function storeIsEmpty(db: Db): boolean {
  return db.prepare('SELECT 1 FROM events LIMIT 1').get() === undefined;
}
export type AnyReport = DailyReport | WeeklyReport | MonthlyReport | SessionReport | ProjectReport | ModelReport;

/** Runs a report by name (for the CLI's and the API's dispatch). */
export function runReport(db: Db, kind: ReportKind, opts: ReportOptions = {}, env?: NodeJS.ProcessEnv): AnyReport {
  switch (kind) {
    case 'daily':
      return dailyReport(db, opts, env);
    case 'weekly':
      return weeklyReport(db, opts, env);
    case 'monthly':
      return monthlyReport(db, opts, env);
    case 'session':
      return sessionReport(db, opts, env);
    case 'project':
      return projectReport(db, opts, env);
    case 'model':
      return modelReport(db, opts, env);
  }
}
