/**
 * The agents we read, by their provider name (src/model/event.ts lists the names): what the
 * ingest summary and the help texts say of each. Kept free of parser code (the CLI declares
 * its options without loading any adapter). Adding an agent: its name in PROVIDERS, one entry
 * here, one adapter in index.ts.
 *
 * A store can also hold events of a provider not in PROVIDERS (a newer peer's, landed by sync):
 * the provider is a plain string everywhere below the CLI, so such events are reported
 * under their name; only `--provider` is limited to this list.
 */
import type { Provider } from '../model/event.js';

export interface AgentInfo {
  /** The product's name, for people. */
  name: string;
  /** The variable that moves its logs (as the agent itself and ccusage read it). */
  env: string;
  /** Where its logs are when the variable is unset. */
  defaultPath: string;
  /** Other variables that, when set, win over `env` (a place that must not leak the user's logs blanks them). */
  overrides?: readonly string[];
}

export const AGENTS = {
  claude: { name: 'Claude Code', env: 'CLAUDE_CONFIG_DIR', defaultPath: '~/.claude and ~/.config/claude; a comma-separated list works' },
  codex: { name: 'Codex', env: 'CODEX_HOME', defaultPath: '~/.codex' },
  copilot: { name: 'GitHub Copilot CLI', env: 'COPILOT_HOME', defaultPath: '~/.copilot' },
  gemini: { name: 'Gemini CLI', env: 'GEMINI_CLI_HOME', defaultPath: '~, logs in ~/.gemini/tmp; GEMINI_DATA_DIR names the .gemini folder itself', overrides: ['GEMINI_DATA_DIR'] },
  qwen: { name: 'Qwen Code', env: 'QWEN_DATA_DIR', defaultPath: '~/.qwen' },
  opencode: { name: 'OpenCode', env: 'OPENCODE_DATA_DIR', defaultPath: '~/.local/share/opencode ($XDG_DATA_HOME/opencode)' },
  pi: { name: 'pi', env: 'PI_AGENT_DIR', defaultPath: "~/.pi/agent/sessions and its forks' roots; a comma-separated list works" },
} as const satisfies Record<Provider, AgentInfo>;

/** What we know of an agent, by provider name. */
export function agentInfo(provider: Provider): AgentInfo {
  return AGENTS[provider];
}
