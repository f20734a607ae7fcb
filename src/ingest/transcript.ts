import { sep } from 'node:path';
import type { Db } from '../store/db.js';
import { claudeAdapter } from '../adapters/claude/index.js';
import { PROJECTS_DIR } from '../adapters/claude/paths.js';
import type { Clock } from '../util/clock.js';
import { ingest, type IngestReport } from './index.js';

/**
 * The Claude root a transcript lies under (`<root>/projects/<slug>/…`), or null when its path
 * has no `projects` folder: then its project could not be named as a full ingest names it.
 */
export function claudeRootOf(path: string): string | null {
  const marker = `${sep}${PROJECTS_DIR}${sep}`;
  const i = path.lastIndexOf(marker);
  return i <= 0 ? null : path.slice(0, i);
}

/**
 * Ingests one Claude Code transcript, incrementally (from where the last ingest of it stopped),
 * exactly as a full ingest would read it: the same file row, the same events. Cheap enough to
 * run on every prompt; other files are not looked at.
 */
export async function ingestTranscript(db: Db, path: string, opts: { env?: NodeJS.ProcessEnv; clock?: Clock } = {}): Promise<IngestReport | null> {
  const root = claudeRootOf(path);
  if (root === null) return null;
  const one = { ...claudeAdapter, roots: () => [root], discover: async () => [{ provider: 'claude' as const, path, root }] };
  return ingest(db, { adapters: [one], env: opts.env, clock: opts.clock, partial: true });
}
