import { appendFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { claudeAdapter } from '../../src/adapters/claude/index.js';
import { openDb, type Db } from '../../src/store/db.js';
import { ingest } from '../../src/ingest/index.js';
import { copyFixture, FIXTURES_DIR, tempDir } from '../helpers/fixtures.js';
import { storeDaily } from '../helpers/ccusage.js';

const FIXTURE = join(FIXTURES_DIR, 'claude', 'projects', '-Users-test-dev-ai-music', 'fed8ce56-bc79-401f-a83e-af084253362f.jsonl');
/** The fixture's 21 lines: a summary, then users and assistants; lines 17–18 are two streaming splits of one message (output 1, then 273). */
const LINES = readFileSync(FIXTURE, 'utf8').split('\n').filter((l) => l.trim() !== '');
const SPLIT_KEY = 'm:msg_01WX61CfSu8G2G7SBbXQriTM';

interface Env {
  root: string;
  file: string;
  db: Db;
  run: () => ReturnType<typeof ingest>;
}

function setup(initial: string): Env {
  const root = join(tempDir(), 'claude');
  const dir = join(root, 'projects', '-Users-test-dev-ai-music');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'fed8ce56-bc79-401f-a83e-af084253362f.jsonl');
  writeFileSync(file, initial);
  const db = openDb(join(tempDir(), 'store.db'));
  return { root, file, db, run: () => ingest(db, { adapters: [claudeAdapter], env: { CLAUDE_CONFIG_DIR: root } }) };
}

const lines = (from: number, to: number) => LINES.slice(from, to).map((l) => l + '\n').join('');
const count = (db: Db, sql = 'SELECT COUNT(*) FROM events') => db.prepare(sql).pluck().get() as number;
const uids = (db: Db) => (db.prepare('SELECT lower(hex(uid_bytes)) AS uid FROM events ORDER BY uid').pluck().all() as string[]);

describe('incremental ingest of Claude logs', () => {
  it('reads only the appended lines; a later line that raises a response\'s usage raises its bill on the next ingest', async () => {
    const env = setup(lines(0, 17));
    const first = await env.run();
    expect(first.events.inserted).toBe(17);
    const billedFirst = env.db.prepare('SELECT output_tokens FROM usage WHERE usage_key = ?').pluck().get(SPLIT_KEY);
    expect(billedFirst).toBe(1);

    const appended = lines(17, 21);
    appendFileSync(env.file, appended);
    const second = await env.run();
    expect(second.bytesRead).toBe(Buffer.byteLength(appended));
    expect(second.events).toEqual({ inserted: 4, updated: 0, unchanged: 0 });
    expect(count(env.db)).toBe(21);
    // The second split (output 273) arrived later: the response is billed at its final usage, still dated by its first line.
    expect(env.db.prepare('SELECT output_tokens, ts FROM usage WHERE usage_key = ?').raw().get(SPLIT_KEY)).toEqual([273, JSON.parse(LINES[16]).timestamp]);
    expect(count(env.db, 'SELECT COUNT(*) FROM usage')).toBe(4);
  });

  it('a second ingest with nothing new reads 0 bytes and changes nothing', async () => {
    const env = setup(lines(0, 21));
    await env.run();
    const seq = count(env.db, 'SELECT MAX(seq) FROM events');
    const again = await env.run();
    expect(again.bytesRead).toBe(0);
    expect(again.filesRead).toBe(0);
    expect(again.filesUnchanged).toBe(again.filesSeen);
    expect(again.events).toEqual({ inserted: 0, updated: 0, unchanged: 0 });
    expect(count(env.db, 'SELECT MAX(seq) FROM events')).toBe(seq);
  });

  it('a rewritten file is re-read without duplicating events or usage', async () => {
    const env = setup(lines(0, 21));
    await env.run();
    const before = uids(env.db);
    const daily = storeDaily(env.db);
    // Same records, different bytes (re-serialized with spaces): the head hash changes.
    writeFileSync(env.file, LINES.map((l) => JSON.stringify(JSON.parse(l), null, 0).replace(/,"/g, ', "') + '\n').join(''));
    const r = await env.run();
    expect(r.filesRewritten).toBe(1);
    expect(r.events.inserted).toBe(0);
    expect(r.events.updated).toBe(0);
    expect(uids(env.db)).toEqual(before);
    expect(storeDaily(env.db)).toEqual(daily);

    // Shrunk to its first half: everything already stored stays, nothing is duplicated.
    writeFileSync(env.file, lines(0, 10));
    const shrunk = await env.run();
    expect(shrunk.filesRewritten).toBe(1);
    expect(shrunk.events.inserted).toBe(0);
    expect(uids(env.db)).toEqual(before);
    // And growing back to the full content adds nothing new either.
    writeFileSync(env.file, lines(0, 21));
    await env.run();
    expect(uids(env.db)).toEqual(before);
    expect(storeDaily(env.db)).toEqual(daily);
  });

  it('keeps events and usage when the source file is deleted', async () => {
    const env = setup(lines(0, 21));
    await env.run();
    const daily = storeDaily(env.db);
    rmSync(env.file);
    const r = await env.run();
    expect(r.filesMissing).toBe(1);
    expect(count(env.db)).toBe(21);
    expect(storeDaily(env.db)).toEqual(daily);
    expect(env.db.prepare('SELECT missing FROM source_files').pluck().get()).toBe(1);
    // The file coming back (e.g. restored from a backup) duplicates nothing.
    writeFileSync(env.file, lines(0, 21));
    await env.run();
    expect(count(env.db)).toBe(21);
    expect(storeDaily(env.db)).toEqual(daily);
  });

  it('ingests a torn last line once, after it is completed', async () => {
    const full = lines(0, 21);
    const cut = full.length - 40;
    const env = setup(full.slice(0, cut));
    const first = await env.run();
    expect(first.malformedLines).toBe(0);
    expect(count(env.db)).toBe(20);
    appendFileSync(env.file, full.slice(cut));
    const second = await env.run();
    expect(second.malformedLines).toBe(0);
    expect(second.events).toEqual({ inserted: 1, updated: 0, unchanged: 0 });
    expect(count(env.db)).toBe(21);
    expect(count(env.db, 'SELECT SUM(skipped) FROM source_files')).toBe(0);
  });

  it('gives records without uuid the same identities whether read at once or in appends', async () => {
    const extra = [
      { type: 'summary', summary: 'one', leafUuid: 'a' },
      { type: 'summary', summary: 'two', leafUuid: 'b' },
      { type: 'system', subtype: 'informational', content: 'x', timestamp: '2025-06-10T12:40:00Z', sessionId: 'fed8ce56-bc79-401f-a83e-af084253362f' },
      { type: 'system', subtype: 'informational', content: 'y', timestamp: '2025-06-10T12:40:00Z', sessionId: 'fed8ce56-bc79-401f-a83e-af084253362f' },
    ].map((r) => JSON.stringify(r) + '\n');
    const whole = setup(lines(0, 21) + extra.join(''));
    await whole.run();
    const parts = setup(lines(0, 21) + extra[0] + extra[2]);
    await parts.run();
    appendFileSync(parts.file, extra[1] + extra[3]);
    await parts.run();
    expect(count(whole.db)).toBe(25);
    expect(uids(parts.db)).toEqual(uids(whole.db));
  });

  it('a file moved to a new path adds no duplicates of records that carry their own uuid', async () => {
    const env = setup(lines(0, 21));
    await env.run();
    const before = uids(env.db);
    const moved = join(env.root, 'projects', '-Users-test-dev-ai-music', 'renamed.jsonl');
    renameSync(env.file, moved);
    const r = await env.run();
    expect(r.filesMissing).toBe(1);
    expect(r.events.inserted).toBe(1);
    // Only the summary line has neither uuid nor sessionId: its session falls back to the file name.
    const added = (env.db.prepare('SELECT kind, session_id FROM events WHERE lower(hex(uid_bytes)) NOT IN (' + before.map(() => '?').join(',') + ')').all(...before));
    expect(added).toEqual([{ kind: 'summary', session_id: 'renamed' }]);
  });

  it('the whole fixture tree: second run reads nothing, malformed lines are counted once', async () => {
    const root = copyFixture('claude');
    const db = openDb(join(tempDir(), 'store.db'));
    const env = { CLAUDE_CONFIG_DIR: root };
    const first = await ingest(db, { adapters: [claudeAdapter], env });
    expect(first.filesSeen).toBe(75);
    expect(first.malformedLines).toBe(4);
    expect(first.malformed.map((m) => m.path.endsWith('edge_cases.jsonl'))).toEqual([true]);
    const second = await ingest(db, { adapters: [claudeAdapter], env });
    expect(second.bytesRead).toBe(0);
    expect(second.malformedLines).toBe(0);
    expect(second.events.inserted + second.events.updated).toBe(0);
  });

  it('a run that dies part-way records no offset without its events; the next run ends where a clean run does', async () => {
    const root = copyFixture('claude');
    const env = { CLAUDE_CONFIG_DIR: root };
    const clean = openDb(join(tempDir(), 'store.db'));
    await ingest(clean, { adapters: [claudeAdapter], env });

    // Files share transactions now (one per batch of events, not per file): a failure in the
    // 40th file must roll back, with their offsets, the files before it whose events were not committed yet.
    const db = openDb(join(tempDir(), 'store.db'));
    let opened = 0;
    const dying = {
      ...claudeAdapter,
      parser: (file: Parameters<typeof claudeAdapter.parser>[0], state: Parameters<typeof claudeAdapter.parser>[1]) => {
        if (++opened === 40) throw new Error('killed');
        return claudeAdapter.parser(file, state);
      },
    };
    // Small batches, so that some files were committed before the failure and some were not.
    await expect(ingest(db, { adapters: [dying], env, batchEvents: 100 })).rejects.toThrow('killed');
    const recorded = count(db, 'SELECT COUNT(*) FROM source_files');
    expect(recorded).toBeGreaterThan(0);
    expect(recorded).toBeLessThan(39);

    // Recorded files are skipped as unchanged: had any of them lost its events, they would be missing for good.
    const again = await ingest(db, { adapters: [claudeAdapter], env });
    expect(again.filesUnchanged).toBe(recorded);
    expect(uids(db)).toEqual(uids(clean));
    expect(storeDaily(db)).toEqual(storeDaily(clean));
    expect(count(db, 'SELECT COUNT(*) FROM sessions')).toBe(count(clean, 'SELECT COUNT(*) FROM sessions'));
  });
});
