import { homedir } from 'node:os';
import { join } from 'node:path';
import { findFiles, sourcesUnder } from '../discover.js';
import { envPath, homeOf } from '../json.js';
import type { Adapter } from '../types.js';
import { createGeminiParser } from './parser.js';

export { createGeminiParser, geminiFileInfo } from './parser.js';
export { geminiUsage } from './usage.js';

/** Gemini CLI's home: `GEMINI_CLI_HOME` (the folder holding `.gemini`), default `~`. */
export function geminiHome(env: NodeJS.ProcessEnv = process.env): string {
  return envPath(env, 'GEMINI_CLI_HOME') ?? homeOf(env, homedir);
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
  roots: (env) => [join(geminiHome(env), '.gemini')],
  discover: (roots) =>
    sourcesUnder('gemini', roots, (root) => findFiles(join(root, 'tmp'), 3, isChatFile), (path) => (path.endsWith('.json') ? 'document' : undefined)),
  parser: createGeminiParser,
};
