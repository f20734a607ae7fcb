import type { Db } from './db.js';
import { getMeta, setMeta } from './db.js';
import type { EventRecord } from '../adapters/types.js';
import { contentHash } from '../util/canonical.js';
import { Hlc } from '../util/clock.js';

export interface WriteStats {
  inserted: number;
  updated: number;
  unchanged: number;
}

/**
 * Writes this device's own events. Insert-or-update by (device, uid); an update happens
 * only when the content hash differs, and takes a new `seq` and `written_at`, so sync
 * ships exactly new and changed events. Call inside a transaction for batching.
 */
export class LocalEventWriter {
  private nextSeq: number;
  private readonly insert;
  private readonly existing;
  private readonly update;

  constructor(
    private readonly db: Db,
    private readonly deviceId: string,
    private readonly hlc: Hlc,
  ) {
    const max = db.prepare('SELECT MAX(seq) FROM events WHERE device_id = ?').pluck().get(deviceId) as number | null;
    this.nextSeq = Math.max(max ?? 0, Number(getMeta(db, 'last_seq') ?? 0)) + 1;
    const lastStamp = getMeta(db, 'last_hlc');
    if (lastStamp) hlc.observe(lastStamp);
    this.existing = db.prepare('SELECT id, chash FROM events WHERE device_id = ? AND uid = ?');
    this.insert = db.prepare(`INSERT INTO events(device_id, uid, provider, project, project_path, session_id, record_id, ts, ts_ms,
      kind, model, sidechain, agent, usage_key, input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens,
      reasoning_tokens, total_tokens, has_usage, text, extra, chash, seq, written_at)
      VALUES (@device_id, @uid, @provider, @project, @project_path, @session_id, @record_id, @ts, @ts_ms,
      @kind, @model, @sidechain, @agent, @usage_key, @input_tokens, @output_tokens, @cache_creation_tokens, @cache_read_tokens,
      @reasoning_tokens, @total_tokens, @has_usage, @text, @extra, @chash, @seq, @written_at)`);
    this.update = db.prepare(`UPDATE events SET provider=@provider, project=@project, project_path=@project_path,
      session_id=@session_id, record_id=@record_id, ts=@ts, ts_ms=@ts_ms, kind=@kind, model=@model, sidechain=@sidechain,
      agent=@agent, usage_key=@usage_key, input_tokens=@input_tokens, output_tokens=@output_tokens,
      cache_creation_tokens=@cache_creation_tokens, cache_read_tokens=@cache_read_tokens, reasoning_tokens=@reasoning_tokens,
      total_tokens=@total_tokens, has_usage=@has_usage, text=@text, extra=@extra, chash=@chash, seq=@seq, written_at=@written_at
      WHERE id = @id`);
  }

  write(events: EventRecord[], stats: WriteStats = { inserted: 0, updated: 0, unchanged: 0 }): WriteStats {
    for (const e of events) {
      const chash = contentHash(e);
      const prev = this.existing.get(this.deviceId, e.uid) as { id: number; chash: string } | undefined;
      if (prev && prev.chash === chash) {
        stats.unchanged++;
        continue;
      }
      const row = eventRow(e, this.deviceId, chash, this.nextSeq++, this.hlc.tick());
      if (prev) {
        this.update.run({ ...row, id: prev.id });
        stats.updated++;
      } else {
        this.insert.run(row);
        stats.inserted++;
      }
    }
    return stats;
  }

  /** Persist the counters so seq never goes backwards, even if events are later removed. */
  flush(): void {
    setMeta(this.db, 'last_seq', String(this.nextSeq - 1));
    setMeta(this.db, 'last_hlc', this.hlc.tick());
  }
}

/** The column values of one event row. Shared by local writes and by sync's landing of peer events. */
export function eventRow(e: EventRecord, deviceId: string, chash: string, seq: number, writtenAt: string) {
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
    chash,
    seq,
    written_at: writtenAt,
  };
}

/** Reads events back as records (for sync push and tests), in seq order. */
export function readEventsSince(db: Db, deviceId: string, afterSeq: number, limit = 1_000_000): Array<EventRecord & { seq: number; writtenAt: string }> {
  const rows = db
    .prepare('SELECT * FROM events WHERE device_id = ? AND seq > ? ORDER BY seq LIMIT ?')
    .all(deviceId, afterSeq, limit) as Record<string, any>[];
  return rows.map(rowToEvent);
}

export function rowToEvent(r: Record<string, any>): EventRecord & { seq: number; writtenAt: string } {
  return {
    uid: r.uid,
    provider: r.provider,
    project: r.project,
    projectPath: r.project_path,
    session: r.session_id,
    record: r.record_id,
    ts: r.ts,
    kind: r.kind,
    model: r.model,
    sidechain: r.sidechain === 1,
    agent: r.agent,
    usageKey: r.usage_key,
    usage: r.has_usage
      ? {
          inputTokens: r.input_tokens,
          outputTokens: r.output_tokens,
          cacheCreationTokens: r.cache_creation_tokens,
          cacheReadTokens: r.cache_read_tokens,
          reasoningTokens: r.reasoning_tokens,
          totalTokens: r.total_tokens,
        }
      : null,
    text: r.text,
    extra: r.extra,
    seq: r.seq,
    writtenAt: r.written_at,
  };
}
