/**
 * A question to the store, resolved: the options every read shares (reports, search, the
 * session view, the dashboard) turned into device ids, day numbers and SQL filters, and the
 * meta each answer echoes so its reader knows what it covered.
 */
import type { Db } from '../store/db.js';
import type { Provider } from '../model/event.js';
import { slugFromPath } from '../model/slug.js';
import type { ReportOptions } from './options.js';
import { formatScope, resolveScope, type ResolvedScope, type SqlFragment } from './scope.js';
import { dateToDay, defaultTimeZone } from './timezone.js';

/** Options with everything resolved against the store: what one report run works from. */
export interface ReportContext {
  timezone: string;
  scope: ResolvedScope;
  sinceDay?: number;
  untilDay?: number;
  since?: string;
  until?: string;
  project?: string;
  provider?: Provider;
  byDevice: boolean;
  projectFilter: SqlFragment | null;
}

/** What a report covered, echoed in JSON output beside the ccusage fields. */
export interface ReportMeta {
  timezone: string;
  scope: string;
  since: string | null;
  until: string | null;
  project: string | null;
  provider: Provider | null;
}

function projectFilter(db: Db, project: string | undefined, a: string): SqlFragment | null {
  if (project === undefined) return null;
  const slug = /[\\/]/.test(project) ? slugFromPath(project.replace(/[\\/]+$/, '')) : project;
  const exact = db.prepare('SELECT 1 FROM projects WHERE slug = ? LIMIT 1').get(slug);
  if (exact || slug !== project) return { sql: `${a}.project = ?`, params: [slug] };
  return { sql: `instr(lower(${a}.project), ?) > 0`, params: [project.toLowerCase()] };
}

/** Resolves options against the store (scope → device ids, project → filter, dates → day numbers). */
export function reportContext(db: Db, opts: ReportOptions, env: NodeJS.ProcessEnv = process.env): ReportContext {
  return {
    timezone: opts.timezone ?? defaultTimeZone(env),
    scope: resolveScope(db, opts.scope),
    since: opts.since,
    until: opts.until,
    sinceDay: opts.since ? dateToDay(opts.since) : undefined,
    untilDay: opts.until ? dateToDay(opts.until) : undefined,
    project: opts.project,
    provider: opts.provider,
    byDevice: opts.byDevice ?? false,
    projectFilter: projectFilter(db, opts.project, 'u'),
  };
}

/** What a report covered, from its context: echoed in JSON output beside the ccusage fields. */
export function contextMeta(ctx: ReportContext): ReportMeta {
  return {
    timezone: ctx.timezone,
    scope: formatScope(ctx.scope),
    since: ctx.since ?? null,
    until: ctx.until ?? null,
    project: ctx.project ?? null,
    provider: ctx.provider ?? null,
  };
}

/** The provider and project filters as WHERE terms (appended to `clauses`, `params`) on rows aliased `u`. */
export function filterTerms(ctx: ReportContext, clauses: string[], params: unknown[]): void {
  if (ctx.provider) {
    clauses.push('u.provider = ?');
    params.push(ctx.provider);
  }
  if (ctx.projectFilter) {
    clauses.push(ctx.projectFilter.sql);
    params.push(...ctx.projectFilter.params);
  }
}
