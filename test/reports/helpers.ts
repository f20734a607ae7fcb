import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb, type Db } from '../../src/store/db.js';
import { LocalEventWriter } from '../../src/store/events.js';
import { eventUid } from '../../src/model/identity.js';
import type { EventRecord, Provider } from '../../src/model/event.js';
import { Hlc, fixedClock } from '../../src/model/clock.js';

/** A fresh store in a temp dir. */
export function tempStore(): { db: Db; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'su-reports-'));
  return { db: openDb(join(dir, 'store.db')), dir };
}

export interface UsageSpec {
  ts: string;
  model?: string | null;
  provider?: Provider;
  project?: string;
  session?: string;
  record?: string;
  usageKey?: string;
  input?: number;
  output?: number;
  cacheCreate?: number;
  cacheRead?: number;
  /** The 1-hour part of cacheCreate, carried in extra as the Claude parser writes it. */
  cache1h?: number;
  reasoning?: number;
}

let counter = 0;

/** An assistant event carrying usage, shaped like the adapters' output. */
export function usageEvent(s: UsageSpec): EventRecord {
  const provider = s.provider ?? 'claude';
  const session = s.session ?? 'sess-1';
  const record = s.record ?? `rec-${++counter}`;
  const input = s.input ?? 100;
  const output = s.output ?? 10;
  const cc = s.cacheCreate ?? 0;
  const cr = s.cacheRead ?? 0;
  return {
    uid: eventUid(provider, session, record),
    provider,
    project: s.project ?? '-home-me-app',
    projectPath: null,
    session,
    record,
    ts: new Date(s.ts).toISOString(),
    kind: provider === 'codex' ? 'usage' : 'assistant',
    model: s.model === undefined ? 'claude-sonnet-4-5-20250929' : s.model,
    sidechain: false,
    agent: null,
    usageKey: s.usageKey ?? `m:key-${record}`,
    usage: {
      inputTokens: input,
      outputTokens: output,
      cacheCreationTokens: cc,
      cacheReadTokens: cr,
      reasoningTokens: s.reasoning ?? 0,
      totalTokens: input + output + cc + cr,
    },
    text: null,
    extra: s.cache1h ? JSON.stringify({ cache1hTokens: s.cache1h }) : null,
  };
}

/** Writes events as `deviceId` (default: the store's own device) with a clock starting at `clockMs`. */
export function write(db: Db, events: EventRecord[], opts: { deviceId?: string; clockMs?: number } = {}): void {
  const deviceId = opts.deviceId ?? (db.prepare(`SELECT value FROM meta WHERE key = 'device_id'`).pluck().get() as string);
  const w = new LocalEventWriter(db, deviceId, new Hlc(fixedClock(opts.clockMs ?? 1_700_000_000_000, 1)));
  db.transaction(() => w.write(events))();
}
