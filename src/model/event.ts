/**
 * The normalized event every adapter produces, the store keeps and sync ships. Field order here
 * is the canonical order used by sync serialization (canonical.ts); do not reorder.
 */

/**
 * Every provider name, in ingest order. An event's provider is one of these; adapters/agents.ts
 * says where each one's logs live, and adapters/index.ts has its parser. Adding an agent starts
 * here: the compiler then asks for the other two.
 */
export const PROVIDERS = ['claude', 'codex', 'copilot', 'gemini', 'qwen', 'opencode', 'pi'] as const;
export type Provider = (typeof PROVIDERS)[number];

export type EventKind =
  | 'user' // a prompt typed by the user (or a tool result carried in a user record)
  | 'assistant' // a model reply (text, tool calls) – may carry usage
  | 'tool_call'
  | 'tool_result'
  | 'reasoning'
  | 'system'
  | 'summary'
  | 'usage' // a pure usage record (Codex token_count)
  | 'meta'; // session metadata (Codex session_meta / turn_context)

export interface TokenUsage {
  inputTokens: number; // non-cached input
  outputTokens: number; // for Codex includes reasoning
  cacheCreationTokens: number;
  cacheReadTokens: number;
  reasoningTokens: number; // informational, already inside outputTokens for Codex
  totalTokens: number;
}

export interface EventRecord {
  /** Natural identity: hex sha256 of provider, session and record id (see identity.ts). */
  uid: string;
  provider: Provider;
  /** Project slug (slug.ts); Claude's directory name, or the same transform of Codex's cwd. */
  project: string;
  /** Working directory as logged, when known. */
  projectPath: string | null;
  session: string;
  /** The provider's own record id (Claude `uuid`), or `d:<hash>` derived from (provider, slug, session, ts, ordinal). */
  record: string;
  /** ISO-8601 UTC timestamp with milliseconds, as the provider logged it (normalized). Empty string if the record had none. */
  ts: string;
  kind: EventKind;
  model: string | null;
  sidechain: boolean;
  agent: string | null;
  /** Billing dedupe key: usage with the same key is counted once (Claude: `message.id:requestId`). Null when the event carries no usage. */
  usageKey: string | null;
  usage: TokenUsage | null;
  /** Searchable text (prompt, reply, tool call/result), capped. */
  text: string | null;
  /** Small JSON object with provider-specific extras (tool names, subtype, cwd...), canonical key order. */
  extra: string | null;
}
