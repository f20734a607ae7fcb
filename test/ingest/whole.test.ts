import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { geminiAdapter } from '../../src/adapters/gemini/index.js';
import { opencodeAdapter } from '../../src/adapters/opencode/index.js';
import { ingest } from '../../src/ingest/index.js';
import { openDb, type Db } from '../../src/store/db.js';
import { writeAgentLogs } from '../helpers/agentLogs.js';
import { FIXTURES_DIR, tempDir } from '../helpers/fixtures.js';

const LEGACY = join('.gemini', 'tmp', '3c5d1a8f0b9e2d7c6a4f1e0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b', 'chats', 'session-2026-03-01T10-00-1e2d3c4b.json');

function setup() {
  const dir = tempDir('su-whole-');
  const home = join(dir, 'gemini');
  cpSync(join(FIXTURES_DIR, 'gemini'), home, { recursive: true });
  const env = { HOME: dir, GEMINI_CLI_HOME: home, ...writeAgentLogs(dir, { opencode: true }) };
  const db = openDb(join(dir, 'store.db'));
  return { db, legacy: join(home, LEGACY), run: () => ingest(db, { adapters: [geminiAdapter, opencodeAdapter], env }) };
}

const eventsOf = (db: Db, provider: string) => db.prepare('SELECT COUNT(*) FROM events WHERE provider = ?').pluck().get(provider) as number;

describe('sources read whole beside appended logs', () => {
  it('per-agent counts add up on both paths: lines, a rewritten document, a database and legacy message files', async () => {
    const { db, legacy, run } = setup();
    const r = await run();
    // gemini: two JSONL chats read as lines and one legacy document; opencode: three legacy message files and the database
    expect(r.byProvider.gemini).toMatchObject({ filesSeen: 3, filesRead: 3 });
    expect(r.byProvider.opencode).toMatchObject({ filesSeen: 5, filesRead: 5 });
    expect(r.filesRead).toBe(8);
    for (const p of ['gemini', 'opencode']) expect(r.byProvider[p].events.inserted).toBe(eventsOf(db, p));
    expect(r.byProvider.gemini.events.inserted + r.byProvider.opencode.events.inserted).toBe(r.events.inserted);

    // nothing changed: nothing read, on either path
    const idle = await run();
    expect(idle).toMatchObject({ filesRead: 0, filesUnchanged: 8, events: { inserted: 0, updated: 0, unchanged: 0 } });

    // the document rewritten whole: read again alone, counted to its agent
    const rec = JSON.parse(readFileSync(legacy, 'utf8'));
    rec.messages.push({ id: 'm-9', timestamp: '2026-03-02T09:00:00.000Z', type: 'gemini', content: 'ok', model: 'gemini-2.5-pro', tokens: { input: 10, output: 1, cached: 0, thoughts: 0, total: 11 } });
    writeFileSync(legacy, JSON.stringify(rec));
    const again = await run();
    expect(again.byProvider.gemini).toMatchObject({ filesRead: 1, events: { inserted: 1, updated: 0 } });
    expect(again.byProvider.opencode).toMatchObject({ filesRead: 0, events: { inserted: 0, updated: 0, unchanged: 0 } });

    // caught mid-write: malformed once (not again each run), and read again when the write completes
    writeFileSync(legacy, '{"sessionId": "1e2d');
    expect((await run()).malformed.map((m) => m.path)).toEqual([legacy]);
    expect(await run()).toMatchObject({ filesRead: 0, malformedLines: 0 });
    writeFileSync(legacy, JSON.stringify(rec));
    expect(await run()).toMatchObject({ filesRead: 1, malformedLines: 0, events: { inserted: 0 } });
  });
});
