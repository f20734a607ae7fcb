/**
 * The normalized event every adapter produces and the store keeps. Field order here
 * is the canonical order used by sync serialization; do not reorder.
 */
import type { Provider } from './agents.js';

export { PROVIDERS, type Provider } from './agents.js';

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
  /** Project slug; Claude's directory name, or the same transform of Codex's cwd. */
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

/** What a parser remembers between incremental reads of one file. JSON-serializable. */
export type ParserState = Record<string, unknown>;

/** A stateful per-file parser: fed complete lines in order; its state survives between ingests. */
export interface FileParser {
  /** Returns the events for one line; throws nothing: malformed lines return null (counted as skipped). */
  line(text: string): EventRecord[] | null;
  state(): ParserState;
}

export interface SourceFile {
  provider: Provider;
  path: string;
  /** Root it was found under (for diagnostics). */
  root: string;
  /** Set for a source read whole rather than as appended lines (a database, a JSON document: see whole.ts). */
  reader?: SourceReader;
}

/** What one read of a whole source gave. */
export interface SourceRead {
  events: EventRecord[];
  /** Where the next read resumes (JSON-serializable); kept like a line parser's state. */
  cursor: ParserState;
  /** Records read (rows, documents), and how many of them could not be understood. */
  records: number;
  malformed: number;
  /** Why the source could not be read now (locked, not the expected schema); it is read again next time. */
  unreadable?: string;
}

/**
 * A source that is not an append-only log: a database another program writes to, or a JSON
 * document rewritten in place. Ingest skips it while its stamp is unchanged, and otherwise
 * asks for what changed since the cursor; re-reading a record it already has is harmless
 * (events are upserted by identity).
 */
export interface SourceReader {
  /** Sizes and mtimes of the files that change when the source does (a database and its WAL). */
  stamp(): string;
  read(cursor: ParserState | null): SourceRead;
}

export interface Adapter {
  provider: Provider;
  /** Roots to scan, from env overrides or defaults. */
  roots(env: NodeJS.ProcessEnv): string[];
  /** The folders under a root that hold its logs: what the sync daemon watches for changes. */
  watchDirs(root: string): string[];
  /** Every log file under the roots. */
  discover(roots: string[]): Promise<SourceFile[]>;
  /** A parser for one file, resuming from `state` when the file is being read from an offset. */
  parser(file: SourceFile, state: ParserState | null): FileParser;
}
