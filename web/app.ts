/**
 * The stackunderflow dashboard: one page over the local API (same origin, read-only).
 *
 * State lives in the URL (scope, since, until, by, metric, q, session), so a reload or a shared
 * link restores the view. Every change of scope or range refetches the aggregated numbers
 * (`/api/dashboard/summary`, `/api/dashboard/sessions`) and redraws every panel together; the
 * metric and stacking toggles redraw from what is already loaded. Text from the store is only
 * ever put into the page as text nodes (never as HTML).
 *
 * Each full render is recorded as a `su:render` performance measure (from the triggering input,
 * or navigation start for the first, to the frame after the DOM was updated), split into
 * `su:fetch` and `su:draw`: the benchmark reads them.
 */
import uPlot from 'uplot';

// The JSON the page reads: the server's contract (src/api/shapes.ts), imported as types only, so
// a shape the page does not follow fails the build.
import type {
  Conversation,
  CurrentWindow,
  DashboardDevice as Device,
  DashboardDevices as Devices,
  DashboardSeries as Series,
  DashboardSessions as Sessions,
  DashboardSummary as Summary,
  DashboardTotals as Totals,
  SearchResult,
  Turn,
} from '../src/api/shapes.js';

// ---------------------------------------------------------------------------------------------
// State, kept in the URL.

type Metric = 'tokens' | 'cost';
type By = 'model' | 'device';

interface State {
  /** '' = the server's default (all once other devices are synced, else local). */
  scope: string;
  since: string;
  until: string;
  by: By;
  metric: Metric;
  q: string;
  session: string;
}

function readState(): State {
  const p = new URLSearchParams(location.search);
  const date = (v: string | null) => (v && /^\d{4}-\d{2}-\d{2}$/.test(v) ? v : '');
  return {
    scope: p.get('scope') ?? '',
    since: date(p.get('since')),
    until: date(p.get('until')),
    by: p.get('by') === 'device' ? 'device' : 'model',
    metric: p.get('metric') === 'cost' ? 'cost' : 'tokens',
    q: p.get('q') ?? '',
    session: p.get('session') ?? '',
  };
}

function writeState(s: State, push: boolean): void {
  const p = new URLSearchParams();
  if (s.scope) p.set('scope', s.scope);
  if (s.since) p.set('since', s.since);
  if (s.until) p.set('until', s.until);
  if (s.by !== 'model') p.set('by', s.by);
  if (s.metric !== 'tokens') p.set('metric', s.metric);
  if (s.q) p.set('q', s.q);
  if (s.session) p.set('session', s.session);
  const qs = p.toString();
  const url = location.pathname + (qs ? '?' + qs : '');
  if (url === location.pathname + location.search) return;
  if (push) history.pushState(null, '', url);
  else history.replaceState(null, '', url);
}

let state = readState();
let summary: Summary | null = null;
let devices: Devices | null = null;
/** Increments on each refresh: a slower, older answer never overwrites a newer one. */
let generation = 0;

// ---------------------------------------------------------------------------------------------
// Helpers.

function $<T extends HTMLElement = HTMLElement>(sel: string, root: ParentNode = document): T {
  const el = root.querySelector<T>(sel);
  if (!el) throw new Error(`missing element ${sel}`);
  return el;
}

/** Creates an element with text content and classes; never parses HTML. */
function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string | null, cls?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

const intFmt = new Intl.NumberFormat('en-US');
const usdFmt = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** Whole number with thousands separators. */
function fmtInt(n: number): string {
  return intFmt.format(Math.round(n));
}

/** USD with cents (what the totals show; the tests format the API's numbers the same way). */
function fmtUsd(n: number): string {
  return usdFmt.format(n);
}

/** 1234567 → "1.23M". */
function fmtCompact(n: number): string {
  const a = Math.abs(n);
  const units: Array<[number, string]> = [[1e12, 'T'], [1e9, 'B'], [1e6, 'M'], [1e3, 'k']];
  for (const [v, u] of units) if (a >= v) return (n / v).toFixed(a / v >= 100 ? 0 : a / v >= 10 ? 1 : 2) + u;
  return fmtInt(n);
}

function fmtCostShort(n: number): string {
  if (n >= 10_000) return '$' + fmtCompact(n);
  return fmtUsd(n);
}

function ago(iso: string | null): string {
  if (!iso) return 'never';
  const s = (Date.now() - Date.parse(iso)) / 1000;
  if (!Number.isFinite(s)) return 'unknown';
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** "2026-03-02 09:00" in the browser's zone (the machine's own zone, like the server's default). */
function fmtTime(iso: string): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function deviceName(id: string): string {
  const d = devices?.devices.find((x) => x.deviceId === id);
  return d?.name ?? id.slice(0, 8);
}

function projectLabel(slug: string, path?: string | null): string {
  return path ?? slug;
}

class ApiError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message);
  }
}

async function api<T>(path: string, params: Record<string, string | undefined> = {}): Promise<T> {
  const u = new URL(path, location.origin);
  for (const [k, v] of Object.entries(params)) if (v) u.searchParams.set(k, v);
  const res = await fetch(u, { headers: { accept: 'application/json' }, cache: 'no-store' });
  const body = (await res.json().catch(() => null)) as ({ error?: { message: string; hint?: string } } & T) | null;
  if (!res.ok || body === null) {
    const e = body?.error;
    throw new ApiError(e?.message ?? `request failed (${res.status})`, e?.hint);
  }
  return body;
}

function showError(err: unknown): void {
  const box = $('#error');
  if (err === null) {
    box.hidden = true;
    box.textContent = '';
    return;
  }
  const msg = err instanceof ApiError ? err.message + (err.hint ? ` — ${err.hint}` : '') : err instanceof Error ? err.message : String(err);
  box.textContent = msg;
  box.hidden = false;
}

function scopeParams(): Record<string, string | undefined> {
  return { scope: state.scope || undefined, since: state.since || undefined, until: state.until || undefined };
}

/** Resolves after the browser has laid out and painted what was just put in the DOM. */
function nextPaint(): Promise<void> {
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}

// ---------------------------------------------------------------------------------------------
// Controls.

function renderScopeOptions(): void {
  const sel = $<HTMLSelectElement>('#scope');
  const keep = sel.value;
  sel.replaceChildren();
  const self = devices?.devices.find((d) => d.local);
  sel.append(new Option(self?.name ? `This device (${self.name})` : 'This device', 'local'));
  sel.append(new Option('All devices', 'all'));
  for (const d of devices?.devices ?? []) {
    if (d.local) continue;
    sel.append(new Option(d.name ?? d.deviceId.slice(0, 8), `device:${d.deviceId}`));
  }
  sel.value = keep;
  syncControls();
}

/** Puts the state (and the scope the server resolved) into the controls. */
function syncControls(): void {
  const sel = $<HTMLSelectElement>('#scope');
  const scope = summary?.meta.scope ?? state.scope;
  let value = scope || 'local';
  // A device named by the URL (id prefix or name) shows as the option of its id.
  if (![...sel.options].some((o) => o.value === value) && summary) value = summary.meta.scope;
  const self = devices?.devices.find((d) => d.local);
  if (self && value === `device:${self.deviceId}`) value = 'local';
  sel.value = value;
  $<HTMLInputElement>('#since').value = state.since;
  $<HTMLInputElement>('#until').value = state.until;
  $<HTMLInputElement>('#q').value = state.q;
  for (const b of document.querySelectorAll<HTMLButtonElement>('[data-metric]')) b.setAttribute('aria-pressed', String(b.dataset.metric === state.metric));
  for (const b of document.querySelectorAll<HTMLButtonElement>('[data-by]')) b.setAttribute('aria-pressed', String(b.dataset.by === state.by));
  const today = summary?.today;
  for (const b of document.querySelectorAll<HTMLButtonElement>('[data-range]')) {
    const r = b.dataset.range!;
    const on = r === 'all' ? !state.since && !state.until : !!today && state.until === today && state.since === shiftDay(today, 1 - Number(r));
    b.setAttribute('aria-pressed', String(on));
  }
}

function shiftDay(date: string, days: number): string {
  const t = Date.parse(date + 'T00:00:00Z') + days * 86_400_000;
  return new Date(t).toISOString().slice(0, 10);
}

function localToday(): string {
  const d = new Date();
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

// ---------------------------------------------------------------------------------------------
// Panels.

function renderTotals(t: Totals, days: number): void {
  for (const node of document.querySelectorAll<HTMLElement>('[data-total]')) {
    const k = node.dataset.total as keyof Totals;
    const v = t[k] as number;
    node.textContent = k === 'totalCost' ? fmtCostShort(v) : fmtCompact(v);
    node.dataset.value = String(v);
  }
  for (const node of document.querySelectorAll<HTMLElement>('[data-exact]')) {
    const k = node.dataset.exact as keyof Totals;
    const v = t[k] as number;
    node.textContent = k === 'totalCost' ? (days > 0 ? `${fmtUsd(v / days)} per day over ${fmtInt(days)} days` : '') : `${fmtInt(v)} tokens`;
  }
  const parts = [`${fmtInt(t.requests)} requests`, `${fmtInt(t.sessions)} sessions`, `${fmtInt(t.projects)} projects`];
  if (t.unpricedModels.length) parts.push(`cost excludes ${fmtCompact(t.unpricedTokens)} tokens of unpriced models (${t.unpricedModels.join(', ')})`);
  $('#subtotals').textContent = parts.join(' · ');
}

function renderWindow(w: CurrentWindow): void {
  const node = $('#window');
  const b = w.block;
  node.dataset.active = String(b !== null);
  if (!b) {
    node.textContent = 'No active 5-hour window: no Claude usage in the last 5 hours.';
    return;
  }
  const left = b.remainingMinutes ?? 0;
  const parts = [
    `Current 5-hour window (since ${fmtTime(b.startTime)}): ${fmtUsd(b.costUSD)} used, ${fmtInt(b.totalTokens)} tokens`,
    `${Math.floor(left / 60)}h ${String(left % 60).padStart(2, '0')}m left`,
  ];
  if (b.projection) parts.push(`projected ${fmtUsd(b.projection.totalCost)}, ${fmtInt(b.projection.totalTokens)} tokens by ${fmtTime(b.endTime)}`);
  node.textContent = parts.join(' · ');
}

const PALETTE = ['#2563eb', '#16a34a', '#f59e0b', '#db2777', '#7c3aed', '#0891b2', '#dc2626', '#64748b'];
let chart: uPlot | null = null;
/** What the current chart was built for: same series and metric → new data only (setData), no rebuild. */
let chartKey = '';
/** Shows the legend for a hovered day (or the range totals); replaced with each new data set. */
let legendFor: (idx: number | null) => void = () => {};

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

function renderChart(): void {
  const host = $('#chart');
  const s = summary;
  // Device series are labelled with the names the Devices panel shows.
  const series = s ? (state.by === 'device' ? s.byDevice.map((x) => ({ ...x, label: x.key === 'other' || !devices ? x.label : deviceName(x.key) })) : s.byModel) : [];
  const empty = !s || s.days.length === 0 || series.length === 0;
  $('#chart-empty').hidden = !empty;
  $('#chart-empty').textContent = s && !s.dataSpan ? 'No usage in this scope yet. Run `stackunderflow ingest` to read this machine\'s logs.' : 'No usage in this range.';
  host.hidden = empty;
  $('#legend').hidden = empty;
  if (empty || !s) {
    chart?.destroy();
    chart = null;
    chartKey = '';
    return;
  }

  const metric = state.metric;
  const xs = s.days.map((d) => Date.parse(d + 'T00:00:00Z') / 1000);
  const raw = series.map((x) => (metric === 'cost' ? x.cost : x.tokens));
  // Stacked bars: series i is drawn from 0 to the sum of series 0..i, tallest first, so each
  // later (shorter) bar paints over the one before and the visible bands are the parts.
  const cum: number[][] = [];
  let acc = new Array<number>(xs.length).fill(0);
  for (const r of raw) {
    acc = acc.map((v, i) => v + r[i]);
    cum.push(acc);
  }
  // Drawing order is the reverse of the legend's (biggest first), so the legend is our own.
  const order = raw.map((_, i) => raw.length - 1 - i);
  const fmtV = metric === 'cost' ? (v: number) => fmtUsd(v) : (v: number) => fmtInt(v);
  const axisV = metric === 'cost' ? (v: number) => (v >= 1000 ? '$' + fmtCompact(v) : '$' + (v < 10 ? v.toFixed(2) : v.toFixed(0))) : (v: number) => fmtCompact(v);
  const bars = uPlot.paths.bars!({ size: [0.82, 48], gap: 1 });
  const width = Math.max(320, host.clientWidth || host.parentElement!.clientWidth - 28);
  const text = cssVar('--muted');
  const grid = cssVar('--grid');
  legendFor = renderLegend(series, s.days, raw, metric, fmtV);
  const data: uPlot.AlignedData = [xs, ...order.map((i) => cum[i])];
  const key = `${metric}|${series.map((x) => `${x.key}\u0000${x.label}`).join('\u0001')}`;
  if (chart && key === chartKey) {
    chart.setData(data);
    return;
  }
  chart?.destroy();
  chartKey = key;
  const opts: uPlot.Options = {
    width,
    height: 300,
    // The axis days are local dates of the report zone, encoded as UTC midnights.
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC'),
    cursor: { points: { show: false }, drag: { x: false, y: false } },
    select: { show: false, left: 0, top: 0, width: 0, height: 0 },
    legend: { show: false },
    scales: { x: { time: true, range: (_u, min, max) => [min - 43200, max + 43200] }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.05 : 1] } },
    axes: [
      { stroke: text, grid: { show: false }, ticks: { stroke: grid } },
      { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { show: false }, values: (_u, vals) => vals.map(axisV), size: 64 },
    ],
    series: [
      {},
      ...order.map((i) => ({
        label: series[i].label,
        fill: PALETTE[i % PALETTE.length],
        stroke: PALETTE[i % PALETTE.length],
        width: 0,
        paths: bars,
        points: { show: false },
      })),
    ],
    hooks: { setCursor: [(u: uPlot) => legendFor(u.cursor.idx ?? null)] },
  };
  chart = new uPlot(opts, data, host);
}

/**
 * The chart's legend, biggest series first: each series' total over the range, or its value
 * on the hovered day. Returns the function that switches between the two.
 */
function renderLegend(series: Series[], days: string[], raw: number[][], metric: Metric, fmtV: (v: number) => string): (idx: number | null) => void {
  const box = $('#legend');
  box.replaceChildren();
  const day = el('span', null, 'legend-day');
  box.append(day);
  const values: HTMLElement[] = [];
  series.forEach((x, i) => {
    const item = el('span', null, 'legend-item');
    const sw = el('span', null, 'swatch');
    sw.style.background = PALETTE[i % PALETTE.length];
    const v = el('span', null, 'legend-value');
    values.push(v);
    item.append(sw, el('span', x.label, 'legend-label'), v);
    item.title = x.key;
    box.append(item);
  });
  let shown: number | null | undefined;
  const show = (idx: number | null) => {
    if (idx === shown) return;
    shown = idx;
    if (idx === null || idx < 0 || idx >= days.length) {
      day.textContent = 'Range total';
      series.forEach((x, i) => (values[i].textContent = fmtV(metric === 'cost' ? x.totalCost : x.totalTokens)));
    } else {
      day.textContent = days[idx];
      series.forEach((_, i) => (values[i].textContent = fmtV(raw[i][idx])));
    }
  };
  show(null);
  return show;
}

function renderModels(s: Summary): void {
  const body = $('#models tbody');
  body.replaceChildren();
  const max = Math.max(0, ...s.models.map((m) => m.totalCost ?? 0));
  for (const m of s.models) {
    const tr = el('tr');
    const name = el('td', m.modelName);
    name.title = `${m.modelName} (${m.provider})`;
    tr.append(name, el('td', m.provider, 'agent'), el('td', fmtInt(m.requests), 'num'), el('td', fmtCompact(m.totalTokens), 'num'), el('td', m.totalCost === null ? 'unpriced' : fmtUsd(m.totalCost), 'num'));
    const share = el('td', null, 'share');
    const bar = el('div', null, 'sharebar');
    bar.style.width = `${max > 0 ? Math.max(1, ((m.totalCost ?? 0) / max) * 100) : 0}%`;
    share.append(bar);
    tr.append(share);
    body.append(tr);
  }
  if (!s.models.length) body.append(emptyRow(6, 'No models in this range.'));
}

function renderProjects(s: Summary): void {
  const body = $('#projects tbody');
  body.replaceChildren();
  for (const p of s.projects.slice(0, 50)) {
    const tr = el('tr');
    const name = el('td', projectLabel(p.project, p.projectPath));
    name.title = p.projectPath ? `${p.projectPath}\n${p.project}` : p.project;
    tr.append(name, el('td', p.providers.join(', '), 'agent'), el('td', fmtInt(p.sessions), 'num'), el('td', fmtCompact(p.totalTokens), 'num'), el('td', fmtUsd(p.totalCost), 'num'), el('td', p.lastActivity));
    body.append(tr);
  }
  if (!s.projects.length) body.append(emptyRow(6, 'No projects in this range.'));
}

function emptyRow(cols: number, text: string): HTMLTableRowElement {
  const tr = el('tr');
  const td = el('td', text, 'emptyrow');
  td.colSpan = cols;
  tr.append(td);
  return tr;
}

function renderSessions(list: Sessions): void {
  const body = $('#sessions tbody');
  body.replaceChildren();
  for (const s of list.sessions) {
    const tr = el('tr', null, 'clickable');
    tr.dataset.session = s.sessionId;
    const when = el('td');
    const open = el('button', fmtTime(s.lastTimestamp) || s.lastActivity, 'link');
    open.type = 'button';
    open.title = `${s.provider} session ${s.sessionId}`;
    when.append(open);
    const proj = el('td', projectLabel(s.project, s.projectPath));
    proj.title = s.projectPath ? `${s.projectPath}\n${s.project}` : s.project;
    const dev = el('td', s.deviceIds.map(deviceName).join(', '));
    tr.append(when, proj, dev, el('td', fmtCompact(s.totalTokens), 'num'), el('td', fmtUsd(s.totalCost), 'num'));
    tr.addEventListener('click', () => openSession(s.sessionId, true));
    body.append(tr);
  }
  if (!list.sessions.length) body.append(emptyRow(5, 'No sessions in this range.'));
  $('#sessions-count').textContent = list.total > list.sessions.length ? `latest ${list.sessions.length} of ${fmtInt(list.total)}` : `${fmtInt(list.total)}`;
}

function freshness(d: Device): { cls: string; text: string } {
  if (d.local) return { cls: 'good', text: 'this device' };
  const at = d.lastPush ?? d.lastPulled;
  if (!at) return { cls: '', text: 'unknown' };
  const h = (Date.now() - Date.parse(at)) / 3_600_000;
  return { cls: h < 1 ? 'good' : h < 24 ? 'warn' : 'bad', text: ago(at) };
}

function renderDevices(): void {
  const d = devices;
  const box = $('#sync');
  box.replaceChildren();
  const body = $('#devices tbody');
  body.replaceChildren();
  if (!d) return;
  const s = d.sync;
  if (s.enabled) {
    const line = el('div');
    line.append(el('strong', 'Sync is on'), document.createTextNode(` · ${s.bucket ?? ''} · last sync ${ago(s.lastSyncTime)} · ${fmtInt(s.pendingEvents)} events to push`));
    if (s.queuedSegments) line.append(document.createTextNode(` · ${fmtInt(s.queuedSegments)} segments queued`));
    box.append(line);
    if (s.lastError) {
      box.append(el('div', `Last error (${s.lastError.op}, ${ago(s.lastError.time)}): ${s.lastError.message ?? 'unknown'}`, 'err'));
    }
  } else {
    box.append(el('strong', 'Sync is off.'), document.createTextNode(' This store holds only this machine\'s logs. To merge your other machines through your own bucket, run:'));
    box.append(el('code', s.enableCommand ?? 'stackunderflow sync init --bucket s3://BUCKET[/prefix]', 'cmd'));
  }
  const scoped = summary?.meta.scope ?? '';
  for (const dev of d.devices) {
    const tr = el('tr', null, 'clickable');
    tr.dataset.device = dev.deviceId;
    if (scoped === `device:${dev.deviceId}` || (dev.local && scoped === 'local')) tr.classList.add('selected');
    const name = el('td', dev.name ?? dev.deviceId.slice(0, 8));
    name.title = `${dev.deviceId}\nlatest event ${dev.lastEvent ? fmtTime(dev.lastEvent) : 'none'}\n${fmtInt(dev.sessions)} sessions`;
    if (dev.local) name.append(el('span', 'this device', 'tag self'));
    const f = freshness(dev);
    const fresh = el('td');
    fresh.append(el('span', null, `dot ${f.cls}`), document.createTextNode(f.text));
    fresh.title = dev.local ? 'this machine: its own logs, read by ingest' : `its last push (as of our last pull): ${dev.lastPush ? fmtTime(dev.lastPush) : 'unknown'}`;
    const lastSync = dev.local ? dev.lastPush : dev.lastPulled;
    tr.append(name, el('td', fmtInt(dev.events), 'num'), el('td', lastSync ? ago(lastSync) : s.enabled ? 'never' : '—'), fresh, el('td', fmtInt(dev.conflicts), 'num'));
    tr.addEventListener('click', () => setScope(dev.local ? 'local' : `device:${dev.deviceId}`));
    body.append(tr);
  }
}

function renderFooter(s: Summary): void {
  const span = s.dataSpan ? `data from ${s.dataSpan.first} to ${s.dataSpan.last}` : 'no data in this scope';
  $('#footer').textContent = `Days in ${s.meta.timezone} · ${span} · scope ${s.meta.scope}`;
}

// ---------------------------------------------------------------------------------------------
// Search and conversations.

async function runSearch(): Promise<void> {
  const panel = $('#search-panel');
  const list = $('#search-results');
  if (!state.q.trim()) {
    panel.hidden = true;
    list.replaceChildren();
    return;
  }
  panel.hidden = false;
  $('#search-summary').textContent = 'Searching…';
  list.replaceChildren();
  let r: SearchResult;
  try {
    r = await api<SearchResult>('/api/search', { q: state.q, ...scopeParams(), limit: '50' });
  } catch (err) {
    $('#search-summary').textContent = err instanceof ApiError ? err.message + (err.hint ? ` — ${err.hint}` : '') : 'search failed';
    return;
  }
  $('#search-summary').textContent = r.results.length === 0 ? `No match for ${state.q}` : `${r.results.length}${r.more ? '+' : ''} match${r.results.length === 1 ? '' : 'es'} for ${state.q}`;
  for (const h of r.results) {
    const li = el('li');
    li.dataset.session = h.sessionId;
    li.tabIndex = 0;
    const p = el('p', null, 'snippet');
    let at = 0;
    for (const [a, b] of h.highlights) {
      if (a > at) p.append(document.createTextNode(h.snippet.slice(at, a)));
      p.append(el('mark', h.snippet.slice(a, b)));
      at = b;
    }
    if (at < h.snippet.length) p.append(document.createTextNode(h.snippet.slice(at)));
    const where = el('div', `${h.role} · ${projectLabel(h.project)} · ${h.deviceName ?? h.deviceId.slice(0, 8)} · ${fmtTime(h.timestamp)} · ${h.provider}`, 'where');
    li.append(p, where);
    const open = () => openSession(h.sessionId, true);
    li.addEventListener('click', open);
    li.addEventListener('keydown', (e) => e.key === 'Enter' && open());
    list.append(li);
  }
}

const TEXT_LIMIT = 3000;
/** Rows of the session list: the most recent sessions of the range. */
const SESSION_ROWS = 50;

function turnNode(t: Turn): HTMLLIElement {
  const li = el('li', null, `turn ${t.role}${t.sidechain ? ' sidechain' : ''}`);
  const who = el('div', null, 'who');
  who.append(el('span', t.meta ? `${t.role} (context)` : t.role.replace('_', ' '), 'role'), el('span', fmtTime(t.timestamp)));
  if (t.model && t.role === 'assistant') who.append(el('span', t.model));
  if (devices && devices.devices.length > 1) who.append(el('span', deviceName(t.deviceId)));
  if (t.usage) who.append(el('span', `${fmtInt(t.usage.totalTokens)} tokens · ${t.usage.cost === null ? 'unpriced' : fmtUsd(t.usage.cost)}`, 'usage'));
  li.append(who);
  const body = t.prose ?? (t.role === 'tool_call' || t.role === 'tool_result' ? null : t.text);
  if (body) {
    const p = el('p', null, 'text');
    if (body.length > TEXT_LIMIT) {
      p.textContent = body.slice(0, TEXT_LIMIT) + '…';
      const more = el('button', 'show all', 'link more');
      more.type = 'button';
      more.addEventListener('click', () => {
        p.textContent = body;
        more.remove();
      });
      li.append(p, more);
    } else {
      p.textContent = body;
      li.append(p);
    }
  }
  for (const tool of t.tools ?? []) li.append(el('p', `→ ${tool.name}(${tool.args})`, 'tool'));
  if (t.result) {
    const r = el('p', `← ${t.result.preview}${t.result.lines > 1 ? ` … (${fmtInt(t.result.lines)} lines, ${fmtInt(t.result.bytes)} bytes)` : ''}`, 'tool');
    if (t.result.error) r.classList.add('err');
    li.append(r);
  }
  return li;
}

let openSeq = 0;

async function openSession(id: string, push: boolean): Promise<void> {
  const seq = ++openSeq;
  state.session = id;
  writeState(state, push);
  const dlg = $<HTMLDialogElement>('#conversation');
  $('#conv-title').textContent = id;
  $('#conv-meta').textContent = 'Loading…';
  $('#conv-totals').textContent = '';
  $('#conv-turns').replaceChildren();
  if (!dlg.open) dlg.showModal();
  let c: Conversation;
  try {
    c = await api<Conversation>(`/api/sessions/${encodeURIComponent(id)}`, { scope: state.scope || undefined });
  } catch (err) {
    if (seq === openSeq) $('#conv-meta').textContent = err instanceof ApiError ? err.message + (err.hint ? ` — ${err.hint}` : '') : 'could not load the session';
    return;
  }
  if (seq !== openSeq) return;
  const s = c.session;
  $('#conv-meta').textContent = `${s.provider} · ${projectLabel(s.project, s.projectPath)} · ${s.deviceIds.map(deviceName).join(', ')} · ${fmtTime(s.firstTimestamp)} → ${fmtTime(s.lastTimestamp)} · ${fmtInt(s.events)} events`;
  const t = c.totals;
  $('#conv-totals').textContent = `${fmtInt(t.requests)} requests · ${fmtInt(t.totalTokens)} tokens · ${fmtUsd(t.totalCost)}${t.unpricedModels.length ? ` (+ unpriced: ${t.unpricedModels.join(', ')})` : ''} · ${t.modelsUsed.join(', ')}`;
  const frag = document.createDocumentFragment();
  for (const turn of c.turns) frag.append(turnNode(turn));
  $('#conv-turns').replaceChildren(frag);
}

function closeSession(): void {
  const dlg = $<HTMLDialogElement>('#conversation');
  if (dlg.open) dlg.close();
  if (state.session) {
    state.session = '';
    writeState(state, true);
  }
}

// ---------------------------------------------------------------------------------------------
// Loading.

/**
 * Refetches everything that depends on scope and range and redraws every panel together.
 * `started` is when the triggering input happened (performance.now()), for the render measure;
 * `also` is other loading the render waits for (the device list, on the first render).
 */
async function refresh(started: number, also?: Promise<unknown>): Promise<void> {
  const gen = ++generation;
  document.body.setAttribute('aria-busy', 'true');
  const params = scopeParams();
  let fetched = 0;
  try {
    const [s, list, win] = await Promise.all([
      api<Summary>('/api/dashboard/summary', params),
      api<Sessions>('/api/dashboard/sessions', { ...params, limit: String(SESSION_ROWS) }),
      // The window is now's, whatever the range: only the scope applies.
      api<CurrentWindow>('/api/dashboard/window', { scope: params.scope }),
      also,
    ]);
    if (gen !== generation) return;
    fetched = performance.now();
    summary = s;
    showError(null);
    renderTotals(s.totals, s.days.length);
    renderWindow(win);
    renderChart();
    renderModels(s);
    renderProjects(s);
    renderSessions(list);
    renderDevices();
    renderFooter(s);
    syncControls();
  } catch (err) {
    if (gen !== generation) return;
    showError(err);
  }
  await nextPaint();
  if (gen !== generation) return;
  document.body.removeAttribute('aria-busy');
  document.body.dataset.rendered = String(gen);
  const end = performance.now();
  performance.measure('su:render', { start: started, end });
  // The two halves: waiting for the numbers, then drawing them.
  if (fetched) {
    performance.measure('su:fetch', { start: started, end: fetched });
    performance.measure('su:draw', { start: fetched, end });
  }
}

function setScope(scope: string): void {
  const started = performance.now();
  state.scope = scope;
  writeState(state, true);
  syncControls();
  void refresh(started);
  if (state.q) void runSearch();
}

function setRange(since: string, until: string, started = performance.now()): void {
  if (since && until && since > until) [since, until] = [until, since];
  state.since = since;
  state.until = until;
  writeState(state, true);
  syncControls();
  void refresh(started);
  if (state.q) void runSearch();
}

function wire(): void {
  $<HTMLSelectElement>('#scope').addEventListener('change', (e) => setScope((e.target as HTMLSelectElement).value));
  const onDate = () => setRange($<HTMLInputElement>('#since').value, $<HTMLInputElement>('#until').value);
  $('#since').addEventListener('change', onDate);
  $('#until').addEventListener('change', onDate);
  for (const b of document.querySelectorAll<HTMLButtonElement>('[data-range]')) {
    b.addEventListener('click', () => {
      const r = b.dataset.range!;
      if (r === 'all') return setRange('', '');
      const today = summary?.today ?? localToday();
      setRange(shiftDay(today, 1 - Number(r)), today);
    });
  }
  for (const b of document.querySelectorAll<HTMLButtonElement>('[data-metric]')) {
    b.addEventListener('click', () => {
      state.metric = b.dataset.metric === 'cost' ? 'cost' : 'tokens';
      writeState(state, false);
      syncControls();
      renderChart();
    });
  }
  for (const b of document.querySelectorAll<HTMLButtonElement>('[data-by]')) {
    b.addEventListener('click', () => {
      state.by = b.dataset.by === 'device' ? 'device' : 'model';
      writeState(state, false);
      syncControls();
      renderChart();
    });
  }
  $('#search-form').addEventListener('submit', (e) => {
    e.preventDefault();
    state.q = $<HTMLInputElement>('#q').value.trim();
    writeState(state, true);
    void runSearch();
  });
  $('#search-close').addEventListener('click', () => {
    state.q = '';
    writeState(state, true);
    syncControls();
    void runSearch();
  });
  $('#conv-close').addEventListener('click', closeSession);
  // Esc closes the dialog natively; keep the URL in step.
  $<HTMLDialogElement>('#conversation').addEventListener('close', () => {
    if (state.session) {
      state.session = '';
      writeState(state, true);
    }
  });
  window.addEventListener('popstate', () => {
    const prev = state;
    state = readState();
    syncControls();
    if (prev.scope !== state.scope || prev.since !== state.since || prev.until !== state.until) void refresh(performance.now());
    else renderChart();
    if (prev.q !== state.q || prev.scope !== state.scope || prev.since !== state.since || prev.until !== state.until) void runSearch();
    if (state.session && state.session !== prev.session) void openSession(state.session, false);
    else if (!state.session) {
      const dlg = $<HTMLDialogElement>('#conversation');
      if (dlg.open) dlg.close();
    }
  });
  let resizeTimer = 0;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(() => {
      if (chart) chart.setSize({ width: Math.max(320, $('#chart').clientWidth), height: 300 });
    }, 100);
  });
}

async function start(): Promise<void> {
  wire();
  syncControls();
  // The device list (names for the scope menu) comes with the first numbers, not before them.
  const devs = api<Devices>('/api/devices').then((d) => {
    devices = d;
    renderScopeOptions();
  });
  await refresh(0, devs);
  if (state.q) void runSearch();
  if (state.session) void openSession(state.session, false);
}

void start();
