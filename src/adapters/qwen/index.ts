import { homedir } from 'node:os';
import { join } from 'node:path';
import { findFiles, sourcesUnder } from '../discover.js';
import { envPath, homeOf } from '../json.js';
import type { Adapter } from '../types.js';
import { createQwenParser } from './parser.js';


/** Qwen Code's data folder: `QWEN_DATA_DIR`, default `~/.qwen`. */
export function qwenHome(env: NodeJS.ProcessEnv = process.env): string {
  return envPath(env, 'QWEN_DATA_DIR') ?? join(homeOf(env, homedir), '.qwen');
}

/** Qwen Code: one JSONL per session under `<home>/projects/<project>/chats/`. */
export const qwenAdapter: Adapter = {
  provider: 'qwen',
  roots: (env) => [qwenHome(env)],
  watchDirs: (root) => [join(root, 'projects')],
  discover: (roots) =>
    sourcesUnder('qwen', roots, (root) => findFiles(join(root, 'projects'), 2, (rel) => rel.length === 3 && rel[1] === 'chats' && rel[2].endsWith('.jsonl'))),
  parser: createQwenParser,
};
