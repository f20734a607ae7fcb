import { readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { SourceFile } from '../types.js';
import { databaseReader } from './database.js';
import { legacyMessageFiles, legacyMessageReader, legacySessions } from './storage.js';

/** `$OPENCODE_DATA_DIR`, else `$XDG_DATA_HOME/opencode`, else `~/.local/share/opencode`. */
export function opencodeRoot(env: NodeJS.ProcessEnv = process.env): string {
  const own = (env.OPENCODE_DATA_DIR ?? '').trim();
  if (own !== '') return resolve(own);
  const home = env.HOME && env.HOME.trim() !== '' ? env.HOME : homedir();
  const xdg = env.XDG_DATA_HOME && env.XDG_DATA_HOME.trim() !== '' ? env.XDG_DATA_HOME : join(home, '.local', 'share');
  return resolve(xdg, 'opencode');
}

/** `opencode.db` and the channel builds' `opencode-<channel>.db` (not their -wal/-shm files). */
const DB_NAME = /^opencode(-[A-Za-z0-9_.]+)?\.db$/;

/**
 * The legacy message files first, then every database: a message present in both is one event
 * (same identity), and within a run the database's copy, read last, is the one kept. Reading
 * every channel's database is safe for the same reason.
 */
export function discoverOpencode(roots: string[]): Promise<SourceFile[]> {
  const out: SourceFile[] = [];
  for (const root of roots) {
    const storage = join(root, 'storage');
    const files = legacyMessageFiles(storage);
    if (files.length) {
      const sessions = legacySessions(storage);
      for (const f of files) out.push({ provider: 'opencode', path: f, root, reader: legacyMessageReader(storage, f, sessions) });
    }
    let names: string[] = [];
    try {
      names = readdirSync(root).filter((n) => DB_NAME.test(n)).sort();
    } catch {
      /* no OpenCode here */
    }
    for (const n of names) out.push({ provider: 'opencode', path: join(root, n), root, reader: databaseReader(join(root, n)) });
  }
  return Promise.resolve(out);
}
