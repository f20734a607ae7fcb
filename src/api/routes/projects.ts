import { Hono } from 'hono';
import type { Provider } from '../../model/event.js';
import { listSessions } from '../../reports/index.js';
import type { ApiContext } from '../app.js';
import { FILTER_PARAMS, readQuery, reportOptionsFromQuery } from '../query.js';

/** One project in GET /api/projects. Tokens and cost per project are /api/reports/project. */
interface ProjectListEntry {
  provider: Provider;
  project: string;
  /** Working directory as logged, when known. */
  projectPath: string | null;
  sessions: number;
  events: number;
  firstTimestamp: string;
  lastTimestamp: string;
  /** Local date of the last event, in the requested time zone. */
  lastActivity: string;
}

/** GET /api/projects: projects with activity, most recent first, under the same filters and scope as reports. */
export function projectRoutes(ctx: ApiContext): Hono {
  const r = new Hono();
  const pathOf = ctx.db.prepare('SELECT path FROM projects WHERE provider = ? AND slug = ?').pluck();
  r.get('/projects', (c) => {
    // Built from the session listing so the union rule (an event on several devices counts once) is applied in one place.
    const list = listSessions(ctx.db, reportOptionsFromQuery(readQuery(c, FILTER_PARAMS)), ctx.env);
    const byKey = new Map<string, ProjectListEntry>();
    for (const s of list.sessions) {
      const key = s.provider + '\u0000' + s.project;
      let p = byKey.get(key);
      if (!p) {
        p = {
          provider: s.provider,
          project: s.project,
          projectPath: (pathOf.get(s.provider, s.project) as string | null | undefined) ?? null,
          sessions: 0,
          events: 0,
          firstTimestamp: s.firstTimestamp,
          lastTimestamp: s.lastTimestamp,
          lastActivity: s.lastActivity,
        };
        byKey.set(key, p);
      }
      p.sessions++;
      p.events += s.events;
      if (s.firstTimestamp !== '' && (p.firstTimestamp === '' || s.firstTimestamp < p.firstTimestamp)) p.firstTimestamp = s.firstTimestamp;
      if (s.lastTimestamp > p.lastTimestamp) {
        p.lastTimestamp = s.lastTimestamp;
        p.lastActivity = s.lastActivity;
      }
    }
    const projects = [...byKey.values()].sort((a, b) => b.lastTimestamp.localeCompare(a.lastTimestamp) || a.project.localeCompare(b.project) || a.provider.localeCompare(b.provider));
    return c.json({ projects, meta: list.meta });
  });
  return r;
}
