import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Provider } from '../model/event.js';
import type { SourceFile, SourceReader } from './types.js';

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

/** Source files of one provider under several roots, each path once; `reader` names those read whole. */
export async function sourcesUnder(
  provider: Provider,
  roots: string[],
  find: (root: string) => Promise<string[]>,
  reader: (file: SourceFile) => SourceReader | undefined = () => undefined,
): Promise<SourceFile[]> {
  const seen = new Set<string>();
  const files: SourceFile[] = [];
  for (const root of roots) {
    for (const path of await find(root)) {
      if (seen.has(path)) continue;
      seen.add(path);
      const file: SourceFile = { provider, path, root };
      const r = reader(file);
      files.push(r ? { ...file, reader: r } : file);
    }
  }
  return files;
}
