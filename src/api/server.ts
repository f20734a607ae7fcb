import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import { openDb, type Db } from '../store/db.js';
import { SuError } from '../errors.js';
import { createApp } from './app.js';

export interface ServerOptions {
  /** An open store; left open by close(). Give this or `storePath`. */
  db?: Db;
  /** Opened here and closed by close(). */
  storePath?: string;
  host?: string;
  /** 0 picks a free port (tests). */
  port?: number;
  env?: NodeJS.ProcessEnv;
  onInternalError?: (err: unknown) => void;
  /** Required bearer token (see AppOptions.token). */
  token?: string;
}

export interface RunningServer {
  /** Base URL, e.g. http://127.0.0.1:8081 */
  url: string;
  host: string;
  port: number;
  close(): Promise<void>;
}

import { DEFAULT_HOST, DEFAULT_PORT } from './defaults.js';

/** Starts the API on host:port and resolves once the socket is listening. */
export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  if (!opts.db && !opts.storePath) throw new SuError('INTERNAL', 'startServer needs db or storePath');
  const host = opts.host ?? DEFAULT_HOST;
  const ownDb = !opts.db;
  const db = opts.db ?? openDb(opts.storePath!);

  // The Host guard must know the real port, which with port 0 exists only after listen;
  // no request can arrive before then, so the app is built in the listening callback.
  let app: Hono | undefined;
  const server = serve({ fetch: (req, env) => app!.fetch(req, env), hostname: host, port: opts.port ?? DEFAULT_PORT });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
  } catch (cause) {
    if (ownDb) db.close();
    const code = (cause as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? 'the port is in use' : code === 'EACCES' ? 'permission denied' : code === 'EADDRNOTAVAIL' ? 'no such local address' : (cause as Error).message;
    throw new SuError('USAGE', `cannot listen on ${host}:${opts.port ?? DEFAULT_PORT}: ${why}`, { hint: 'choose another --port or --host', cause });
  }
  const port = (server.address() as AddressInfo).port;
  app = createApp({ db, bind: { host, port }, env: opts.env, onInternalError: opts.onInternalError, token: opts.token });
  const urlHost = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    host,
    port,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => {
          if (ownDb) db.close();
          if (err) reject(err);
          else resolve();
        });
        // Keep-alive connections would hold close() open until they time out.
        if ('closeAllConnections' in server) server.closeAllConnections();
      });
      return closing;
    },
  };
}
