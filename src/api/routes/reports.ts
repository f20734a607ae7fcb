import { Hono } from 'hono';
import { REPORT_KINDS, blocksReport, parseBlocksOptions, runReport } from '../../reports/index.js';
import type { ApiContext } from '../app.js';
import { FILTER_PARAMS, readQuery, reportOptionsFromQuery } from '../query.js';

const PARAMS = [...FILTER_PARAMS, 'byDevice', 'last', 'startOfWeek'];
const BLOCK_PARAMS = ['since', 'until', 'timezone', 'project', 'scope', 'byDevice', 'active', 'recent', 'tokenLimit', 'sessionLength'];

/** GET /api/reports/{daily,weekly,monthly,session,project,model,blocks}: the same JSON as `report <kind> --json`. */
export function reportRoutes(ctx: ApiContext): Hono {
  const r = new Hono();
  for (const kind of REPORT_KINDS) {
    r.get(`/reports/${kind}`, (c) => c.json(runReport(ctx.db, kind, reportOptionsFromQuery(readQuery(c, PARAMS)), ctx.env)));
  }
  r.get('/reports/blocks', (c) => c.json(blocksReport(ctx.db, parseBlocksOptions(readQuery(c, BLOCK_PARAMS)), ctx.env)));
  return r;
}
