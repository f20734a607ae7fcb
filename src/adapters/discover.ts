import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Provider, SourceFile } from './types.js';

/**
 * Every file under `dir` whose path relative to it (as segments) `match` accepts, sorted by
 * path, descending at most `depth` folders. A missing or unreadable folder yields nothing:
 * an agent that was never run is simply not used.
 */
export async function findFiles(dir: string, depth: number, match: (rel: string[]) => boolean): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, rel: string[]): Promise<void> => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const r = [...rel, e.name];
      if (e.isDirectory()) {
        if (r.length <= depth) await walk(join(d, e.name), r);
      } else if (e.isFile() && match(r)) out.push(join(d, e.name));
    }
  };
  await walk(dir, []);
  return out.sort();
}

/** Source files of one provider under several roots, each path once. */
export async function sourcesUnder(
  provider: Provider,
  roots: string[],
  find: (root: string) => Promise<string[]>,
  format: (path: string) => SourceFile['format'] = () => undefined,
): Promise<SourceFile[]> {
  const seen = new Set<string>();
  const files: SourceFile[] = [];
  for (const root of roots) {
    for (const path of await find(root)) {
      if (seen.has(path)) continue;
      seen.add(path);
      const f = format(path);
      files.push(f ? { provider, path, root, format: f } : { provider, path, root });
    }
  }
  return files;
}
