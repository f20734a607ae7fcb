import { join } from 'node:path';
import type { Adapter } from '../types.js';
import { createCodexParser } from './parser.js';
import { codexHome, discoverRollouts } from './paths.js';

export { sessionIdFromFileName } from './paths.js';
export { createCodexParser, TEXT_CAP_BYTES } from './parser.js';

/**
 * OpenAI Codex CLI: rollouts under `$CODEX_HOME/sessions/**` and
 * `$CODEX_HOME/archived_sessions/**` (`CODEX_HOME` defaults to `~/.codex`).
 */
export const codexAdapter: Adapter = {
  provider: 'codex',
  roots: (env) => [codexHome(env)],
  watchDirs: (root) => [join(root, 'sessions'), join(root, 'archived_sessions')],
  discover: (roots) => discoverRollouts(roots),
  parser: (file, state) => createCodexParser(file, state),
};
