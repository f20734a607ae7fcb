import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { findFiles, sourcesUnder } from '../discover.js';
import { envPath, homeOf } from '../json.js';
import type { Adapter } from '../types.js';
import { documentReader } from '../whole.js';
import { createGeminiParser, geminiDocument } from './parser.js';

export { geminiFileInfo } from './parser.js';
export { geminiUsage } from './usage.js';

/** Gemini CLI's home: `GEMINI_CLI_HOME` (the folder holding `.gemini`, Gemini's own variable), default `~`. */
export function geminiHome(env: NodeJS.ProcessEnv = process.env): string {
  return envPath(env, 'GEMINI_CLI_HOME') ?? homeOf(env, homedir);
}

/**
 * The `.gemini` folder: `GEMINI_DATA_DIR` when set (ccusage's variable, naming `.gemini` or
 * its `tmp` directly), else `<GEMINI_CLI_HOME or ~>/.gemini`.
 */
function geminiDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const d = envPath(env, 'GEMINI_DATA_DIR');
  if (d) return basename(d) === 'tmp' ? dirname(d) : d;
  return join(geminiHome(env), '.gemini');
}

/** `tmp/<project>/chats/session-*.json[l]`, and subagents' `tmp/<project>/chats/<parent>/<session>.jsonl`. */
function isChatFile(rel: string[]): boolean {
  const name = rel[rel.length - 1];
  if (rel.length === 3) return rel[1] === 'chats' && /^session-.*\.jsonl?$/.test(name);
  return rel.length === 4 && rel[1] === 'chats' && name.endsWith('.jsonl');
}

/**
 * Gemini CLI: chats under `<home>/.gemini/tmp`. JSONL chats are appended to (read
 * incrementally); a legacy `.json` chat is one document, read whole when it changes.
 */
export const geminiAdapter: Adapter = {
  provider: 'gemini',
  roots: (env) => [geminiDataDir(env)],
  watchDirs: (root) => [join(root, 'tmp')],
  discover: (roots) =>
    sourcesUnder('gemini', roots, (root) => findFiles(join(root, 'tmp'), 3, isChatFile), (file) =>
      file.path.endsWith('.json') ? documentReader(file.path, geminiDocument(file)) : undefined,
    ),
  parser: createGeminiParser,
};
