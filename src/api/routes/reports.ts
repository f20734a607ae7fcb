import { Hono } from 'hono';
import { REPORT_KINDS, runReport } from '../../reports/index.js';
import type { ApiContext } from '../app.js';
import { FILTER_PARAMS, readQuery, reportOptionsFromQuery } from '../query.js';

const PARAMS = [...FILTER_PARAMS, 'byDevice'];

/** GET /api/reports/{daily,monthly,session,project,model}: the same JSON as `report <kind> --json`. */
export function reportRoutes(ctx: ApiContext): Hono {
  const r = new Hono();
  for (const kind of REPORT_KINDS) {
    r.get(`/reports/${kind}`, (c) => c.json(runReport(ctx.db, kind, reportOptionsFromQuery(readQuery(c, PARAMS)), ctx.env)));
  }
  return r;
}
