/** Human-readable output of search results and conversations, for the terminal (colors) or a pipe (markers). */
import { inert, inertDeep } from '../util/terminal.js';
import { formatBytes, formatCost, formatInt } from '../util/units.js';
import { offsetAt } from '../query/timezone.js';
import type { SearchResult } from './index.js';
import type { Conversation, ConversationTurn, TurnUsage } from './show.js';

export interface RenderOptions {
  /** ANSI colors (a terminal); otherwise matches are marked «like this». */
  color?: boolean;
}

const ANSI = { bold: '\x1b[1m', dim: '\x1b[2m', red: '\x1b[31m', green: '\x1b[32m', yellow: '\x1b[33m', blue: '\x1b[34m', magenta: '\x1b[35m', cyan: '\x1b[36m', reset: '\x1b[0m' };

function paint(on: boolean | undefined, code: string, s: string): string {
  return on ? code + s + ANSI.reset : s;
}

/**
 * A snippet with its matches highlighted: bold yellow on a terminal, else between « and ».
 * Control characters in the text are shown as spaces so a log cannot drive the terminal.
 */
function markSnippet(snippet: string, highlights: Array<[number, number]>, opts: RenderOptions = {}): string {
  // eslint-disable-next-line no-control-regex
  const clean = (s: string) => s.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
  let out = '';
  let at = 0;
  for (const [a, b] of highlights) {
    if (a < at || b > snippet.length) continue;
    out += clean(snippet.slice(at, a));
    const m = clean(snippet.slice(a, b));
    out += opts.color ? ANSI.bold + ANSI.yellow + m + ANSI.reset : `«${m}»`;
    at = b;
  }
  return out + clean(snippet.slice(at));
}

/** `YYYY-MM-DD HH:MM:SS` of an ISO instant in a zone ('' for none). */
function localTime(iso: string, tz: string): string {
  if (!iso) return '';
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return iso;
  return new Date(ms + offsetAt(tz, ms)).toISOString().slice(0, 19).replace('T', ' ');
}

function deviceLabel(id: string, name: string | null): string {
  return name ?? id.slice(0, 8);
}

/** The search results as a numbered list: where each hit is, then its snippet, then the session to open. */
export function renderSearch(result: SearchResult, opts: RenderOptions = {}): string {
  const r = inertDeep(result);
  const c = opts.color;
  const bits = [`scope ${r.meta.scope}`];
  if (r.meta.since || r.meta.until) bits.push(`${r.meta.since ?? '…'} to ${r.meta.until ?? '…'}`);
  if (r.meta.project) bits.push(`project ~ ${r.meta.project}`);
  if (r.meta.provider) bits.push(`provider ${r.meta.provider}`);
  if (r.results.length === 0) return `No results for ${r.query.text.trim()} (${bits.join(', ')}).\n`;
  const out: string[] = [];
  const n = r.results.length;
  out.push(`${n}${r.more ? '+' : ''} result${n === 1 ? '' : 's'} for ${r.query.text.trim()}, best first (${bits.join(', ')}, times in ${r.meta.timezone})`);
  out.push('');
  const width = String(n).length;
  r.results.forEach((h, i) => {
    const where = [localTime(h.timestamp, r.meta.timezone).slice(0, 16) || 'no time', h.role, h.provider, h.project, `device ${deviceLabel(h.deviceId, h.deviceName)}`];
    out.push(`${paint(c, ANSI.bold, String(i + 1).padStart(width))}  ${paint(c, ANSI.dim, where.join(' · '))}`);
    out.push(`${' '.repeat(width)}  ${markSnippet(h.snippet, h.highlights, opts)}`);
    out.push(`${' '.repeat(width)}  ${paint(c, ANSI.cyan, `session ${h.sessionId}`)}`);
  });
  out.push('');
  if (r.more) out.push(`More results match: raise --limit (now ${r.meta.limit}) or narrow the query.`);
  out.push('Open a session: stackunderflow show <session>');
  return out.join('\n') + '\n';
}

function usageLine(u: TurnUsage): string {
  const parts = [`in ${formatInt(u.inputTokens)}`, `out ${formatInt(u.outputTokens)}`];
  if (u.cacheCreationTokens) parts.push(`cache write ${formatInt(u.cacheCreationTokens)}`);
  if (u.cacheReadTokens) parts.push(`cache read ${formatInt(u.cacheReadTokens)}`);
  // One request costs cents or less: four decimals say more than the reports' two.
  parts.push(u.cost === null ? 'cost ? (no price)' : `$${u.cost.toFixed(4)}`);
  const l = u.loggedCost;
  if (l) {
    const said: string[] = [];
    if (l.usd !== undefined) said.push(`$${l.usd.toFixed(4)}`);
    if (l.premiumRequests !== undefined) said.push(`${l.premiumRequests} premium requests`);
    if (l.nanoAiu !== undefined) said.push(`${(l.nanoAiu / 1e9).toFixed(2)} AIU`);
    parts.push(`agent logged ${said.join(', ')}`);
  }
  return parts.join(' · ');
}

const ROLE_COLOR: Record<string, string> = { user: ANSI.green, assistant: ANSI.blue, tool_call: ANSI.magenta, tool_result: ANSI.magenta, reasoning: ANSI.dim, system: ANSI.dim, summary: ANSI.dim };

const safe = inert;

function indent(text: string): string {
  return safe(text)
    .split('\n')
    .map((l) => ('    ' + l).replace(/\s+$/, ''))
    .join('\n');
}

function oneLine(s: string | null, max = 100): string {
  const t = safe(s ?? '').replace(/\s+/g, ' ').trim();
  return t.length > max ? t.slice(0, max - 1) + '…' : t;
}

function turnLines(t: ConversationTurn, tz: string, opts: RenderOptions): string[] {
  const c = opts.color;
  const time = localTime(t.timestamp, tz).slice(11) || '--:--:--';
  const who = [t.role.replace('_', ' ')];
  if (t.sidechain) who.push(`subagent${t.agent ? ' ' + t.agent : ''}`);
  if (t.meta) who.push('injected');
  if (t.model && (t.role === 'assistant' || t.usage)) who.push(t.model);
  const head = `${paint(c, ANSI.dim, time)}  ${paint(c, (ROLE_COLOR[t.role] ?? '') + ANSI.bold, who.join(' · '))}`;
  const lines: string[] = [];
  switch (t.role) {
    case 'user':
    case 'assistant':
      lines.push(head);
      if (t.meta) lines.push('    ' + paint(c, ANSI.dim, oneLine(t.text)));
      else if (t.text) lines.push(indent(t.text));
      break;
    case 'tool_call':
      for (const call of t.tools ?? []) lines.push(`${paint(c, ANSI.dim, time)}  ${paint(c, ANSI.magenta, '→ ' + call.name)}${call.args ? '  ' + oneLine(call.args) : ''}`);
      // Text the model wrote beside its calls (older Claude logs put both in one record).
      if (t.prose) lines.push(indent(t.prose));
      break;
    case 'tool_result': {
      const r = t.result!;
      const size = r.bytes ? ` (${formatBytes(r.bytes)}, ${formatInt(r.lines)} line${r.lines === 1 ? '' : 's'})` : ' (empty)';
      lines.push(`${paint(c, ANSI.dim, time)}  ${paint(c, r.error ? ANSI.red : ANSI.magenta, r.error ? '← error' : '← result')}  ${oneLine(r.preview)}${paint(c, ANSI.dim, size)}`);
      break;
    }
    case 'usage':
      if (!t.usage) lines.push(`${head}  ${oneLine(t.text)}`);
      break;
    default:
      // reasoning, system, summary: one line is enough to know it was there.
      lines.push(`${head}  ${paint(c, ANSI.dim, oneLine(t.text))}`);
  }
  if (t.usage) lines.push(`    ${paint(c, ANSI.yellow, '↳ ' + (t.role === 'usage' && t.model ? t.model + ' · ' : '') + usageLine(t.usage))}`);
  return lines;
}

/** A session as a readable transcript: header, turns in time order (a date line when the day changes), totals. */
export function renderConversation(conversation: Conversation, opts: RenderOptions = {}): string {
  const conv = inertDeep(conversation);
  const c = opts.color;
  const s = conv.session;
  const tz = conv.meta.timezone;
  const out: string[] = [];
  out.push(paint(c, ANSI.bold, `Session ${s.sessionId}`) + ` (${s.provider})`);
  out.push(`Project:  ${s.project}${s.projectPath ? ` (${s.projectPath})` : ''}`);
  const devices = conv.meta.devices.map((d) => `${d.name ? `${d.name} (${d.deviceId})` : d.deviceId}${d.local ? ' [this device]' : ''}`);
  out.push(`Device${devices.length === 1 ? ': ' : 's:'}  ${devices.join(', ')}`);
  out.push(`Time:     ${localTime(s.firstTimestamp, tz) || '?'} → ${localTime(s.lastTimestamp, tz) || '?'} (${tz}) · ${formatInt(s.events)} events · scope ${conv.meta.scope}`);
  let day = '';
  for (const t of conv.turns) {
    const d = localTime(t.timestamp, tz).slice(0, 10);
    if (d && d !== day) {
      out.push('');
      out.push(paint(c, ANSI.dim, `── ${d} ──`));
      day = d;
    }
    const lines = turnLines(t, tz, opts);
    if (lines.length === 0) continue;
    if (t.role === 'user' || t.role === 'assistant') out.push('');
    out.push(...lines);
  }
  const tt = conv.totals;
  out.push('');
  out.push(paint(c, ANSI.bold, 'Totals'));
  out.push(`  Requests:      ${formatInt(tt.requests)}${tt.modelsUsed.length ? ` (${tt.modelsUsed.join(', ')})` : ''}`);
  out.push(`  Input:         ${formatInt(tt.inputTokens)}`);
  out.push(`  Output:        ${formatInt(tt.outputTokens)}`);
  out.push(`  Cache write:   ${formatInt(tt.cacheCreationTokens)}`);
  out.push(`  Cache read:    ${formatInt(tt.cacheReadTokens)}`);
  out.push(`  Total tokens:  ${formatInt(tt.totalTokens)}`);
  out.push(`  Cost:          ${formatCost(tt.totalCost)}${tt.unpricedModels.length ? ` + unknown (no price for ${tt.unpricedModels.join(', ')})` : ''}`);
  return out.join('\n') + '\n';
}
