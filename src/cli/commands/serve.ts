import type { Command } from 'commander';
import { SuError } from '../../errors.js';
import { storePath } from '../../paths.js';
import type { Db } from '../../store/db.js';
import { DEFAULT_HOST, DEFAULT_PORT } from '../../api/defaults.js';
import type { CliIo } from '../io.js';
import { emptyStoreNotice } from '../io.js';

function parsePort(v: string): number {
  if (!/^\d{1,5}$/.test(v) || Number(v) > 65535) throw new SuError('USAGE', `--port wants a number from 0 to 65535, got '${v}'`, { hint: `e.g. --port ${DEFAULT_PORT}` });
  return Number(v);
}

/** What a non-loopback bind prints to stderr, with the token it requires (printed this once). */
function exposureWarning(host: string, port: number): string {
  const line = '!'.repeat(78);
  return [
    line,
    `WARNING: listening on ${host}:${port}, which is NOT a loopback address.`,
    'Anyone on this network who has the access token below can read your whole coding-agent',
    'history: full conversation text (prompts, replies, tool output), projects, paths, sessions,',
    'token usage and cost. Traffic is plain http: someone who can watch it can take the token.',
    'Stop it (Ctrl-C) and run `stackunderflow serve` without --host unless you trust this network.',
    line,
    '',
  ].join('\n');
}

/**
 * `stopped` resolves on the first SIGINT or SIGTERM, so the server closes cleanly and the command
 * exits 0. The handlers stay until `release()`, after the shutdown: signal-exit (loaded with
 * proper-lockfile) re-sends the signal to the process when it finds itself the signal's only
 * listener, which it would if ours left while the signal is handled (Node 24 then ends by the signal).
 */
function stopSignal(): { stopped: Promise<NodeJS.Signals>; release(): void } {
  let stop: (sig: NodeJS.Signals) => void = () => {};
  const stopped = new Promise<NodeJS.Signals>((resolve) => (stop = resolve));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return {
    stopped,
    release() {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    },
  };
}

/**
 * Continuous sync: when `sync auto` is on, serve runs the sync loop in-process
 * unless a daemon already does. The sync entry module loads after the server is up; its
 * crypto, S3 and watcher dependencies load only when the loop runs.
 */
async function hostContinuousSync(io: CliIo, db: Db): Promise<{ stop(): Promise<void> } | null> {
  const { hostSyncIfOn } = await import('../../sync/index.js');
  return hostSyncIfOn(db, { env: io.env, clock: io.clock, notice: (line) => void io.stderr.write(line + '\n') });
}

/** `stackunderflow serve`: the read-only JSON API on 127.0.0.1:8081 until interrupted. */
export function registerServe(program: Command, io: CliIo): void {
  program
    .command('serve')
    .description(`read-only JSON API over the store (default http://${DEFAULT_HOST}:${DEFAULT_PORT})`)
    .option('--port <port>', `port to listen on; 0 picks a free one (default ${DEFAULT_PORT})`)
    .option('--host <host>', `address to bind (default ${DEFAULT_HOST}; anything but loopback exposes your data and needs --allow-remote)`)
    .option('--allow-remote', 'allow a non-loopback --host: requests then need a random token, printed once')
    .addHelpText(
      'after',
      `
Endpoints (GET, JSON), filtered by since=&until=&timezone=&project=&provider=&scope= where it applies:
  /api/health  /api/projects  /api/devices  /api/sync/status
  /api/reports/daily|weekly|monthly|session|project|model|blocks
  /api/sessions?limit=20  /api/sessions/:id (the JSON of \`show\`)
  /api/search?q=&limit=  (the JSON of \`search\`)
  /api/dashboard/summary  /api/dashboard/sessions  /api/dashboard/window  (what the dashboard page at / draws)
Requests must name this server in their Host header (a guard against DNS rebinding).`,
    )
    .action(async (flags: { port?: string; host?: string; allowRemote?: boolean }) => {
      const port = flags.port === undefined ? DEFAULT_PORT : parsePort(flags.port);
      const host = flags.host?.trim() || DEFAULT_HOST;
      const { isLoopbackHost } = await import('../../api/guard.js');
      const remote = !isLoopbackHost(host);
      if (remote && !flags.allowRemote) {
        throw new SuError('USAGE', `--host ${host} is not a loopback address: it would expose your full conversation history (prompts, replies, tool output) to the network`, {
          hint: 'add --allow-remote to do it anyway (a random access token is then required and printed once), or drop --host',
        });
      }
      // Only for a remote bind; never stored, never logged: it lives as long as this process.
      // Web Crypto (a global): every command loads the registrars, and node:crypto stays out of them.
      const token = remote ? Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(32))).toString('base64url') : undefined;
      const path = storePath(io.env);
      const { openDb } = await import('../../store/db.js');
      const db = openDb(path);
      // From before the banner: a signal as soon as the URL is printed still stops cleanly.
      const signal = stopSignal();
      try {
        // The HTTP stack loads only for `serve`: other commands start faster without it.
        const { startServer } = await import('../../api/server.js');
        const { storeIsEmpty } = await import('../../reports/reports.js');
        const server = await startServer({
          db,
          host,
          port,
          env: io.env,
          onInternalError: (err) => io.stderr.write(`serve: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`),
          token,
        });
        if (token) io.stderr.write(exposureWarning(host, server.port));
        const sync = await hostContinuousSync(io, db);
        if (token) {
          io.stdout.write(`Serving ${path} (read-only) to the network\nAccess token (shown once): ${token}\n  dashboard: ${server.url}/?token=${token}\n  JSON API:  curl -H 'Authorization: Bearer ${token}' ${server.url}/api/health\nPress Ctrl-C to stop.\n`);
        } else io.stdout.write(`Serving ${path} (read-only)\n  dashboard: ${server.url}/\n  JSON API:  ${server.url}/api/health\nPress Ctrl-C to stop.\n`);
        if (storeIsEmpty(db)) io.stderr.write(emptyStoreNotice(path));
        await signal.stopped;
        await sync?.stop();
        await server.close();
        io.stdout.write('Stopped.\n');
      } finally {
        signal.release();
        db.close();
      }
    });
}
