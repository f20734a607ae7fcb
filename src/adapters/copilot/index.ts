import { homedir } from 'node:os';
import { join } from 'node:path';
import { findFiles, sourcesUnder } from '../discover.js';
import { envPath, homeOf } from '../json.js';
import type { Adapter } from '../types.js';
import { createCopilotParser } from './parser.js';

export { shutdownDeltas } from './parser.js';

/** Copilot's home: `COPILOT_HOME`, default `~/.copilot`. */
export function copilotHome(env: NodeJS.ProcessEnv = process.env): string {
  return envPath(env, 'COPILOT_HOME') ?? join(homeOf(env, homedir), '.copilot');
}

/** GitHub Copilot CLI: one `events.jsonl` per session under `<home>/session-state/<session>/`. */
export const copilotAdapter: Adapter = {
  provider: 'copilot',
  roots: (env) => [copilotHome(env)],
  watchDirs: (root) => [join(root, 'session-state')],
  discover: (roots) =>
    sourcesUnder('copilot', roots, (root) => findFiles(join(root, 'session-state'), 1, (rel) => rel.length === 2 && rel[1] === 'events.jsonl')),
  parser: createCopilotParser,
};
