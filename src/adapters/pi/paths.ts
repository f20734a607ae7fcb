import { readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { SourceFile } from '../types.js';

/** Where pi's forks keep the same session files, relative to the home directory. */
export const FORK_ROOTS = [
  '.omp/agent/sessions', // Oh-My-Pi
  '.senpi/agent/sessions', // Senpi
  '.config/kimchi/harness/sessions', // Kimchi
  '.gjc/agent/sessions', // gajae-code
] as const;

/**
 * pi's session roots. `PI_AGENT_DIR` is a comma list of session roots (blanks dropped,
 * duplicates removed), as ccusage reads it; when unset, pi's own default (its
 * `PI_CODING_AGENT_DIR`/sessions, else `~/.pi/agent/sessions`) and each fork's default root.
 * A root that does not exist is simply not used.
 */
export function piRoots(env: NodeJS.ProcessEnv = process.env): string[] {
  const list = (env.PI_AGENT_DIR ?? '').split(',').map((p) => p.trim()).filter((p) => p !== '');
  if (list.length) return [...new Set(list.map((p) => resolve(p)))];
  const home = env.HOME && env.HOME.trim() !== '' ? env.HOME : homedir();
  const own = (env.PI_CODING_AGENT_DIR ?? '').trim();
  const pi = own !== '' ? join(own, 'sessions') : join(home, '.pi', 'agent', 'sessions');
  return [...new Set([pi, ...FORK_ROOTS.map((r) => join(home, r))].map((p) => resolve(p)))];
}

function list(dir: string): Array<{ name: string; dir: boolean }> {
  try {
    return readdirSync(dir, { withFileTypes: true }).map((e) => ({ name: e.name, dir: e.isDirectory() }));
  } catch {
    return [];
  }
}

/** Every `<root>/<project dir>/*.jsonl`, sorted by path. */
export function discoverPiSessions(roots: string[]): Promise<SourceFile[]> {
  const out: SourceFile[] = [];
  const seen = new Set<string>();
  for (const root of roots) {
    const found: string[] = [];
    for (const d of list(root)) {
      if (!d.dir) continue;
      for (const f of list(join(root, d.name))) if (!f.dir && f.name.endsWith('.jsonl')) found.push(join(root, d.name, f.name));
    }
    found.sort();
    for (const path of found) {
      if (seen.has(path)) continue;
      seen.add(path);
      out.push({ provider: 'pi', path, root });
    }
  }
  return Promise.resolve(out);
}

/** The session id in a file name `<timestamp>_<uuid>.jsonl`: what follows the first `_`. */
export function sessionIdFromFileName(path: string): string {
  const stem = basename(path, '.jsonl');
  const i = stem.indexOf('_');
  return i >= 0 && i < stem.length - 1 ? stem.slice(i + 1) : stem;
}

/** The project folder pi names after the cwd (`--home-me-app--`), for a file without a header cwd. */
export function projectDirOf(path: string): string {
  return basename(join(path, '..'));
}
