import { Hono } from 'hono';
import { getMeta } from '../../store/db.js';
import type { ApiContext } from '../app.js';
import { readQuery } from '../query.js';

/** GET /api/health: liveness plus what identifies this store. Nothing secret. */
export function healthRoutes(ctx: ApiContext): Hono {
  const r = new Hono();
  r.get('/health', (c) => {
    readQuery(c, []);
    const events = ctx.db.prepare('SELECT COUNT(*) FROM events').pluck().get() as number;
    // The per-device sessions table is small; DISTINCT over events would scan every event.
    const devices = ctx.db.prepare('SELECT COUNT(DISTINCT device_id) FROM sessions').pluck().get() as number;
    return c.json({ ok: true, version: ctx.version, deviceId: getMeta(ctx.db, 'device_id') ?? null, events, devices, storePath: ctx.storePath });
  });
  return r;
}
