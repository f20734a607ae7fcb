/** The dashboard page: panels. */
import uPlot from 'uplot';
import type { CurrentWindow, DashboardDevice as Device, DashboardSeries as Series, DashboardSessions as Sessions, DashboardSummary as Summary, DashboardTotals as Totals } from '../src/api/shapes.js';
import { state, summary, devices, type Metric } from './state.js';
import { $, el, fmtCompact, fmtCostShort, ago, fmtTime, deviceName, projectLabel } from './helpers.js';
import { formatCost, formatInt } from '../src/util/units.js';

export function renderTotals(t: Totals, days: number): void {
  for (const node of document.querySelectorAll<HTMLElement>('[data-total]')) {
    const k = node.dataset.total as keyof Totals;
    const v = t[k] as number;
    node.textContent = k === 'totalCost' ? fmtCostShort(v) : fmtCompact(v);
    node.dataset.value = String(v);
  }
  for (const node of document.querySelectorAll<HTMLElement>('[data-exact]')) {
    const k = node.dataset.exact as keyof Totals;
    const v = t[k] as number;
    node.textContent = k === 'totalCost' ? (days > 0 ? `${formatCost(v / days)} per day over ${formatInt(days)} days` : '') : `${formatInt(v)} tokens`;
  }
  const parts = [`${formatInt(t.requests)} requests`, `${formatInt(t.sessions)} sessions`, `${formatInt(t.projects)} projects`];
  if (t.unpricedModels.length) parts.push(`cost excludes ${fmtCompact(t.unpricedTokens)} tokens of unpriced models (${t.unpricedModels.join(', ')})`);
  $('#subtotals').textContent = parts.join(' · ');
}

export function renderWindow(w: CurrentWindow): void {
  const node = $('#window');
  const b = w.block;
  node.dataset.active = String(b !== null);
  if (!b) {
    node.textContent = 'No active 5-hour window: no Claude usage in the last 5 hours.';
    return;
  }
  const left = b.remainingMinutes ?? 0;
  const parts = [
    `Current 5-hour window (since ${fmtTime(b.startTime)}): ${formatCost(b.costUSD)} used, ${formatInt(b.totalTokens)} tokens`,
    `${Math.floor(left / 60)}h ${String(left % 60).padStart(2, '0')}m left`,
  ];
  if (b.projection) parts.push(`projected ${formatCost(b.projection.totalCost)}, ${formatInt(b.projection.totalTokens)} tokens by ${fmtTime(b.endTime)}`);
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

export function renderChart(): void {
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
  const fmtV = metric === 'cost' ? (v: number) => formatCost(v) : (v: number) => formatInt(v);
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

export function renderModels(s: Summary): void {
  const body = $('#models tbody');
  body.replaceChildren();
  const max = Math.max(0, ...s.models.map((m) => m.totalCost ?? 0));
  for (const m of s.models) {
    const tr = el('tr');
    const name = el('td', m.modelName);
    name.title = `${m.modelName} (${m.provider})`;
    tr.append(name, el('td', m.provider, 'agent'), el('td', formatInt(m.requests), 'num'), el('td', fmtCompact(m.totalTokens), 'num'), el('td', m.totalCost === null ? 'unpriced' : formatCost(m.totalCost), 'num'));
    const share = el('td', null, 'share');
    const bar = el('div', null, 'sharebar');
    bar.style.width = `${max > 0 ? Math.max(1, ((m.totalCost ?? 0) / max) * 100) : 0}%`;
    share.append(bar);
    tr.append(share);
    body.append(tr);
  }
  if (!s.models.length) body.append(emptyRow(6, 'No models in this range.'));
}

export function renderProjects(s: Summary): void {
  const body = $('#projects tbody');
  body.replaceChildren();
  for (const p of s.projects.slice(0, 50)) {
    const tr = el('tr');
    const name = el('td', projectLabel(p.project, p.projectPath));
    name.title = p.projectPath ? `${p.projectPath}\n${p.project}` : p.project;
    tr.append(name, el('td', p.providers.join(', '), 'agent'), el('td', formatInt(p.sessions), 'num'), el('td', fmtCompact(p.totalTokens), 'num'), el('td', formatCost(p.totalCost), 'num'), el('td', p.lastActivity));
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

export function renderSessions(list: Sessions, openSession: (id: string) => void): void {
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
    tr.append(when, proj, dev, el('td', fmtCompact(s.totalTokens), 'num'), el('td', formatCost(s.totalCost), 'num'));
    tr.addEventListener('click', () => openSession(s.sessionId));
    body.append(tr);
  }
  if (!list.sessions.length) body.append(emptyRow(5, 'No sessions in this range.'));
  $('#sessions-count').textContent = list.total > list.sessions.length ? `latest ${list.sessions.length} of ${formatInt(list.total)}` : `${formatInt(list.total)}`;
}

function freshness(d: Device): { cls: string; text: string } {
  if (d.local) return { cls: 'good', text: 'this device' };
  const at = d.lastPush ?? d.lastPulled;
  if (!at) return { cls: '', text: 'unknown' };
  const h = (Date.now() - Date.parse(at)) / 3_600_000;
  return { cls: h < 1 ? 'good' : h < 24 ? 'warn' : 'bad', text: ago(at) };
}

export function renderDevices(setScope: (scope: string) => void): void {
  const d = devices;
  const box = $('#sync');
  box.replaceChildren();
  const body = $('#devices tbody');
  body.replaceChildren();
  if (!d) return;
  const s = d.sync;
  if (s.enabled) {
    const line = el('div');
    line.append(el('strong', 'Sync is on'), document.createTextNode(` · ${s.bucket ?? ''} · last sync ${ago(s.lastSyncTime)} · ${formatInt(s.pendingEvents)} events to push`));
    if (s.queuedSegments) line.append(document.createTextNode(` · ${formatInt(s.queuedSegments)} segments queued`));
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
    name.title = `${dev.deviceId}\nlatest event ${dev.lastEvent ? fmtTime(dev.lastEvent) : 'none'}\n${formatInt(dev.sessions)} sessions`;
    if (dev.local) name.append(el('span', 'this device', 'tag self'));
    const f = freshness(dev);
    const fresh = el('td');
    fresh.append(el('span', null, `dot ${f.cls}`), document.createTextNode(f.text));
    fresh.title = dev.local ? 'this machine: its own logs, read by ingest' : `its last push (as of our last pull): ${dev.lastPush ? fmtTime(dev.lastPush) : 'unknown'}`;
    const lastSync = dev.local ? dev.lastPush : dev.lastPulled;
    tr.append(name, el('td', formatInt(dev.events), 'num'), el('td', lastSync ? ago(lastSync) : s.enabled ? 'never' : '—'), fresh, el('td', formatInt(dev.conflicts), 'num'));
    tr.addEventListener('click', () => setScope(dev.local ? 'local' : `device:${dev.deviceId}`));
    body.append(tr);
  }
}

/** Fits the chart to its box's width (after a resize of the window). */
export function resizeChart(): void {
  if (chart) chart.setSize({ width: Math.max(320, $('#chart').clientWidth), height: 300 });
}

export function renderFooter(s: Summary): void {
  const span = s.dataSpan ? `data from ${s.dataSpan.first} to ${s.dataSpan.last}` : 'no data in this scope';
  $('#footer').textContent = `Days in ${s.meta.timezone} · ${span} · scope ${s.meta.scope}`;
}
