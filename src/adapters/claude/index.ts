import { join } from 'node:path';
import type { Adapter } from '../types.js';
import { claudeRoots, discoverClaudeFiles } from './paths.js';
import { createClaudeParser } from './parser.js';

/** Claude Code: transcripts under `CLAUDE_CONFIG_DIR` (or the defaults), billed exactly like ccusage 18.0.11. */
export const claudeAdapter: Adapter = {
  provider: 'claude',
  roots: claudeRoots,
  watchDirs: (root) => [join(root, 'projects')],
  discover: discoverClaudeFiles,
  parser: createClaudeParser,
};

export { claudeRoots, discoverClaudeFiles, claudeFileInfo } from './paths.js';
export { billableUsage, createClaudeParser, TEXT_CAP_BYTES } from './parser.js';
