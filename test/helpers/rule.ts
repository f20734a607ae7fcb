import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { DayTokens } from './ccusage.js';

/**
 * The billing rule of docs/numbers.md, written plainly and apart from src/ (a reference to
 * test against, for logs whose ground truth nobody wrote down, such as the fixtures): every
 * line with a valid instant and `message.usage` counts joins its response (message.id, else
 * requestId, else the line: session + uuid); a response counts once, each kind at its maximum,
 * on the UTC day of its earliest line. Lines with an impossible count are left out whole.
 * A line is identified as the store identifies events (session, uuid, message and request id):
 * two lines with one identity (hand-made fixtures reuse them) are one line, the one read last,
 * files in path order, as ingest reads them.
 */
export function ruleDaily(roots: string[]): DayTokens[] {
  const responses = new Map<string, { ms: number; c: number[] }>();
  const count = (v: unknown) => (v === undefined || v === null ? 0 : Number.isSafeInteger(v) && (v as number) >= 0 ? (v as number) : NaN);
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((n) => {
      if (n.startsWith('.')) return [];
      const p = join(dir, n);
      return statSync(p).isDirectory() ? walk(p) : n.endsWith('.jsonl') && n !== 'journal.jsonl' ? [p] : [];
    });
  const byIdentity = new Map<string, { file: string; i: number; r: any }>();
  for (const root of roots) {
    for (const file of walk(join(root, 'projects')).sort()) {
      readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
        let r: any;
        try {
          r = JSON.parse(line);
        } catch {
          return;
        }
        if (!r || typeof r !== 'object') return;
        const ident = typeof r.uuid === 'string' && r.uuid ? `${r.sessionId ?? basename(file, '.jsonl')}\u0000${r.uuid}\u0000${r.message?.id}\u0000${r.requestId}` : `${file}\u0000${i}`;
        byIdentity.set(ident, { file, i, r });
      });
    }
  }
  for (const { file, i, r } of byIdentity.values()) {
    const u = r?.message?.usage;
    if (!u || typeof u !== 'object' || u.input_tokens === undefined || u.output_tokens === undefined || typeof r.timestamp !== 'string') continue;
    const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})$/.exec(r.timestamp);
    if (!m) continue;
    const ms = Date.parse(`${m[1]}.${(m[2] ?? '').slice(0, 3).padEnd(3, '0')}${m[3].length === 5 ? m[3].slice(0, 3) + ':' + m[3].slice(3) : m[3]}`);
    if (!Number.isFinite(ms) || new Date(ms).toISOString().slice(0, 10) !== m[1].slice(0, 10) && m[3] === 'Z') continue;
    const split = u.cache_creation && typeof u.cache_creation === 'object' ? u.cache_creation : {};
    const c = [count(u.input_tokens), count(u.output_tokens), u.cache_creation_input_tokens == null ? count(split.ephemeral_5m_input_tokens) + count(split.ephemeral_1h_input_tokens) : count(u.cache_creation_input_tokens), count(u.cache_read_input_tokens)];
    if (c.some(Number.isNaN) || [split.ephemeral_5m_input_tokens, split.ephemeral_1h_input_tokens].some((v) => Number.isNaN(count(v)))) continue;
    const id = typeof r.message.id === 'string' && r.message.id ? `m:${r.message.id}` : typeof r.requestId === 'string' && r.requestId ? `r:${r.requestId}` : `line:${r.sessionId ?? basename(file)}:${r.uuid ?? `${file}:${i}`}`;
    const cur = responses.get(id);
    if (!cur) responses.set(id, { ms, c });
    else {
      cur.ms = Math.min(cur.ms, ms);
      cur.c = cur.c.map((x, k) => Math.max(x, c[k]));
    }
  }
  const days = new Map<string, number[]>();
  for (const { ms, c } of responses.values()) {
    const d = new Date(ms).toISOString().slice(0, 10);
    days.set(d, (days.get(d) ?? [0, 0, 0, 0]).map((x, k) => x + c[k]));
  }
  return [...days.entries()]
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([date, c]) => ({ date, inputTokens: c[0], outputTokens: c[1], cacheCreationTokens: c[2], cacheReadTokens: c[3] }));
}
