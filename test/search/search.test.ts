import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADAPTERS } from '../../src/adapters/index.js';
import { eventUid } from '../../src/model/identity.js';
import type { EventRecord } from '../../src/model/event.js';
import { ingest } from '../../src/ingest/index.js';
import { ensureDeviceId, loadMigrations, migrate, openDb, type Db } from '../../src/store/db.js';
import { LocalEventWriter, readEventsSince } from '../../src/store/events.js';
import { SuError } from '../../src/errors.js';
import { Hlc, fixedClock } from '../../src/model/clock.js';
import { parseQuery, reindex, search, type SearchResult } from '../../src/search/index.js';
import { prng, propertyRuns } from '../helpers/sync-events.js';
import { FIXTURES_DIR, tempDir } from '../helpers/fixtures.js';
import { writeBefore044 } from '../helpers/old-store.js';
import { S, writeSearchLogs } from './logs.js';

const OTHER = 'ffff00000000beef';

function sessions(r: SearchResult): string[] {
  return r.results.map((h) => h.sessionId);
}

function integrityOk(db: Db): void {
  db.exec(`INSERT INTO events_fts(events_fts, rank) VALUES ('integrity-check', 1)`);
}

/** The stored event of a session whose text contains `word`, as a record (for writing copies on another device). */
function eventWith(db: Db, session: string, word: string): EventRecord {
  const row = db.prepare(`SELECT device_id, seq FROM events WHERE session_id = ? AND instr(text, ?) > 0 ORDER BY id LIMIT 1`).get(session, word) as
    | { device_id: string; seq: number }
    | undefined;
  expect(row, `${session} has '${word}'`).toBeDefined();
  const [{ seq: _seq, writtenAt: _w, ...e }] = readEventsSince(db, row!.device_id, row!.seq - 1, row!.seq, 1);
  return e;
}

describe('the index on the fixture logs (real ingest)', () => {
  let db: Db;
  beforeAll(async () => {
    db = openDb(join(tempDir('su-search-fx-'), 'store.db'));
    const env = { CLAUDE_CONFIG_DIR: join(FIXTURES_DIR, 'claude'), CODEX_HOME: join(FIXTURES_DIR, 'codex'), TZ: 'UTC' };
    const r = await ingest(db, { adapters: [...ADAPTERS], env });
    expect(r.events.inserted).toBeGreaterThan(1000);
  });
  afterAll(() => db.close());

  it('runs on an SQLite with FTS5 compiled in', () => {
    expect(db.prepare(`SELECT 1 FROM pragma_compile_options WHERE compile_options = 'ENABLE_FTS5'`).get()).toBeDefined();
  });

  it('indexes every event the ingest wrote, with no separate step, and passes FTS5 integrity-check', () => {
    const events = db.prepare('SELECT COUNT(*) FROM events').pluck().get();
    expect(db.prepare('SELECT COUNT(*) FROM events_fts_docsize').pluck().get()).toBe(events);
    integrityOk(db);
  });

  it('finds words of prompts, replies, tool calls and tool results, with snippets around the match', () => {
    const r = search(db, 'parser', { limit: 200 });
    expect(r.results.length).toBeGreaterThan(5);
    const roles = new Set(r.results.map((h) => h.role));
    expect(roles.has('tool_result')).toBe(true);
    expect([...roles].some((k) => k === 'assistant' || k === 'tool_call' || k === 'user')).toBe(true);
    for (const h of r.results) {
      expect(h.highlights.length, h.snippet).toBeGreaterThan(0);
      for (const [a, b] of h.highlights) expect(h.snippet.slice(a, b).toLowerCase()).toBe('parser');
      expect(h.snippet).not.toMatch(/[\n\t\uE000\uE001]/);
    }
    const scores = r.results.map((h) => h.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
  });

  it('finds Codex tool calls and their output', () => {
    const r = search(db, '"hoge py"', { provider: 'codex', limit: 100 });
    const roles = r.results.map((h) => h.role);
    expect(roles).toContain('tool_call');
    expect(r.results.every((h) => h.provider === 'codex' && h.sessionId === '019b04ae-b1c6-7c72-a134-a4c2de66058c')).toBe(true);
    const shim = search(db, '"shim binary"', { provider: 'codex' });
    expect(new Set(shim.results.map((h) => h.role))).toEqual(new Set(['tool_result']));
    expect(shim.results[0].snippet).toContain('target shim binary not found');
  });
});

describe('search on hand-written logs', () => {
  let db: Db;
  let dir: string;
  beforeAll(async () => {
    dir = tempDir('su-search-');
    const env = writeSearchLogs(dir);
    db = openDb(join(dir, 'store.db'));
    await ingest(db, { adapters: [...ADAPTERS], env });
  });
  afterAll(() => db.close());

  it('ranks an event with the word three times above one with it once', () => {
    const r = search(db, 'zeppelin');
    const s = sessions(r);
    expect(s[0]).toBe(S.many);
    expect(s).toContain(S.once);
    expect(s.indexOf(S.many)).toBeLessThan(s.indexOf(S.once));
    expect(r.results[0].highlights).toHaveLength(3);
    expect(r.results[0]).toMatchObject({ provider: 'claude', project: '-home-me-alpha', role: 'user', kind: 'user', timestamp: '2026-03-01T10:00:00.000Z' });
  });

  it('a phrase needs the words adjacent and in order; words alone do not', () => {
    const phrase = search(db, '"red balloon"');
    expect(phrase.results).toHaveLength(1);
    expect(phrase.results[0].snippet).toContain('red balloon');
    expect(phrase.results[0].highlights.map(([a, b]) => phrase.results[0].snippet.slice(a, b))).toEqual(['red balloon']);
    const words = search(db, 'red balloon');
    expect(words.results).toHaveLength(2); // the prompt, and "The balloon is red"
    expect(words.results.map((h) => h.role).sort()).toEqual(['assistant', 'user']);
  });

  it('prefix* matches word beginnings; the bare word does not', () => {
    expect(search(db, 'refactor').results).toHaveLength(0);
    const r = search(db, 'refactor*');
    expect(r.results).toHaveLength(2);
    const hits = r.results.flatMap((h) => h.highlights.map(([a, b]) => h.snippet.slice(a, b).toLowerCase())).sort();
    expect(hits).toEqual(['refactored', 'refactoring']);
  });

  it('-word excludes events containing it', () => {
    const r = search(db, 'balloon -red');
    expect(r.results).toHaveLength(1);
    expect(r.results[0].snippet).toContain('blue');
    expect(search(db, 'balloon -"red balloon"').results).toHaveLength(2);
    expect(search(db, 'balloon -bl*').results).toHaveLength(2);
    expect(search(db, 'balloon -ball*').results).toHaveLength(0);
  });

  it('finds tool calls and tool results, with their roles', () => {
    const r = search(db, 'quokka');
    expect(r.results.map((h) => h.role).sort()).toEqual(['assistant', 'tool_call', 'tool_result']);
    const codex = search(db, 'wombat');
    // The prompt and Codex's mirrored copy of it (stored as kind meta) both read as the user's.
    expect(codex.results.map((h) => h.role).sort()).toEqual(['assistant', 'tool_call', 'tool_result', 'user', 'user']);
    expect(codex.results.filter((h) => h.role === 'user').map((h) => h.kind).sort()).toEqual(['meta', 'user']);
    expect(codex.results.every((h) => h.provider === 'codex' && h.sessionId === S.codex)).toBe(true);
  });

  it('is case- and accent-insensitive and splits on punctuation like the stored text', () => {
    expect(sessions(search(db, 'ZEPPELIN'))[0]).toBe(S.many);
    expect(search(db, 'src/quokka.ts').results.length).toBeGreaterThan(0);
    expect(search(db, '"quokka ts"').results.length).toBeGreaterThan(0);
  });

  it('filters by provider, project, and local days in a time zone', () => {
    expect(sessions(search(db, 'zeppelin', { provider: 'codex' }))).toEqual([S.codex]);
    expect(new Set(sessions(search(db, 'zeppelin', { project: 'alpha' })))).toEqual(new Set([S.many, S.once]));
    expect(sessions(search(db, 'zeppelin', { since: '2026-03-02' })).sort()).toEqual([S.codex, S.once].sort());
    expect(sessions(search(db, 'zeppelin', { until: '2026-03-01' }))).toEqual([S.many]);
    expect(sessions(search(db, 'zeppelin', { since: '2026-03-02', until: '2026-03-02' }))).toEqual([S.once]);
    // In Kiritimati (UTC+14) 2026-03-01T10:00Z is midnight starting March 2, and 2026-03-02T10:00Z starts March 3.
    expect(sessions(search(db, 'zeppelin', { since: '2026-03-02', until: '2026-03-02', timezone: 'Pacific/Kiritimati' }))).toEqual([S.many]);
    expect(sessions(search(db, 'zeppelin', { since: '2026-03-03', until: '2026-03-03', timezone: 'Pacific/Kiritimati' }))).toEqual([S.once]);
  });

  it('limits results and says when there are more', () => {
    const r = search(db, 'zeppelin', { limit: 1 });
    expect(r.results).toHaveLength(1);
    expect(r.more).toBe(true);
    expect(search(db, 'zeppelin', { limit: 3 }).more).toBe(false);
    expect(() => search(db, 'zeppelin', { limit: 0 })).toThrow(/from 1 to 1000/);
  });

  it('echoes the query, its FTS5 expression and the filters', () => {
    const r = search(db, 'balloon -red', { provider: 'claude' });
    expect(r.query).toEqual({ text: 'balloon -red', match: '("balloon") NOT ("red")' });
    expect(r.meta).toEqual({ timezone: 'UTC', scope: 'local', since: null, until: null, project: null, provider: 'claude', limit: 20 });
  });

  it('user input cannot act as FTS5 syntax: any string is a USAGE error or a result list, never an SQLite error', () => {
    const alphabet = ['"', '*', '-', '(', ')', ':', '^', '+', ' ', ' ', 'a', 'zeppelin', 'OR', 'AND', 'NOT', 'NEAR', 'text', '{', '}', ',', '.', '\\', "'", 'é', '\u0000'];
    const runs = propertyRuns(300);
    for (let seed = 1; seed <= runs; seed++) {
      const r = prng(seed);
      const q = Array.from({ length: 1 + Math.floor(r() * 12) }, () => alphabet[Math.floor(r() * alphabet.length)]).join('');
      try {
        expect(Array.isArray(search(db, q).results), `seed ${seed}: ${JSON.stringify(q)}`).toBe(true);
      } catch (err) {
        expect(err, `seed ${seed}: ${JSON.stringify(q)} threw ${String(err)}`).toBeInstanceOf(SuError);
        expect((err as SuError).code, `seed ${seed}: ${JSON.stringify(q)}`).toBe('USAGE');
      }
    }
    // FTS5's operators and punctuation are plain words and separators here: each query finds
    // exactly what its words alone find (lower case: FTS5 reads only upper-case operators).
    const hits = (q: string) => search(db, q).results.map((h) => h.eventUid);
    expect(hits('^zeppelin')).toHaveLength(3);
    for (const [q, words] of [
      ['^zeppelin', 'zeppelin'],
      ['(zeppelin', 'zeppelin'],
      ['text:zeppelin', 'text zeppelin'],
      ['zeppelin AND', 'zeppelin and'],
      ['zeppelin OR nothing', 'zeppelin or nothing'],
      ['NEAR(zeppelin hangar)', 'near zeppelin hangar'],
    ]) {
      expect(hits(q), q).toEqual(hits(words));
    }
    // "OR" is a word here, and no event contains it: an FTS5 OR would have matched.
    expect(search(db, 'zeppelin OR quokka').results).toHaveLength(0);
  });

  it('reindex restores results after the index content was deleted by hand', () => {
    const before = search(db, 'zeppelin');
    expect(before.results.length).toBe(3);
    db.exec(`INSERT INTO events_fts(events_fts) VALUES ('delete-all')`);
    expect(search(db, 'zeppelin').results).toHaveLength(0);
    const r = reindex(db);
    expect(r.events).toBe(db.prepare('SELECT COUNT(*) FROM events').pluck().get());
    expect(r.withText).toBeGreaterThan(10);
    expect(search(db, 'zeppelin')).toEqual(before);
    integrityOk(db);
  });
});

describe('the index follows the events table', () => {
  it('update and delete of an event update the index (triggers)', async () => {
    const dir = tempDir('su-search-trg-');
    const db = openDb(join(dir, 'store.db'));
    await ingest(db, { adapters: [...ADAPTERS], env: writeSearchLogs(dir) });
    const self = ensureDeviceId(db);
    const e = eventWith(db, S.once, 'zeppelin');
    const w = new LocalEventWriter(db, self, new Hlc(fixedClock(Date.now() + 60_000)));
    const stats = db.transaction(() => w.write([{ ...e, text: 'the old hangar now holds an airship instead' }]))();
    expect(stats.updated).toBe(1);
    expect(sessions(search(db, 'airship'))).toEqual([S.once]);
    expect(sessions(search(db, 'zeppelin'))).not.toContain(S.once);
    // Unchanged text (only seq/written_at move) leaves the index alone and consistent.
    db.prepare('UPDATE events SET written_at = ? WHERE uid_bytes = unhex(?)').run('9999999999999.000000', e.uid);
    integrityOk(db);
    db.prepare('DELETE FROM events WHERE uid_bytes = unhex(?)').run(e.uid);
    expect(search(db, 'airship').results).toHaveLength(0);
    integrityOk(db);
    db.close();
  });

  it('the migration indexes the events of a store that predates it', () => {
    const path = join(tempDir('su-search-mig-'), 'store.db');
    const raw = new Database(path);
    migrate(raw, loadMigrations().filter((m) => m.version < 30));
    expect(raw.prepare(`SELECT 1 FROM sqlite_master WHERE name = 'events_fts'`).get()).toBeUndefined();
    const self = ensureDeviceId(raw);
    const mk = (record: string, text: string): EventRecord => ({
      uid: eventUid('claude', 'old-session', record), provider: 'claude', project: '-old', projectPath: null, session: 'old-session', record,
      ts: '2025-01-01T00:00:00.000Z', kind: 'user', model: null, sidechain: false, agent: null, usageKey: null, usage: null, text, extra: null,
    });
    writeBefore044(raw, self, [mk('r1', 'archived narwhal notes'), mk('r2', 'nothing'), mk('r3', null as unknown as string)]);
    raw.close();
    const db = openDb(path); // applies 030
    expect(search(db, 'narwhal').results.map((h) => h.sessionId)).toEqual(['old-session']);
    integrityOk(db);
    db.close();
  });
});

describe('scope: events of several devices', () => {
  let db: Db;
  let self: string;
  beforeAll(async () => {
    const dir = tempDir('su-search-scope-');
    db = openDb(join(dir, 'store.db'));
    await ingest(db, { adapters: [...ADAPTERS], env: writeSearchLogs(dir) });
    self = ensureDeviceId(db);
    // Another device: a copy of one local event (same identity and text), a changed copy of another,
    // and a session of its own. Its clock is later, so its rows win last-write-wins.
    const w = new LocalEventWriter(db, OTHER, new Hlc(fixedClock(Date.now() + 3_600_000)));
    const same = eventWith(db, S.many, 'zeppelin');
    const changed = eventWith(db, S.once, 'zeppelin');
    const own: EventRecord = { ...same, uid: eventUid('claude', 'laptop-only', 'r1'), session: 'laptop-only', record: 'r1', text: 'the platypus appears only on the laptop' };
    db.transaction(() => w.write([same, { ...changed, text: 'the old hangar now holds an airship' }, own]))();
  });
  afterAll(() => db.close());

  it('local: only this device', () => {
    const r = search(db, 'zeppelin', { scope: { kind: 'local' } });
    expect(r.results.every((h) => h.deviceId === self)).toBe(true);
    expect(sessions(r)).toContain(S.once);
    expect(search(db, 'platypus', { scope: { kind: 'local' } }).results).toHaveLength(0);
  });

  it('all: an event present on two devices appears once, as the last write', () => {
    const r = search(db, 'zeppelin', { scope: { kind: 'all' } });
    const uids = r.results.map((h) => h.eventUid);
    expect(new Set(uids).size).toBe(uids.length);
    const many = r.results.filter((h) => h.sessionId === S.many && h.role === 'user');
    expect(many).toHaveLength(1);
    expect(many[0].deviceId).toBe(OTHER);
    // The other device changed S.once's prompt later: its old words no longer count under all.
    expect(sessions(r)).not.toContain(S.once);
    expect(search(db, 'airship', { scope: { kind: 'all' } }).results.map((h) => h.deviceId)).toEqual([OTHER]);
    expect(search(db, 'platypus', { scope: { kind: 'all' } }).results.map((h) => h.sessionId)).toEqual(['laptop-only']);
  });

  it('the default scope is all once another device is present', () => {
    expect(search(db, 'platypus').meta.scope).toBe('all');
  });

  it('device:<id> and a unique id prefix: that device only', () => {
    const r = search(db, 'zeppelin', { scope: { kind: 'device', device: OTHER } });
    expect(r.results.map((h) => h.deviceId)).toEqual([OTHER]);
    expect(search(db, 'platypus', { scope: { kind: 'device', device: 'ffff00' } }).results).toHaveLength(1);
    expect(() => search(db, 'x', { scope: { kind: 'device', device: 'nope-device' } })).toThrow(/no single device matches/);
  });

  it('parseQuery output can be passed in directly', () => {
    expect(search(db, parseQuery('platypus'), { scope: { kind: 'all' } }).results).toHaveLength(1);
  });
});
