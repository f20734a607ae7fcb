import { existsSync } from 'node:fs';
import type { Db } from '../store/db.js';
import { storePath } from '../paths.js';
import type { Clock } from '../model/clock.js';

/** Anything text can be written to: a process stream, or a buffer in tests. */
export interface Output {
  write(chunk: string): unknown;
}

/**
 * Everything a command may touch of the outside world, injected so commands run
 * in-process in tests: environment, output streams, clock, and whether a person is watching.
 */
export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdout: Output;
  stderr: Output;
  /** What a command may read as its input (a hook's JSON); absent when there is none. */
  stdin?: AsyncIterable<string | Buffer> & { isTTY?: boolean; destroy?: () => unknown };
  clock?: Clock;
  /** stdout is a terminal: tables may use colors. */
  isTTY?: boolean;
  /** stderr is a terminal: progress bars may draw. Defaults to `isTTY`. */
  stderrIsTTY?: boolean;
}

/** Colors only for a terminal, and never when the user opted out (https://no-color.org). */
export function useColor(io: CliIo): boolean {
  return io.isTTY === true && !io.env.NO_COLOR && io.env.TERM !== 'dumb';
}

// The store (better-sqlite3, a native addon) loads when a command opens it, not when the CLI starts.
const loadDb = () => import('../store/db.js');

/**
 * Opens the store for a read-only command. A store that does not exist yet is not
 * created on disk: the command reads an empty in-memory store instead, and `exists` says so.
 */
async function openStoreForRead(io: CliIo): Promise<{ db: Db; path: string; exists: boolean }> {
  const { openDb } = await loadDb();
  const path = storePath(io.env);
  if (!existsSync(path)) return { db: openDb(':memory:'), path, exists: false };
  const db = openDb(path, { onUpgrade: upgradeNotice(io, path) });
  // A report reads most of an index once, cold: mapping the file spares a read() and a copy
  // per page (~20 ms of the daily report's ~60 ms of SQL on a 200 MB store). Not on Windows,
  // where another process cannot shrink a file (VACUUM) while it is mapped.
  if (process.platform !== 'win32') db.pragma(`mmap_size = ${READ_MMAP_BYTES}`);
  return { db, path, exists: true };
}

/** The line a command prints before a store written by an older version is brought up to date: it may take seconds. */
function upgradeNotice(io: CliIo, path: string): (steps: number) => void {
  return (steps) => io.stderr.write(`Upgrading the store at ${path} to this version (${steps} step${steps === 1 ? '' : 's'}, once)…\n`);
}

/** Address space, not memory: pages are mapped on first touch and shared with the OS cache. */
const READ_MMAP_BYTES = 1 << 30;

/** Runs `fn` with a store opened for reading and always closes it. */
export async function withReadStore<T>(io: CliIo, fn: (s: { db: Db; path: string; exists: boolean }) => T | Promise<T>): Promise<T> {
  const s = await openStoreForRead(io);
  try {
    return await fn(s);
  } finally {
    s.db.close();
  }
}

/** Runs `fn` with the store (created if needed) and always closes it. */
export async function withStore<T>(io: CliIo, fn: (db: Db, path: string) => T | Promise<T>): Promise<T> {
  const { openDb } = await loadDb();
  const path = storePath(io.env);
  const db = openDb(path, { onUpgrade: upgradeNotice(io, path) });
  try {
    return await fn(db, path);
  } finally {
    db.close();
  }
}

/** The sentence every reading command prints when there is nothing to read. */
export function emptyStoreNotice(path: string): string {
  return `The store at ${path} has no events yet.\nRun \`stackunderflow ingest\` to read your Claude Code and Codex logs (or \`stackunderflow demo\` to try the bundled samples).\n`;
}

/**
 * Runs a read of the store (a report, the session list, a search) and prints it: JSON as is, or
 * the text `render` makes (loaded only then); an empty store says how to fill it.
 */
export async function printFromStore<R>(io: CliIo, json: boolean | undefined, make: (db: Db) => R, render: () => Promise<(r: R) => string>): Promise<void> {
  const { storeIsEmpty } = await import('../reports/reports.js');
  await withReadStore(io, async ({ db, path }) => {
    const empty = storeIsEmpty(db);
    const report = make(db);
    if (json) {
      io.stdout.write(JSON.stringify(report, null, 2) + '\n');
      if (empty) io.stderr.write(emptyStoreNotice(path));
      return;
    }
    if (empty) {
      io.stdout.write(emptyStoreNotice(path));
      return;
    }
    io.stdout.write((await render())(report));
  });
}
