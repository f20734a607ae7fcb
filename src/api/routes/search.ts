import { Hono } from 'hono';
import { parseReportOptions } from '../../query/options.js';
import { parseSearchLimit, search, showSession } from '../../search/index.js';
import type { ApiContext } from '../app.js';
import { FILTER_PARAMS, readQuery, reportOptionsFromQuery } from '../query.js';
import type { Conversation, SearchResult } from '../shapes.js';

const SEARCH_PARAMS = ['q', ...FILTER_PARAMS, 'limit'];

/**
 * GET /api/search?q=…: the same JSON as `search --json` (query syntax in docs/search.md; a
 * malformed query is a 400 with the CLI's message). GET /api/sessions/:id: the same JSON as
 * `show --json` (an id or a unique prefix; ambiguous → 400 listing candidates).
 */
export function searchRoutes(ctx: ApiContext): Hono {
  const r = new Hono();
  r.get('/search', (c) => {
    const q = readQuery(c, SEARCH_PARAMS);
    const opts = { ...reportOptionsFromQuery(q), limit: parseSearchLimit(q.limit, 'limit') };
    return c.json<SearchResult>(search(ctx.db, q.q ?? '', opts, ctx.env));
  });
  r.get('/sessions/:id', (c) => {
    const q = readQuery(c, ['scope', 'timezone']);
    return c.json<Conversation>(showSession(ctx.db, c.req.param('id'), parseReportOptions({ scope: q.scope, timezone: q.timezone }), ctx.env));
  });
  return r;
}
