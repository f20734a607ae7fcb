import type {
  AnyReport,
  DailyReport,
  DeviceShare,
  ModelReport,
  MonthlyReport,
  WeeklyReport,
  ProjectReport,
  SessionReport,
  TokenCounts,
  UsageTotals,
} from './reports.js';
import type { ReportKind } from './kinds.js';
import { inertDeep } from '../util/terminal.js';
import { formatCost, formatInt } from '../util/units.js';
import type { SessionList } from './sessions.js';
import { normalizeModel } from '../query/pricing.js';

/** Rendering switches. Colors only make sense on a terminal. */
export interface FormatOptions {
  color?: boolean;
}

type Align = 'left' | 'right';
interface Column {
  header: string;
  align: Align;
}

/** A row's cost cell: "?" when nothing was priced, "$x.xx+?" when some usage was left out. */
function costCell(cost: number, unpriced: string[], totalTokens: number, unpricedTokens?: number): string {
  if (unpriced.length === 0) return formatCost(cost);
  if (unpricedTokens !== undefined && unpricedTokens >= totalTokens) return '?';
  return formatCost(cost) + '+?';
}

/** "claude-sonnet-4-5-20250929" → "sonnet-4-5": enough to tell models apart in a narrow column. */
export function shortModel(name: string): string {
  const n = normalizeModel(name);
  return n.startsWith('claude-') ? n.slice('claude-'.length) : n;
}

function visibleLength(s: string): number {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;]*m/g, '').length;
}

function pad(s: string, width: number, align: Align): string {
  const fill = ' '.repeat(Math.max(0, width - visibleLength(s)));
  return align === 'right' ? fill + s : s + fill;
}

const ANSI = { bold: '\x1b[1m', dim: '\x1b[2m', yellow: '\x1b[33m', reset: '\x1b[0m' };

/**
 * An aligned plain-text table: header, rule, body rows, and (when given) a rule and a
 * totals row. Rows that are `null` print as a blank separator. No colors unless asked.
 */
export function renderTable(columns: Column[], rows: Array<string[] | null>, totals: string[] | null, fmt: FormatOptions = {}): string {
  const widths = columns.map((c, i) =>
    Math.max(visibleLength(c.header), ...rows.map((r) => (r ? visibleLength(r[i] ?? '') : 0)), totals ? visibleLength(totals[i] ?? '') : 0),
  );
  const line = (cells: string[]) =>
    cells
      .map((c, i) => pad(c ?? '', widths[i], columns[i].align))
      .join('  ')
      .replace(/\s+$/, '');
  const rule = widths.map((w) => '─'.repeat(w)).join('  ');
  const paint = (s: string, code: string) => (fmt.color ? code + s + ANSI.reset : s);
  const out: string[] = [];
  out.push(paint(line(columns.map((c) => c.header)), ANSI.bold));
  out.push(paint(rule, ANSI.dim));
  for (const r of rows) out.push(r ? line(r) : '');
  if (totals) {
    out.push(paint(rule, ANSI.dim));
    out.push(paint(line(totals), ANSI.yellow));
  }
  return out.join('\n') + '\n';
}

const TOKEN_COLUMNS: Column[] = [
  { header: 'Input', align: 'right' },
  { header: 'Output', align: 'right' },
  { header: 'Cache Create', align: 'right' },
  { header: 'Cache Read', align: 'right' },
  { header: 'Total Tokens', align: 'right' },
  { header: 'Cost (USD)', align: 'right' },
];

interface TokenRow extends TokenCounts {
  totalCost: number;
  unpricedModels: string[];
  unpricedTokens?: number;
}

function tokenCells(r: TokenRow): string[] {
  return [
    formatInt(r.inputTokens),
    formatInt(r.outputTokens),
    formatInt(r.cacheCreationTokens),
    formatInt(r.cacheReadTokens),
    formatInt(r.totalTokens),
    costCell(r.totalCost, r.unpricedModels, r.totalTokens, r.unpricedTokens),
  ];
}

function deviceRows(devices: DeviceShare[] | undefined, lead: number): string[][] {
  if (!devices) return [];
  return devices.map((d) => [
    `  └ ${d.deviceName ?? d.deviceId.slice(0, 8)}`,
    ...Array<string>(lead - 1).fill(''),
    ...tokenCells({ ...d, unpricedModels: d.unpricedModels }),
  ]);
}

function models(list: string[]): string {
  return [...new Set(list.map(shortModel))].join(', ');
}

function footer(totals: UsageTotals, what: string): string {
  const lines: string[] = [];
  if (totals.unpricedModels.length > 0) {
    lines.push(
      `Cost excludes ${formatInt(totals.unpricedTokens)} tokens of models without a price: ${totals.unpricedModels.join(', ')} ("?" = unknown).`,
    );
  }
  if (lines.length === 0 && totals.totalTokens === 0) lines.push(`No usage ${what}.`);
  return lines.length ? '\n' + lines.join('\n') + '\n' : '';
}

function header(title: string, meta: AnyReport['meta']): string {
  const bits = [`time zone ${meta.timezone}`, `scope ${meta.scope}`];
  if (meta.since || meta.until) bits.push(`${meta.since ?? '…'} to ${meta.until ?? '…'}`);
  if (meta.project) bits.push(`project ~ ${meta.project}`);
  if (meta.provider) bits.push(`provider ${meta.provider}`);
  return `${title} (${bits.join(', ')})\n\n`;
}

function totalsRow(lead: string[], t: UsageTotals): string[] {
  return [...lead, ...tokenCells(t)];
}

/**
 * A report as a table: the lead columns, then the token columns; each entry's row with its
 * devices' shares under it (with `byDevice`); the totals row, and the footer.
 */
function reportTable<E extends { devices?: DeviceShare[] }>(
  title: string,
  report: AnyReport,
  lead: Column[],
  entries: E[],
  row: (e: E) => string[],
  totalsLead: string[],
  fmt: FormatOptions,
): string {
  const body: string[][] = [];
  for (const e of entries) {
    body.push(row(e));
    body.push(...deviceRows(e.devices, lead.length));
  }
  return header(title, report.meta) + renderTable([...lead, ...TOKEN_COLUMNS], body, totalsRow(totalsLead, report.totals), fmt) + footer(report.totals, 'in this range');
}

function dailyLike(title: string, first: string, rows: Array<TokenRow & { key: string; modelsUsed: string[]; devices?: DeviceShare[] }>, report: DailyReport | WeeklyReport | MonthlyReport, fmt: FormatOptions): string {
  const lead: Column[] = [{ header: first, align: 'left' }, { header: 'Models', align: 'left' }];
  return reportTable(title, report, lead, rows, (r) => [r.key, models(r.modelsUsed), ...tokenCells(r)], ['Total', ''], fmt);
}

function renderDaily(r: DailyReport, fmt: FormatOptions): string {
  return dailyLike('Token usage by day', 'Date', r.daily.map((d) => ({ ...d, key: d.date })), r, fmt);
}

function renderWeekly(r: WeeklyReport, fmt: FormatOptions): string {
  return dailyLike(`Token usage by week (weeks start on ${r.meta.startOfWeek})`, 'Week', r.weekly.map((d) => ({ ...d, key: d.week })), r, fmt);
}

function renderMonthly(r: MonthlyReport, fmt: FormatOptions): string {
  return dailyLike('Token usage by month', 'Month', r.monthly.map((d) => ({ ...d, key: d.month })), r, fmt);
}

function renderSession(r: SessionReport, fmt: FormatOptions): string {
  const lead: Column[] = [
    { header: 'Session', align: 'left' },
    { header: 'Provider', align: 'left' },
    { header: 'Project', align: 'left' },
    { header: 'Last Activity', align: 'left' },
    { header: 'Models', align: 'left' },
  ];
  const row = (s: SessionReport['sessions'][number]) => [s.sessionId, s.provider, s.project, s.lastActivity, models(s.modelsUsed), ...tokenCells(s)];
  return reportTable('Token usage by session', r, lead, r.sessions, row, ['Total', '', '', '', ''], fmt);
}

function renderProject(r: ProjectReport, fmt: FormatOptions): string {
  const lead: Column[] = [
    { header: 'Project', align: 'left' },
    { header: 'Agents', align: 'left' },
    { header: 'Sessions', align: 'right' },
    { header: 'Last Activity', align: 'left' },
    { header: 'Models', align: 'left' },
  ];
  const row = (p: ProjectReport['projects'][number]) => [p.project, p.providers.join(', '), formatInt(p.sessions), p.lastActivity, models(p.modelsUsed), ...tokenCells(p)];
  const sessions = r.projects.reduce((a, p) => a + p.sessions, 0);
  return reportTable('Token usage by project', r, lead, r.projects, row, ['Total', '', formatInt(sessions), '', ''], fmt);
}

function renderModel(r: ModelReport, fmt: FormatOptions): string {
  const lead: Column[] = [
    { header: 'Model', align: 'left' },
    { header: 'Provider', align: 'left' },
    { header: 'Requests', align: 'right' },
  ];
  // A model's cost is a number or unknown, never partly priced: no "+?" cell.
  const row = (m: ModelReport['models'][number]) => [
    m.modelName,
    m.provider,
    formatInt(m.requests),
    formatInt(m.inputTokens),
    formatInt(m.outputTokens),
    formatInt(m.cacheCreationTokens),
    formatInt(m.cacheReadTokens),
    formatInt(m.totalTokens),
    formatCost(m.totalCost),
  ];
  const requests = r.models.reduce((a, m) => a + m.requests, 0);
  return reportTable('Token usage by model', r, lead, r.models, row, ['Total', '', formatInt(requests)], fmt);
}

/** The human-readable table of a report. */
export function renderReport(kind: ReportKind, data: AnyReport, fmt: FormatOptions = {}): string {
  // Model, project and session names come from logs: inert before they reach the terminal.
  const report = inertDeep(data);
  switch (kind) {
    case 'daily':
      return renderDaily(report as DailyReport, fmt);
    case 'weekly':
      return renderWeekly(report as WeeklyReport, fmt);
    case 'monthly':
      return renderMonthly(report as MonthlyReport, fmt);
    case 'session':
      return renderSession(report as SessionReport, fmt);
    case 'project':
      return renderProject(report as ProjectReport, fmt);
    case 'model':
      return renderModel(report as ModelReport, fmt);
  }
}

/** The human-readable session listing. */
export function renderSessionList(data: SessionList, fmt: FormatOptions = {}): string {
  const list = inertDeep(data);
  const cols: Column[] = [
    { header: 'Session', align: 'left' },
    { header: 'Provider', align: 'left' },
    { header: 'Project', align: 'left' },
    { header: 'Started (UTC)', align: 'left' },
    { header: 'Last Activity', align: 'left' },
    { header: 'Events', align: 'right' },
    { header: 'Total Tokens', align: 'right' },
    { header: 'Cost (USD)', align: 'right' },
  ];
  const body = list.sessions.map((s) => [
    s.sessionId,
    s.provider,
    s.project,
    s.firstTimestamp ? s.firstTimestamp.slice(0, 16).replace('T', ' ') : '',
    s.lastActivity,
    formatInt(s.events),
    formatInt(s.totalTokens),
    costCell(s.totalCost, s.unpricedModels, s.totalTokens),
  ]);
  const t = list.sessions.reduce(
    (a, s) => ({ events: a.events + s.events, tokens: a.tokens + s.totalTokens, cost: a.cost + s.totalCost, unpriced: a.unpriced || s.unpricedModels.length > 0 }),
    { events: 0, tokens: 0, cost: 0, unpriced: false },
  );
  const totals = [`${formatInt(list.sessions.length)} sessions`, '', '', '', '', formatInt(t.events), formatInt(t.tokens), formatCost(t.cost) + (t.unpriced ? '+?' : '')];
  const bits = [`time zone ${list.meta.timezone}`, `scope ${list.meta.scope}`];
  if (list.meta.project) bits.push(`project ~ ${list.meta.project}`);
  return `Sessions, most recent first (${bits.join(', ')})\n\n` + renderTable(cols, body, totals, fmt);
}
