import type { Adapter } from '../types.js';
import { createPiParser } from './parser.js';
import { discoverPiSessions, piRoots } from './paths.js';

export { piRoots, FORK_ROOTS, sessionIdFromFileName } from './paths.js';
export { createPiParser } from './parser.js';

/** pi (badlogic/pi-mono) and its forks: JSONL sessions under each root's project folders. */
export const piAdapter: Adapter = {
  provider: 'pi',
  roots: (env) => piRoots(env),
  watchDirs: (root) => [root],
  discover: (roots) => discoverPiSessions(roots),
  parser: (file, state) => createPiParser(file, state),
};
