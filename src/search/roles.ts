import type { EventKind } from '../model/event.js';

/** How an event reads in a conversation: Claude logs tool calls and results inside assistant and user records. */
export type Role = 'user' | 'assistant' | 'tool_call' | 'tool_result' | 'reasoning' | 'system' | 'summary' | 'usage' | 'meta';

/** The conversational role of an event, from its kind and (for Claude) its extras. */
export function roleOf(kind: EventKind, extra: Record<string, unknown> | null): Role {
  if (kind === 'user' && extra?.toolResult === true) return 'tool_result';
  if (kind === 'assistant' && Array.isArray(extra?.tools) && extra.tools.length > 0) return 'tool_call';
  // Codex logs each message twice; the second copy is kept as `meta` (see the Codex adapter) but reads as its twin.
  if (kind === 'meta' && (extra?.mirror === 'user' || extra?.mirror === 'assistant' || extra?.mirror === 'reasoning')) return extra.mirror;
  return kind;
}

/** Parses an event's `extra` JSON; a malformed one counts as none. */
export function parseExtra(extra: string | null): Record<string, unknown> | null {
  if (!extra) return null;
  try {
    const v: unknown = JSON.parse(extra);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
