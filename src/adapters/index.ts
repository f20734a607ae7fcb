import type { Adapter } from './types.js';
import type { Provider } from '../model/event.js';
import { PROVIDERS } from '../model/event.js';
import { claudeAdapter } from './claude/index.js';
import { codexAdapter } from './codex/index.js';
import { copilotAdapter } from './copilot/index.js';
import { geminiAdapter } from './gemini/index.js';
import { qwenAdapter } from './qwen/index.js';
import { opencodeAdapter } from './opencode/index.js';
import { piAdapter } from './pi/index.js';

/** Every log format we ingest, one per provider of agents.ts, in its order. */
const REGISTRY: Record<Provider, Adapter> = {
  claude: claudeAdapter,
  codex: codexAdapter,
  copilot: copilotAdapter,
  gemini: geminiAdapter,
  qwen: qwenAdapter,
  opencode: opencodeAdapter,
  pi: piAdapter,
};

/** The adapter of a provider as registered (ingest's reader thread finds parsers by provider). */
export function registeredAdapter(provider: Provider): Adapter {
  return REGISTRY[provider];
}

export const ADAPTERS: readonly Adapter[] = PROVIDERS.map((p) => REGISTRY[p]);

/** The adapters for the given providers (all when none are given). */
export function adaptersFor(providers?: readonly Provider[]): Adapter[] {
  return ADAPTERS.filter((a) => !providers || providers.includes(a.provider));
}

export { opencodeAdapter, piAdapter };
