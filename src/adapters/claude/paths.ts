import { readdirSync, realpathSync, statSync, type Dirent } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join, relative, resolve, sep } from 'node:path';
import type { SourceFile } from '../types.js';

/** The folder under each Claude root that holds one directory per project slug. */
export const PROJECTS_DIR = 'projects';

/**
 * Claude Code roots, resolved the way ccusage 18 does so both tools read the same logs:
 * `CLAUDE_CONFIG_DIR` (comma-separated list, blanks dropped, duplicates removed), else both
 * `$XDG_CONFIG_HOME/claude` (default `~/.config/claude`, where newer Claude Code writes) and `~/.claude`.
 * Roots without a `projects/` folder simply yield no files.
 */
export function claudeRoots(env: NodeJS.ProcessEnv = process.env): string[] {
  const fromEnv = (env.CLAUDE_CONFIG_DIR ?? '').trim();
  let candidates: string[];
  if (fromEnv !== '') {
    candidates = fromEnv.split(',').map((p) => p.trim()).filter((p) => p !== '');
  } else {
    const home = env.HOME && env.HOME.trim() !== '' ? env.HOME : homedir();
    const xdg = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.trim() !== '' ? env.XDG_CONFIG_HOME : join(home, '.config');
    candidates = [join(xdg, 'claude'), join(home, '.claude')];
  }
  return [...new Set(candidates.map((p) => resolve(p)))];
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * True for a workflow's `journal.jsonl` (`subagents/workflows/<wf>/journal.jsonl`): it records
 * workflow steps (`started`/`result`), not a transcript, and never carries usage.
 */
function isWorkflowJournal(relParts: string[]): boolean {
  return relParts[relParts.length - 1] === 'journal.jsonl' && relParts.includes('subagents');
}

/**
 * Every transcript under `<root>/projects`: the same set ccusage 18 globs (`**\/*.jsonl`, dot-files
 * and dot-folders excluded, symlinks followed) minus workflow journals. That covers
 * `<slug>/<session>.jsonl`, the old flat `<slug>/agent-<id>.jsonl`, and the newer
 * `<slug>/<session>/subagents/**\/agent-<id>.jsonl` (including `subagents/workflows/<wf>/`).
 * `.meta.json` files are not logs and are never returned. Sorted by path so ingest order is stable.
 */
export function discoverClaudeFiles(roots: string[]): Promise<SourceFile[]> {
  const out = new Map<string, SourceFile>();
  for (const root of roots) {
    const projects = join(root, PROJECTS_DIR);
    if (!isDir(projects)) continue;
    const visited = new Set<string>();
    // `real` is the folder's real path: a folder reached by its own name lies under its parent's
    // real path, so only a symlink needs realpath (a syscall per folder was a tenth of a run).
    const walk = (dir: string, real: string) => {
      // A symlink loop would otherwise recurse forever.
      if (visited.has(real)) return;
      visited.add(real);
      let entries: Dirent[];
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        if (e.name.startsWith('.')) continue;
        // Concatenated, not join()ed: `dir` is already normal, and join's normalizing was ~10 % of a run.
        const p = dir + sep + e.name;
        let kind: 'dir' | 'file' | null = e.isDirectory() ? 'dir' : e.isFile() ? 'file' : null;
        let linked: string | null = null;
        if (e.isSymbolicLink()) {
          try {
            const st = statSync(p);
            kind = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : null;
            if (kind === 'dir') linked = realpathSync(p);
          } catch {
            kind = null;
          }
        }
        if (kind === 'dir') walk(p, linked ?? real + sep + e.name);
        else if (kind === 'file' && e.name.endsWith('.jsonl')) {
          if (e.name === 'journal.jsonl' && isWorkflowJournal(relative(projects, p).split(sep))) continue;
          if (!out.has(p)) out.set(p, { provider: 'claude', path: p, root });
        }
      }
    };
    let real: string;
    try {
      real = realpathSync(projects);
    } catch {
      continue;
    }
    walk(projects, real);
  }
  return Promise.resolve([...out.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)));
}

/** Where a transcript sits: its project slug and the session/agent its name implies. */
export interface ClaudeFileInfo {
  /** The directory right under `projects/` (ccusage's project); the file name for a file lying directly in `projects/`. */
  slug: string;
  /** Session to use for records without `sessionId`: the `<session>` folder for subagent files, else the file name. */
  fallbackSession: string;
  /** Agent id from an `agent-<id>.jsonl` name. */
  agent: string | null;
}

/** Derives slug, fallback session and agent from a transcript path under `root`. */
export function claudeFileInfo(root: string, path: string): ClaudeFileInfo {
  const parts = relative(join(root, PROJECTS_DIR), path).split(sep);
  const name = basename(path);
  const stem = name.endsWith('.jsonl') ? name.slice(0, -'.jsonl'.length) : name;
  const sub = parts.indexOf('subagents');
  const fallbackSession = sub >= 1 && parts[sub - 1] ? parts[sub - 1] : stem;
  const m = /^agent-(.+)$/.exec(stem);
  return { slug: parts[0] || 'unknown', fallbackSession, agent: m ? m[1] : null };
}
