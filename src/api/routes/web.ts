import { readFile } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { Hono, type Context } from 'hono';
import { SuError } from '../../errors.js';
import { packageRoot } from '../../paths.js';
import type { ApiContext } from '../app.js';
import { readQuery } from '../query.js';

/**
 * The page's policy: everything from this origin, nothing inline, nothing framed. uPlot sizes
 * its elements through the CSSOM (`el.style.x = …`), which `style-src 'self'` allows; it is
 * inline `style` attributes and `<style>` blocks that would need 'unsafe-inline'.
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json; charset=utf-8',
};

/** Where `npm run build` puts the page (scripts/build-web.mjs), with a trailing separator. */
export const WEB_ROOT = join(packageRoot(), 'dist', 'web') + sep;

// An asset name is one plain file name: no directories, no dot files, nothing to traverse with.
const ASSET_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)+$/;

async function readAsset(root: string, rel: string): Promise<Buffer> {
  try {
    return await readFile(root + rel);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code !== 'ENOENT') throw cause;
    if (rel === 'index.html') {
      throw new SuError('NOT_FOUND', 'the dashboard is not built', { hint: 'run `npm run build` (it writes dist/web/), then restart `stackunderflow serve`', cause });
    }
    throw new SuError('NOT_FOUND', `no asset ${rel}`, { cause });
  }
}

function send(c: Context, body: Buffer, name: string): Response {
  const ext = name.slice(name.lastIndexOf('.'));
  const type = CONTENT_TYPES[ext];
  if (!type) throw new SuError('NOT_FOUND', `no asset ${name}`);
  c.header('Content-Type', type);
  c.header('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  c.header('Referrer-Policy', 'no-referrer');
  c.header('X-Frame-Options', 'DENY');
  c.header('Cross-Origin-Opener-Policy', 'same-origin');
  c.header('Cross-Origin-Resource-Policy', 'same-origin');
  return c.body(new Uint8Array(body));
}

/**
 * The dashboard: `/` (the page) and `/assets/<file>` (its script, styles and uPlot), read from
 * the built files on each request. Mounted at the root, beside the API's `/api`; the Host
 * guard, read-only rule and error mapping of the app apply to it as to the API.
 */
export function webRoutes(_ctx: ApiContext, root: string = WEB_ROOT): Hono {
  const r = new Hono();
  r.get('/', async (c) => {
    // The page reads its own query string (scope, range, view); the server needs none of it.
    return send(c, await readAsset(root, 'index.html'), 'index.html');
  });
  r.get('/assets/:name', async (c) => {
    readQuery(c, []);
    const name = c.req.param('name');
    if (!ASSET_NAME.test(name)) throw new SuError('NOT_FOUND', `no asset ${name}`);
    return send(c, await readAsset(root, 'assets/' + name), name);
  });
  return r;
}
