import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventUid } from '../../src/model/identity.js';
import type { EventRecord } from '../../src/model/event.js';
import { openDb, type Db } from '../../src/store/db.js';
import { catchUpSearchIndex, search } from '../../src/search/index.js';
import type { Manifest, SegmentEvent } from '../../src/sync/codec.js';
import { landPeer } from '../../src/sync/pull.js';
import { Hlc } from '../../src/model/clock.js';
import { tempDir } from '../helpers/fixtures.js';

const PEER = 'ffff00000000beef';
const NOW = '2026-11-20T12:00:00.000Z';

function event(i: number, text: string): EventRecord {
  const session = 'sess-deferred';
  const record = `rec-${i}`;
  return {
    uid: eventUid('claude', session, record), provider: 'claude', project: '-work-deferred', projectPath: '/work/deferred', session, record,
    ts: `2026-11-20T10:00:0${i}.000Z`, kind: 'user', model: null, sidechain: false, agent: null, usageKey: null, usage: null, text, extra: null,
  };
}

const stamp = (n: number) => Hlc.format(Date.parse('2026-11-20T11:00:00.000Z') + n, 0);
const manifest = (generation: number, seqTo: number): Manifest => ({
  device: PEER, name: 'peer', generation, keyFingerprint: 'f'.repeat(64), writtenAt: stamp(generation),
  segments: [{ name: 'a'.repeat(64), kind: 'segment', seqFrom: 1, seqTo, count: seqTo, bytes: 1, sha256: 'b'.repeat(64) }], acks: {},
});

const pending = (db: Db) => db.prepare('SELECT COUNT(*) FROM fts_pending').pluck().get() as number;
const integrityOk = (db: Db) => db.exec(`INSERT INTO events_fts(events_fts, rank) VALUES ('integrity-check', 1)`);
const found = (db: Db, q: string) => search(db, q, { scope: { kind: 'all' } }).results.length;

describe('search index of a large sync landing', () => {
  it('is left for later, and the next search indexes it first; changes and deletes of pending rows keep the index sound', () => {
    const db = openDb(join(tempDir(), 'store.db'));
    const events: SegmentEvent[] = [0, 1, 2, 3].map((i) => ({ seq: i + 1, writtenAt: stamp(10 + i), event: event(i, `zanzibar note ${i}`) }));
    // size: what the landing is told the backlog holds; above LARGE_LANDING it defers the index.
    landPeer(db, manifest(1, 4), events, NOW, null, { size: 1_000_000 });
    expect(pending(db)).toBe(4);
    expect(db.prepare('SELECT COUNT(*) FROM events_fts_docsize').pluck().get()).toBe(0);

    // While pending: a newer version of one event changes its text (a small landing: indexed at once
    // for new rows, but this row is pending, so the trigger must leave the index alone) ...
    landPeer(db, manifest(2, 5), [{ seq: 5, writtenAt: stamp(50), event: event(1, 'quokka note 1') }], NOW);
    // ... and a pending row is deleted.
    db.prepare('DELETE FROM events WHERE record_id = ?').run('rec-3');
    expect(pending(db)).toBe(3);
    // The index is sound in itself (rank 0: not compared with the events, which it lacks on purpose).
    db.exec(`INSERT INTO events_fts(events_fts, rank) VALUES ('integrity-check', 0)`);

    expect(found(db, 'zanzibar')).toBe(2); // rec-0 and rec-2: the search caught up first
    expect(pending(db)).toBe(0);
    expect(found(db, 'quokka')).toBe(1);
    integrityOk(db);
    expect(catchUpSearchIndex(db)).toBe(0);
  });

  it('a small landing indexes at once', () => {
    const db = openDb(join(tempDir(), 'store.db'));
    landPeer(db, manifest(1, 1), [{ seq: 1, writtenAt: stamp(1), event: event(0, 'wombat') }], NOW);
    expect(pending(db)).toBe(0);
    expect(db.prepare(`SELECT COUNT(*) FROM events_fts WHERE events_fts MATCH 'wombat'`).pluck().get()).toBe(1);
  });
});
