import type { Adapter, Provider } from './types.js';
import { claudeAdapter } from './claude/index.js';
import { codexAdapter } from './codex/index.js';
import { opencodeAdapter } from './opencode/index.js';
import { piAdapter } from './pi/index.js';

/** Every log format we ingest, in ingest order. */
export const ADAPTERS: readonly Adapter[] = [claudeAdapter, codexAdapter, opencodeAdapter, piAdapter];

/** The adapters for the given providers (all when none are given). */
export function adaptersFor(providers?: readonly Provider[]): Adapter[] {
  return ADAPTERS.filter((a) => !providers || providers.includes(a.provider));
}

export { claudeAdapter, codexAdapter, opencodeAdapter, piAdapter };
