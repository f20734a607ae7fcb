import { Hono, type Context } from 'hono';
import { timingSafeEqual } from 'node:crypto';
import type { Db } from '../store/db.js';
import { SuError } from '../errors.js';
import { packageVersion } from '../paths.js';
import { errorResponse, HostRejected, TokenRequired } from './errors.js';
import { hostAllowed, type BindAddress } from './guard.js';
import { healthRoutes } from './routes/health.js';
import { projectRoutes } from './routes/projects.js';
import { sessionRoutes } from './routes/sessions.js';
import { reportRoutes } from './routes/reports.js';
import { syncRoutes } from './routes/sync.js';
import { searchRoutes } from './routes/search.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { webRoutes } from './routes/web.js';

/** What every route module gets: the open store and where it lives. Never secrets. */
export interface ApiContext {
  db: Db;
  /** Path of the store file (shown by /api/health). */
  storePath: string;
  version: string;
  env: NodeJS.ProcessEnv;
}

/** A route module: a sub-app with paths relative to `/api`. */
type RouteModule = (ctx: ApiContext) => Hono;

/** Mounted under /api in this order; adding an endpoint group is one line here. */
const ROUTES: RouteModule[] = [healthRoutes, projectRoutes, sessionRoutes, reportRoutes, syncRoutes, searchRoutes, dashboardRoutes];

export interface AppOptions {
  db: Db;
  /** The address the server listens on; requests whose Host header names anything else get 403. */
  bind: BindAddress;
  storePath?: string;
  version?: string;
  env?: NodeJS.ProcessEnv;
  /** Receives errors that became a 500, so the operator sees what the client is not shown. */
  onInternalError?: (err: unknown) => void;
  /**
   * When set (a non-loopback bind with --allow-remote), every request must carry it: as
   * `Authorization: Bearer <token>`, or the cookie that opening `/?token=<token>` once sets.
   */
  token?: string;
}

function sameToken(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Builds the read-only JSON API. Usable in-process with `app.request()`; `startServer`
 * puts it on a socket.
 */
export function createApp(opts: AppOptions): Hono {
  const ctx: ApiContext = {
    db: opts.db,
    storePath: opts.storePath ?? opts.db.name,
    version: opts.version ?? packageVersion(),
    env: opts.env ?? process.env,
  };
  const app = new Hono();

  // Set on every response, errors and 403s included; no Access-Control-* header is ever
  // sent, so browsers keep other origins from reading our answers.
  app.use('*', async (c, next) => {
    await next();
    c.res.headers.set('X-Content-Type-Options', 'nosniff');
    c.res.headers.set('Cache-Control', 'no-store');
  });
  app.use('*', async (c, next) => {
    // In-process requests (app.request) may carry no Host header: the URL's authority stands in,
    // which is what a real server derives from Host anyway.
    const host = c.req.header('host') ?? new URL(c.req.url).host;
    if (!hostAllowed(host, opts.bind)) throw new HostRejected(host);
    await next();
  });
  if (opts.token) {
    const token = opts.token;
    app.use('*', async (c, next) => {
      const bearer = /^Bearer (\S+)$/.exec(c.req.header('authorization') ?? '')?.[1];
      const cookie = /(?:^|;\s*)su_token=([^;]+)/.exec(c.req.header('cookie') ?? '')?.[1];
      const query = c.req.query('token');
      if (query !== undefined && sameToken(query, token)) {
        // The dashboard link: trade the token in the URL for a cookie, and drop it from the address bar.
        c.header('Set-Cookie', `su_token=${token}; HttpOnly; SameSite=Strict; Path=/`);
        return c.redirect(c.req.path, 303);
      }
      if (!(bearer !== undefined && sameToken(bearer, token)) && !(cookie !== undefined && sameToken(cookie, token))) throw new TokenRequired();
      await next();
    });
  }
  app.use('*', async (c, next) => {
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
      throw new SuError('USAGE', `method ${c.req.method} not allowed: the API is read-only`, { hint: 'use GET' });
    }
    await next();
  });

  for (const mod of ROUTES) app.route('/api', mod(ctx));
  // The dashboard page and its assets, at the root: same guard, headers and errors as the API.
  app.route('/', webRoutes(ctx));

  const respond = (err: unknown, c: Context) => {
    const { status, body } = errorResponse(err);
    if (status === 500) opts.onInternalError?.(err);
    return c.json(body, status);
  };
  const endpoints = [...new Set(app.routes.filter((r) => r.method === 'GET').map((r) => r.path))].join(', ');
  app.notFound((c) => respond(new SuError('NOT_FOUND', `no endpoint ${c.req.path}`, { hint: `endpoints: ${endpoints}` }), c));
  app.onError(respond);
  return app;
}
