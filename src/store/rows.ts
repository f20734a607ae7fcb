import type { EventRecord } from '../model/event.js';

// Event rows as SQL parameters. Kept apart from the writers (no database import) so that
// sync's decoder worker can build rows off the main thread.

/** The column values of one event row. Shared by local writes and by sync's landing of peer events. */
export function eventRow(e: EventRecord, deviceId: string, seq: number, writtenAt: string) {
  const u = e.usage;
  const tsMs = e.ts ? Date.parse(e.ts) : 0;
  return {
    device_id: deviceId,
    uid: e.uid,
    provider: e.provider,
    project: e.project,
    project_path: e.projectPath,
    session_id: e.session,
    record_id: e.record,
    ts: e.ts,
    ts_ms: Number.isFinite(tsMs) ? tsMs : 0,
    kind: e.kind,
    model: e.model,
    sidechain: e.sidechain ? 1 : 0,
    agent: e.agent,
    usage_key: e.usageKey,
    input_tokens: u?.inputTokens ?? 0,
    output_tokens: u?.outputTokens ?? 0,
    cache_creation_tokens: u?.cacheCreationTokens ?? 0,
    cache_read_tokens: u?.cacheReadTokens ?? 0,
    reasoning_tokens: u?.reasoningTokens ?? 0,
    total_tokens: u?.totalTokens ?? 0,
    has_usage: u ? 1 : 0,
    text: e.text,
    extra: e.extra,
    seq,
    written_at: writtenAt,
  };
}

/** The events columns every writer fills, in the order of {@link rowValues}. */
export const EVENT_COLUMNS = [
  'device_id', 'uid', 'provider', 'project', 'project_path', 'session_id', 'record_id', 'ts', 'ts_ms',
  'kind', 'model', 'sidechain', 'agent', 'usage_key', 'input_tokens', 'output_tokens', 'cache_creation_tokens', 'cache_read_tokens',
  'reasoning_tokens', 'total_tokens', 'has_usage', 'text', 'extra', 'seq', 'written_at',
] as const satisfies readonly (keyof ReturnType<typeof eventRow>)[];

type EventColumn = (typeof EVENT_COLUMNS)[number];

/**
 * uid is a SHA-256 in hex in code and its 32 bytes in the store, in a column named for that
 * (migration 044: half the bytes in the row and the uid index). Writers bind hex through
 * unhex(?), readers select lower(hex(...)). The new name makes SQL of a version that still
 * wrote hex fail, not land a second row per event: a sync daemon started before an upgrade.
 */
const STORED_AS: Partial<Record<EventColumn, string>> = { uid: 'uid_bytes' };

/** The events column an event field is stored in. */
export function storedColumn(c: EventColumn): string {
  return STORED_AS[c] ?? c;
}

/** The SQL placeholder of an event field's value. */
export function placeholder(c: EventColumn): string {
  return c in STORED_AS ? 'unhex(?)' : '?';
}

/** The INSERT column list and VALUES placeholders for {@link EVENT_COLUMNS}. */
export const EVENT_SQL_COLUMNS = EVENT_COLUMNS.map(storedColumn).join(', ');
export const EVENT_PLACEHOLDERS = EVENT_COLUMNS.map(placeholder).join(', ');

/**
 * The columns that hold what an event says: two rows of one identity hold the same event iff these
 * are equal (seq and written_at are the writer's stamps). A writer compares them to tell a changed
 * event from one read again; a content hash per event cost every ingest its serializing and hashing.
 */
export const CONTENT_COLUMNS = EVENT_COLUMNS.filter((c) => c !== 'device_id' && c !== 'uid' && c !== 'seq' && c !== 'written_at');

/** An event row as positional parameters, in {@link EVENT_COLUMNS} order. */
export function rowValues(row: ReturnType<typeof eventRow>): unknown[] {
  return EVENT_COLUMNS.map((c) => row[c]);
}
