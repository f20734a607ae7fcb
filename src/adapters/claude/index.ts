import { join } from 'node:path';
import type { Adapter } from '../types.js';
import { claudeRoots, discoverClaudeFiles } from './paths.js';
import { createClaudeParser } from './parser.js';

/** Claude Code: transcripts under `CLAUDE_CONFIG_DIR` (or the defaults), each response billed once at its final usage (docs/numbers.md). */
export const claudeAdapter: Adapter = {
  provider: 'claude',
  roots: claudeRoots,
  watchDirs: (root) => [join(root, 'projects')],
  discover: discoverClaudeFiles,
  parser: createClaudeParser,
};

export { claudeRoots, discoverClaudeFiles, claudeFileInfo } from './paths.js';
export { createClaudeParser, TEXT_CAP_BYTES } from './parser.js';
