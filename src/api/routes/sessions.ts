import { Hono } from 'hono';
import { listSessions } from '../../reports/index.js';
import type { ApiContext } from '../app.js';
import { FILTER_PARAMS, parseLimit, readQuery, reportOptionsFromQuery } from '../query.js';

const PARAMS = [...FILTER_PARAMS, 'limit'];

/** GET /api/sessions: the same JSON as `sessions --json`, most recent first. */
export function sessionRoutes(ctx: ApiContext): Hono {
  const r = new Hono();
  r.get('/sessions', (c) => {
    const q = readQuery(c, PARAMS);
    return c.json(listSessions(ctx.db, { ...reportOptionsFromQuery(q), limit: parseLimit(q.limit) }, ctx.env));
  });
  return r;
}
