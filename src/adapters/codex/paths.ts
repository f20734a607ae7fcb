import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { findFiles, sourcesUnder } from '../discover.js';
import type { SourceFile } from '../types.js';

/** Codex's home: `CODEX_HOME`, default `~/.codex` (the same rule Codex itself uses). */
export function codexHome(env: NodeJS.ProcessEnv = process.env): string {
  const v = env.CODEX_HOME;
  return v && v.trim() !== '' ? v : join(homedir(), '.codex');
}

/**
 * Sub-folders of a Codex home that hold rollouts. `archived_sessions` receives rollouts
 * Codex moves out of `sessions` (flat, same file name and content), so a rollout may be
 * seen in both; the parser derives identities from content only, so both copies coincide.
 */
const ROLLOUT_DIRS = ['sessions', 'archived_sessions'] as const;

const ROLLOUT_NAME = /^rollout-.*\.jsonl$/;

/** Every `rollout-*.jsonl` under `<root>/sessions/**` and `<root>/archived_sessions/**`, sorted by path. */
export function discoverRollouts(roots: string[]): Promise<SourceFile[]> {
  return sourcesUnder('codex', roots, async (root) => {
    const found: string[] = [];
    for (const d of ROLLOUT_DIRS) found.push(...(await findFiles(join(root, d), Infinity, (rel) => ROLLOUT_NAME.test(rel[rel.length - 1]))));
    return found.sort();
  });
}

const UUID_TAIL = /([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;
const ROLLOUT_STAMP = /^rollout-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-(.+)$/;

/**
 * Session id for a rollout whose `session_meta` has none: the UUID at the end of the
 * file name (Codex names files `rollout-<local time>-<session uuid>.jsonl`), else what
 * follows the timestamp, else the whole name without extension. Depends on the name
 * only, so a copy in `archived_sessions` gets the same id.
 */
export function sessionIdFromFileName(path: string): string {
  const stem = basename(path).replace(/\.jsonl$/, '');
  const uuid = UUID_TAIL.exec(stem);
  if (uuid) return uuid[1].toLowerCase();
  const tail = ROLLOUT_STAMP.exec(stem);
  return tail ? tail[1] : stem;
}
