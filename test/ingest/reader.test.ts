import { appendFileSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ADAPTERS } from '../../src/adapters/index.js';
import { openDb, type Db } from '../../src/store/db.js';
import { ingest } from '../../src/ingest/index.js';
import { readFiles, THREAD_BYTES } from '../../src/ingest/reader.js';
import { pendingSearchIndex } from '../../src/store/events.js';
import { search } from '../../src/search/index.js';
import { generate, genEnv } from '../../bench/gen.js';
import { tempDir } from '../helpers/fixtures.js';

/** What a store holds, apart from what differs between two stores by design (device id, HLC stamps). */
function contents(db: Db) {
  const q = (sql: string) => db.prepare(sql).raw().all();
  return {
    events: q(`SELECT lower(hex(uid_bytes)) AS uid, provider, project, project_path, session_id, record_id, ts, kind, model, agent, usage_key,
      input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens, reasoning_tokens, has_usage, text, extra, seq FROM events ORDER BY id`),
    usage: q('SELECT usage_key, event_id, ts, input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens FROM usage ORDER BY usage_key'),
    files: q('SELECT path, provider, size, mtime_ms, offset, head_hash, state, lines, skipped, missing FROM source_files ORDER BY path'),
    sessions: q('SELECT provider, session_id, project, first_ts, last_ts, events FROM sessions ORDER BY provider, session_id'),
    search: q("SELECT rowid FROM events_fts WHERE events_fts MATCH 'error' ORDER BY rowid"),
  };
}

function jsonlFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile() && d.name.endsWith('.jsonl'))
    .map((d) => join(d.parentPath, d.name))
    .sort();
}

describe("ingest's reader thread", () => {
  it('stores exactly what reading on the main thread stores, for every agent, on a first run and after appends', async () => {
    const out = tempDir('su-gen-');
    generate({ seed: 7, outDir: out, targetBytes: 1_500_000, days: 4, projects: 3, otherShare: 0.3 });
    const env = genEnv(out);
    const thread = openDb(join(tempDir(), 'store.db'));
    const here = openDb(join(tempDir(), 'store.db'));
    const a = await ingest(thread, { adapters: [...ADAPTERS], env, read: 'thread', batchEvents: 500 });
    const b = await ingest(here, { adapters: [...ADAPTERS], env, read: 'here', batchEvents: 500 });
    expect(a.events.inserted).toBeGreaterThan(1000);
    expect(a).toEqual(b);
    expect(contents(thread)).toEqual(contents(here));

    // Grow some logs by a copy of their own first line with a new identity, and tear one's last line.
    const logs = jsonlFiles(join(out, 'claude'));
    for (const f of logs.slice(0, 5)) {
      const first = JSON.parse(readFileSync(f, 'utf8').split('\n')[0]) as Record<string, unknown>;
      appendFileSync(f, JSON.stringify({ ...first, uuid: `${String(first.uuid)}-again` }) + '\n');
    }
    appendFileSync(logs[6], '{"type":"user","mess');
    const a2 = await ingest(thread, { adapters: [...ADAPTERS], env, read: 'thread' });
    const b2 = await ingest(here, { adapters: [...ADAPTERS], env, read: 'here' });
    expect(a2.filesRead).toBe(6);
    expect(a2).toEqual(b2);
    expect(contents(thread)).toEqual(contents(here));
    // The torn line is left for the next run: the recorded offset stops before it.
    const offset = thread.prepare('SELECT offset FROM source_files WHERE path = ?').pluck().get(logs[6]) as number;
    expect(statSync(logs[6]).size).toBeGreaterThan(offset);
  });

  it('a bulk run leaves search indexing to the first search, which finds what an indexed store finds', async () => {
    const out = tempDir('su-gen-');
    generate({ seed: 5, outDir: out, targetBytes: 400_000, days: 2, projects: 2 });
    const env = genEnv(out);
    const bulk = openDb(join(tempDir(), 'store.db'));
    const indexed = openDb(join(tempDir(), 'store.db'));
    const r = await ingest(bulk, { adapters: [...ADAPTERS], env, bulkBytes: 1 });
    const r2 = await ingest(indexed, { adapters: [...ADAPTERS], env });
    expect(r.searchPending).toBe(r.events.inserted);
    expect(r2.searchPending).toBe(0);
    expect(pendingSearchIndex(bulk)).toBe(r.events.inserted);
    const hits = (db: Db) => search(db, 'buffer', { limit: 50 }).results.map(({ deviceId: _d, deviceName: _n, ...hit }) => hit);
    expect(hits(indexed).length).toBeGreaterThan(5);
    expect(hits(bulk)).toEqual(hits(indexed));
    expect(pendingSearchIndex(bulk)).toBe(0);
    // FTS5 checks its index against the events' text, and throws on any difference.
    expect(() => bulk.exec("INSERT INTO events_fts(events_fts) VALUES ('integrity-check')")).not.toThrow();
  });

  it('reads on the thread when asked or when the run is big, here for a small run or an adapter of its own', async () => {
    const out = tempDir('su-gen-');
    generate({ seed: 3, outDir: out, targetBytes: 200_000, days: 2, projects: 1 });
    const root = join(out, 'claude');
    const tasks = jsonlFiles(root).map((path) => ({ provider: 'claude' as const, path, root, mtimeMs: 0, prev: null, bytes: statSync(path).size }));
    const claude = ADAPTERS.filter((a) => a.provider === 'claude');
    const events = async (mode: 'thread' | 'here' | 'auto', bytes: number, adapters = claude) => {
      let n = 0;
      const where = await readFiles(tasks, bytes, adapters, mode, (b) => (n += b.events.length));
      return `${where} ${n}`;
    };
    const all = (await events('here', 0)).split(' ')[1];
    expect(Number(all)).toBeGreaterThan(50);
    expect(await events('thread', 0)).toBe(`thread ${all}`);
    expect(await events('auto', THREAD_BYTES)).toBe(`thread ${all}`);
    expect(await events('auto', THREAD_BYTES - 1)).toBe(`here ${all}`);
    const own = claude.map((a) => ({ ...a, parser: (f: Parameters<typeof a.parser>[0], s: Parameters<typeof a.parser>[1]) => a.parser(f, s) }));
    expect(await events('thread', 0, own)).toBe(`here ${all}`);
  });

  it('two readers dealt runs of files in turn hand over every event in file order, as one reader here does', async () => {
    const out = tempDir('su-gen-');
    generate({ seed: 9, outDir: out, targetBytes: 600_000, days: 3, projects: 2 });
    const root = join(out, 'claude');
    const tasks = jsonlFiles(root).map((path) => ({ provider: 'claude' as const, path, root, mtimeMs: 0, prev: null, bytes: statSync(path).size }));
    const claude = ADAPTERS.filter((a) => a.provider === 'claude');
    const collect = async (mode: 'thread' | 'here', chunkBytes?: number) => {
      const seen: { uids: string[]; events: unknown[]; files: string[] } = { uids: [], events: [], files: [] };
      await readFiles(tasks, 0, claude, mode, (b) => {
        seen.uids.push(...b.events.map((e) => e.uid));
        seen.events.push(...b.events);
        seen.files.push(...b.done.map((d) => d.path));
      }, chunkBytes);
      return seen;
    };
    const here = await collect('here');
    expect(here.files).toEqual(tasks.map((t) => t.path));
    expect(here.uids.length).toBeGreaterThan(200);
    // ~20 runs of a few files each, over two readers.
    expect(await collect('thread', 30_000)).toEqual(here);
  });

  it('a file the thread cannot read fails the run with the reason, as reading here does', async () => {
    const task = { provider: 'claude' as const, path: join(tempDir(), 'gone.jsonl'), root: tempDir(), mtimeMs: 0, prev: null, bytes: 1 };
    const run = (mode: 'thread' | 'here') =>
      readFiles([task], 1 << 30, [...ADAPTERS], mode, () => {}).then(
        () => null,
        (err: Error) => err.message,
      );
    expect(await run('thread')).toMatch(/ENOENT.*gone\.jsonl/);
    expect(await run('here')).toBe(await run('thread'));
  });
});
