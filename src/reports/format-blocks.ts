import type { BlockEntry, BlocksReport } from './blocks-report.js';
import { formatCost, formatInt } from '../util/units.js';
import { renderTable, shortModel, type FormatOptions } from './format.js';

/** "3h 05m" from minutes. */
export function formatMinutes(min: number): string {
  const m = Math.max(0, Math.round(min));
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

/** A local `YYYY-MM-DD HH:MM` in the report's zone. */
function localTime(iso: string, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(iso));
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}`;
}

function status(b: BlockEntry): string {
  if (b.isGap) return 'gap';
  if (b.isActive) return `ACTIVE, ${formatMinutes(b.remainingMinutes ?? 0)} left`;
  const span = (Date.parse(b.actualEndTime ?? b.startTime) - Date.parse(b.startTime)) / 60_000;
  return formatMinutes(span);
}

function cost(b: { costUSD: number }, unpriced: string[]): string {
  return formatCost(b.costUSD) + (unpriced.length ? '+?' : '');
}

/** The blocks table, and for the active block its burn rate, projection and limit. */
export function renderBlocks(r: BlocksReport, fmt: FormatOptions = {}): string {
  const tz = r.meta.timezone;
  const bits = [`time zone ${tz}`, `scope ${r.meta.scope}`, `${r.meta.sessionHours} h blocks`];
  if (r.meta.since || r.meta.until) bits.push(`${r.meta.since ?? '…'} to ${r.meta.until ?? '…'}`);
  if (r.meta.project) bits.push(`project ~ ${r.meta.project}`);
  const head = `Claude usage in ${r.meta.sessionHours}-hour blocks (${bits.join(', ')})\n\n`;
  if (r.blocks.length === 0) return head + 'No blocks in this range.\n';
  const limit = r.meta.tokenLimit;
  const cols = [
    { header: 'Block Start', align: 'left' as const },
    { header: 'Duration/Status', align: 'left' as const },
    { header: 'Models', align: 'left' as const },
    { header: 'Entries', align: 'right' as const },
    { header: 'Tokens', align: 'right' as const },
    ...(limit !== null ? [{ header: '% of Limit', align: 'right' as const }] : []),
    { header: 'Cost (USD)', align: 'right' as const },
  ];
  const body: string[][] = [];
  for (const b of r.blocks) {
    const pct = limit !== null ? [b.isGap ? '' : ((b.totalTokens / limit) * 100).toFixed(1) + '%'] : [];
    body.push([
      b.isGap ? `(${localTime(b.startTime, tz)})` : localTime(b.startTime, tz),
      status(b),
      [...new Set(b.models.map(shortModel))].join(', '),
      b.isGap ? '' : formatInt(b.entries),
      b.isGap ? '' : formatInt(b.totalTokens),
      ...pct,
      b.isGap ? '' : cost(b, b.unpricedModels),
    ]);
    for (const d of b.devices ?? []) {
      body.push([`  └ ${d.deviceName ?? d.deviceId.slice(0, 8)}`, '', '', formatInt(d.entries), formatInt(d.totalTokens), ...pct.map(() => ''), formatCost(d.costUSD)]);
    }
  }
  let out = head + renderTable(cols, body, null, fmt);
  const active = r.blocks.find((b) => b.isActive);
  if (active) {
    const lines = [`Active block: ${formatInt(active.totalTokens)} tokens, ${cost(active, active.unpricedModels)}, ${formatMinutes(active.remainingMinutes ?? 0)} left (ends ${localTime(active.endTime, tz)})`];
    if (active.burnRate) lines.push(`Burn rate: ${formatInt(active.burnRate.tokensPerMinute)} tokens/min, ${formatCost(active.burnRate.costPerHour)}/h`);
    if (active.projection) lines.push(`Projected by the end: ${formatInt(active.projection.totalTokens)} tokens, ${formatCost(active.projection.totalCost)}`);
    const s = active.tokenLimitStatus;
    if (s) lines.push(`Limit ${formatInt(s.limit)} tokens: projected ${s.percentUsed.toFixed(1)}% (${s.status})`);
    out += '\n' + lines.join('\n') + '\n';
  }
  if (r.blocks.some((b) => b.unpricedModels.length)) out += '\n"+?": the cost leaves out models without a price.\n';
  return out;
}
