import type { Context } from 'hono';
import { SuError } from '../errors.js';
import { parseReportOptions, type ReportOptions } from '../query/options.js';

/** The report filters, by their query-parameter names (the CLI flags without dashes). */
export const FILTER_PARAMS = ['since', 'until', 'timezone', 'project', 'provider', 'scope'] as const;

/**
 * The query string as single values. Unknown and repeated parameters are usage errors: a
 * misspelt filter silently ignored would return an unfiltered answer that looks right.
 */
export function readQuery(c: Context, allowed: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of new URL(c.req.url).searchParams) {
    if (!allowed.includes(key)) {
      throw new SuError('USAGE', `unknown query parameter '${key}'`, { hint: `this endpoint takes: ${allowed.join(', ') || 'no parameters'}` });
    }
    if (key in out) throw new SuError('USAGE', `query parameter '${key}' given more than once`, { hint: 'give it once' });
    out[key] = value;
  }
  return out;
}

/** Report filters from the query, validated exactly as the CLI validates its flags. */
export function reportOptionsFromQuery(q: Record<string, string>): ReportOptions {
  return parseReportOptions({
    since: q.since,
    until: q.until,
    timezone: q.timezone,
    project: q.project,
    provider: q.provider,
    scope: q.scope,
    byDevice: q.byDevice === undefined ? undefined : parseBool('byDevice', q.byDevice),
    last: q.last,
    startOfWeek: q.startOfWeek,
  });
}

function parseBool(name: string, v: string): boolean {
  if (v === 'true' || v === '1' || v === '') return true;
  if (v === 'false' || v === '0') return false;
  throw new SuError('USAGE', `query parameter '${name}' wants true or false, got '${v}'`, { hint: `e.g. ?${name}=true` });
}

/** A non-negative whole number, or undefined when absent. */
export function parseLimit(v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  if (!/^\d{1,9}$/.test(v)) throw new SuError('USAGE', `limit wants a whole number, got '${v}'`, { hint: 'e.g. ?limit=20' });
  return Number(v);
}
