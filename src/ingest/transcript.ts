import { statSync } from 'node:fs';
import { sep } from 'node:path';
import type { Db } from '../store/db.js';
import { PROJECTS_DIR } from '../adapters/claude/paths.js';
import type { Clock } from '../model/clock.js';
import type { IngestReport } from './index.js';


/**
 * The Claude root a transcript lies under (`<root>/projects/<slug>/…`), or null when its path
 * has no `projects` folder: then its project could not be named as a full ingest names it.
 */
function claudeRootOf(path: string): string | null {
  const marker = `${sep}${PROJECTS_DIR}${sep}`;
  const i = path.lastIndexOf(marker);
  return i <= 0 ? null : path.slice(0, i);
}

/** Whether the store read the file to its end as it is now (the test a full ingest makes first). */
function unchanged(db: Db, path: string): boolean {
  let st;
  try {
    st = statSync(path);
  } catch {
    return true; // gone or unreadable: nothing to read
  }
  const row = db.prepare('SELECT size, mtime_ms, missing FROM source_files WHERE path = ?').raw().get(path) as [number, number, number] | undefined;
  return row !== undefined && row[0] === st.size && row[1] === Math.trunc(st.mtimeMs) && row[2] === 0;
}

/**
 * Ingests one Claude Code transcript, incrementally (from where the last ingest of it stopped),
 * exactly as a full ingest would read it: the same file row, the same events. Cheap enough to
 * run on every prompt: other files are not looked at, and an unchanged file costs one stat and
 * one lookup (the ingest code is not even loaded).
 */
export async function ingestTranscript(db: Db, path: string, opts: { env?: NodeJS.ProcessEnv; clock?: Clock } = {}): Promise<IngestReport | null> {
  const root = claudeRootOf(path);
  if (root === null || unchanged(db, path)) return null;
  const [{ ingest }, { claudeAdapter }] = await Promise.all([import('./index.js'), import('../adapters/claude/index.js')]);
  const one = { ...claudeAdapter, roots: () => [root], discover: () => Promise.resolve([{ provider: 'claude' as const, path, root }]) };
  return ingest(db, { adapters: [one], env: opts.env, clock: opts.clock, partial: true });
}
