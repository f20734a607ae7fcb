import type { Adapter } from '../types.js';
import { discoverOpencode, opencodeRoot } from './paths.js';

export { opencodeRoot } from './paths.js';
export { messageEvent } from './message.js';

/**
 * OpenCode: its SQLite database and the older JSON storage under `$OPENCODE_DATA_DIR`
 * (default `~/.local/share/opencode`). Both are read whole (every source it discovers carries
 * a reader), never as appended lines.
 */
export const opencodeAdapter: Adapter = {
  provider: 'opencode',
  roots: (env) => [opencodeRoot(env)],
  // The whole data folder: which files in it count is decided by the sync loop's watch filter.
  watchDirs: (root) => [root],
  discover: (roots) => discoverOpencode(roots),
  parser: () => {
    throw new Error('OpenCode sources are read whole, through the reader discover() attaches');
  },
};
