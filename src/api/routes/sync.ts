import { Hono } from 'hono';
import type { ApiContext } from '../app.js';
import { readQuery } from '../query.js';

/** GET /api/sync/status: what `sync status --json` prints (local, instant; no secrets, no credentials). */
export function syncRoutes(ctx: ApiContext): Hono {
  const r = new Hono();
  r.get('/sync/status', async (c) => {
    readQuery(c, []);
    // Loaded on first use: serving reports never loads the sync modules.
    const { syncStatus } = await import('../../sync/index.js');
    return c.json(syncStatus(ctx.db, ctx.env));
  });
  return r;
}
