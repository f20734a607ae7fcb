import { Hono } from 'hono';
import { currentWindow } from '../../reports/index.js';
import { dashboardSessions, dashboardSummary } from '../../reports/dashboard.js';
import type { ApiContext } from '../app.js';
import { dashboardDevices } from '../devices.js';
import { parseLimit, readQuery, reportOptionsFromQuery } from '../query.js';
import type { CurrentWindow, DashboardDevices, DashboardSessions, DashboardSummary } from '../shapes.js';
import { Warmer } from '../warmer.js';

/** Only scope, range and zone: the page has no other filter, and the rollup is built for these. */
const DASHBOARD_PARAMS = ['scope', 'since', 'until', 'timezone'] as const;

/** The dashboard's endpoints (mounted under /api): summary, sessions, the current window, devices; their JSON is src/api/shapes.ts. */
export function dashboardRoutes(ctx: ApiContext): Hono {
  const r = new Hono();
  const warmer = new Warmer(ctx);
  r.use('/dashboard/*', async (_c, next) => {
    warmer.touch();
    await next();
  });
  r.get('/dashboard/summary', (c) => c.json<DashboardSummary>(dashboardSummary(ctx.db, reportOptionsFromQuery(readQuery(c, DASHBOARD_PARAMS)), ctx.env)));
  r.get('/dashboard/sessions', (c) => {
    const q = readQuery(c, [...DASHBOARD_PARAMS, 'limit']);
    return c.json<DashboardSessions>(dashboardSessions(ctx.db, { ...reportOptionsFromQuery(q), limit: parseLimit(q.limit) }, ctx.env));
  });
  // The current 5-hour window: from recent usage rows only (src/reports), not the rollup.
  r.get('/dashboard/window', (c) => c.json<CurrentWindow>(currentWindow(ctx.db, reportOptionsFromQuery(readQuery(c, ['scope', 'timezone'])), ctx.env)));
  r.get('/devices', async (c) => {
    readQuery(c, []);
    warmer.touch();
    return c.json<DashboardDevices>(await dashboardDevices(ctx.db, ctx.env));
  });
  return r;
}
