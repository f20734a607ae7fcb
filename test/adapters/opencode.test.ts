import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { cpSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { messageEvent, opencodeAdapter, opencodeRoot } from '../../src/adapters/opencode/index.js';
import { ingest } from '../../src/ingest/index.js';
import { openDb, type Db } from '../../src/store/db.js';
import { FIXTURES_DIR, tempDir } from '../helpers/fixtures.js';

const SQL = readFileSync(join(FIXTURES_DIR, 'opencode', 'opencode.sql'), 'utf8');

/** An OpenCode data dir: the fixture database (WAL, as OpenCode keeps it) and, optionally, the legacy storage. */
function dataDir(opts: { legacy?: boolean; db?: boolean } = {}): string {
  const root = tempDir('su-oc-');
  if (opts.db !== false) {
    const db = new Database(join(root, 'opencode.db'));
    db.pragma('journal_mode = WAL');
    db.exec(SQL);
    db.close();
  }
  if (opts.legacy) cpSync(join(FIXTURES_DIR, 'opencode', 'storage'), join(root, 'storage'), { recursive: true });
  return root;
}

function setup(root: string): { db: Db; run: () => ReturnType<typeof ingest> } {
  const db = openDb(join(tempDir(), 'store.db'));
  return { db, run: () => ingest(db, { adapters: [opencodeAdapter], env: { OPENCODE_DATA_DIR: root } }) };
}

// uid is stored as 32 bytes (migration 044); the later column of the same name, in hex, is the one returned.
const event = (db: Db, record: string) => db.prepare('SELECT *, lower(hex(uid_bytes)) AS uid FROM events WHERE record_id = ?').get(record) as Record<string, any>;
const billed = (db: Db) => db.prepare("SELECT usage_key, input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens, reasoning_tokens, total_tokens FROM usage WHERE provider = 'opencode' ORDER BY ts").all() as Array<Record<string, any>>;

describe('OpenCode adapter', () => {
  it('finds its data dir as OpenCode does', () => {
    expect(opencodeRoot({ OPENCODE_DATA_DIR: '/x/oc', XDG_DATA_HOME: '/y' })).toBe('/x/oc');
    expect(opencodeRoot({ XDG_DATA_HOME: '/y', HOME: '/h' })).toBe('/y/opencode');
    expect(opencodeRoot({ HOME: '/h' })).toBe('/h/.local/share/opencode');
  });

  it('discovers opencode.db and channel databases, not their WAL files, after the legacy files', async () => {
    const root = dataDir({ legacy: true });
    writeFileSync(join(root, 'opencode-beta.db'), '');
    writeFileSync(join(root, 'opencode.db-shm'), '');
    const files = (await opencodeAdapter.discover([root])).map((f) => f.path.slice(root.length + 1));
    expect(files).toEqual([
      'storage/message/ses_main01/msg_a002.json',
      'storage/message/ses_old01/msg_l001.json',
      'storage/message/ses_old01/msg_l002.json',
      'storage/message/ses_old01/msg_l003.json',
      'opencode-beta.db',
      'opencode.db',
    ]);
    expect(await opencodeAdapter.discover([join(root, 'missing')])).toEqual([]);
  });

  it('maps every message shape of the database', async () => {
    const { db, run } = setup(dataDir());
    const r = await run();
    expect(r.events.inserted).toBe(4);
    expect(r.malformedLines).toBe(1); // msg_a004's data is not JSON

    const prompt = event(db, 'msg_a001');
    expect(prompt).toMatchObject({ kind: 'user', session_id: 'ses_main01', project: '-home-dev-shop', project_path: '/home/dev/shop', has_usage: 0, sidechain: 0 });
    expect(prompt.text).toBe('Refactor the cart module into smaller functions'); // the synthetic part is left out
    expect(prompt.ts).toBe('2026-01-01T10:00:00.000Z');

    const reply = event(db, 'msg_a002');
    expect(reply).toMatchObject({
      kind: 'assistant', model: 'claude-sonnet-4-5', has_usage: 1,
      input_tokens: 120, output_tokens: 900 + 250, reasoning_tokens: 250, cache_read_tokens: 12000, cache_creation_tokens: 3500,
      total_tokens: 16770, // OpenCode's own total
    });
    expect(reply.text).toBe('I split checkout() into price(), tax() and total().');
    expect(JSON.parse(reply.extra)).toMatchObject({ loggedCost: { usd: 0.02181 }, provider: 'anthropic', agent: 'build', tools: ['edit'], finish: 'tool-calls' });

    const sub = event(db, 'msg_b001');
    expect(sub).toMatchObject({ session_id: 'ses_sub001', sidechain: 1, agent: 'general', model: 'gpt-5', output_tokens: 1000, reasoning_tokens: 600 });
    expect(sub.total_tokens).toBe(2000 + 400 + 600 + 8000); // no logged total: the sum
    expect(JSON.parse(sub.extra)).toMatchObject({ parent: 'ses_main01', loggedCost: { usd: 0 } });

    expect(event(db, 'msg_a003')).toMatchObject({ kind: 'assistant', has_usage: 0, usage_key: null }); // still streaming
    expect(billed(db)).toHaveLength(2);
  });

  it('bills the sum of the kinds, keeping a logged total that differs beside', () => {
    const e = messageEvent({ id: 'msg_x', sessionID: 'ses_x', role: 'assistant', modelID: 'm', time: { created: 1 }, tokens: { total: 1000, input: 100, output: 500, reasoning: 100, cache: { read: 200, write: 0 } } }, [], undefined);
    expect(e!.usage).toMatchObject({ outputTokens: 600, totalTokens: 900 });
    expect(JSON.parse(e!.extra!).logTotal).toBe(1000);
    expect(messageEvent({ role: 'user' }, [], undefined)).toBeNull(); // nothing names it
  });

  it('bills a rewritten message once, at its final usage; nothing new parses nothing', async () => {
    const root = dataDir();
    const { db, run } = setup(root);
    await run();
    const again = await run();
    expect(again).toMatchObject({ filesUnchanged: 1, filesRead: 0, linesRead: 0 });

    // OpenCode finishes the streaming reply: same row, new tokens, later time_updated.
    const oc = new Database(join(root, 'opencode.db'));
    const row = oc.prepare("SELECT data FROM message WHERE id = 'msg_a003'").pluck().get() as string;
    const data = JSON.parse(row);
    data.tokens = { input: 50, output: 70, reasoning: 0, cache: { read: 15000, write: 0 } };
    data.cost = 0.0057;
    oc.prepare("UPDATE message SET data = ?, time_updated = 1767261900000 WHERE id = 'msg_a003'").run(JSON.stringify(data));
    oc.close();

    const r = await run();
    expect(r.linesRead).toBe(1); // only the updated row
    expect(r.events).toMatchObject({ inserted: 0, updated: 1 });
    const final = billed(db).find((u) => u.usage_key === event(db, 'msg_a003').uid);
    expect(final).toMatchObject({ input_tokens: 50, output_tokens: 70, cache_read_tokens: 15000, total_tokens: 15120 });
    expect(billed(db)).toHaveLength(3);
  });

  it('picks up a prompt whose text part lands after its message row', async () => {
    const root = dataDir();
    const { db, run } = setup(root);
    const oc = new Database(join(root, 'opencode.db'));
    oc.exec(`INSERT INTO message VALUES ('msg_a010', 'ses_main01', 1767262000000, 1767262000000, '{"role":"user","time":{"created":1767262000000},"agent":"build"}')`);
    oc.close();
    await run();
    expect(event(db, 'msg_a010').text).toBeNull();
    const oc2 = new Database(join(root, 'opencode.db'));
    oc2.exec(`INSERT INTO part VALUES ('prt_a010', 'msg_a010', 'ses_main01', 1767262000001, 1767262000001, '{"type":"text","text":"now add tests"}')`);
    oc2.close();
    await run();
    expect(event(db, 'msg_a010').text).toBe('now add tests');
  });

  it('reads the legacy JSON storage, and a message in both sources is one event', async () => {
    const root = dataDir({ legacy: true });
    const { db, run } = setup(root);
    const r = await run();
    expect(r.malformed.map((m) => m.path.split('/').pop())).toEqual(['msg_l003.json', 'opencode.db']);
    const old = event(db, 'msg_l002');
    expect(old).toMatchObject({ session_id: 'ses_old01', project_path: '/home/dev/legacy-app', model: 'claude-sonnet-4-20250514', input_tokens: 300, cache_creation_tokens: 800, total_tokens: 7600 });
    expect(event(db, 'msg_l001')).toMatchObject({ kind: 'user', text: 'Why does login fail after the password reset?', project: '-home-dev-legacy-app' });
    // msg_a002 is in both: one event, the database's copy (with its text) kept.
    expect(db.prepare("SELECT COUNT(*) FROM events WHERE record_id = 'msg_a002'").pluck().get()).toBe(1);
    expect(event(db, 'msg_a002').text).toContain('checkout()');
    expect(billed(db).filter((u) => u.usage_key === event(db, 'msg_a002').uid)).toHaveLength(1);

    // A legacy file rewritten in place (OpenCode writes the final tokens last) is read again, alone.
    const file = join(root, 'storage', 'message', 'ses_old01', 'msg_l002.json');
    const msg = JSON.parse(readFileSync(file, 'utf8'));
    msg.tokens.output = 650;
    writeFileSync(file, JSON.stringify(msg, null, 2));
    const again = await run();
    expect(again).toMatchObject({ filesRead: 1, linesRead: 1, events: { updated: 1, inserted: 0 } });
    expect(event(db, 'msg_l002').output_tokens).toBe(650);
    expect(billed(db).filter((u) => u.usage_key === old.uid)[0].output_tokens).toBe(650);
  });

  it('reads while OpenCode writes: every row it committed, each once', async () => {
    const root = dataDir();
    const path = join(root, 'opencode.db');
    // A writer in another process inserting replies as fast as it can while we ingest.
    const writer = spawn(process.execPath, ['-e', `
      const Database = require(${JSON.stringify(require.resolve('better-sqlite3'))});
      const db = new Database(${JSON.stringify(path)});
      db.pragma('busy_timeout = 5000');
      const ins = db.prepare("INSERT INTO message VALUES (?, 'ses_main01', ?, ?, ?)");
      let i = 0;
      process.stdout.write('ready\\n');
      const end = Date.now() + 1500;
      while (Date.now() < end) {
        const t = 1767270000000 + i;
        ins.run('msg_w' + String(i).padStart(6, '0'), t, t, JSON.stringify({ role: 'assistant', time: { created: t }, modelID: 'claude-sonnet-4-5', providerID: 'anthropic', cost: 0.001, tokens: { input: 1, output: 2, reasoning: 0, cache: { read: 3, write: 0 } } }));
        i++;
      }
      db.close();
      process.stdout.write('wrote ' + i + '\\n');
    `], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    writer.stdout.on('data', (d) => (out += d));
    writer.stderr.on('data', (d) => (err += d));
    let exited = false;
    const exit = new Promise<number | null>((res) => writer.once('exit', (code) => { exited = true; res(code); }));
    while (!out.includes('ready') && !exited) await new Promise((r) => setTimeout(r, 10));
    const { db, run } = setup(root);
    let runs = 0;
    while (!exited) {
      await run();
      runs++;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await exit, err).toBe(0);
    const wrote = Number(/wrote (\d+)/.exec(out)![1]);
    expect(wrote).toBeGreaterThan(0);
    expect(runs).toBeGreaterThan(1);
    await run();
    // Every row the writer committed is in the store, each once.
    expect(db.prepare("SELECT COUNT(*) FROM events WHERE record_id LIKE 'msg_w%'").pluck().get()).toBe(wrote);
    expect(db.prepare("SELECT COUNT(*) FROM usage WHERE provider = 'opencode'").pluck().get()).toBe(wrote + 2);
  }, 30_000);

  it('reads the newer session_message table where the message table is empty', async () => {
    const root = tempDir('su-oc-');
    const oc = new Database(join(root, 'opencode-beta.db'));
    oc.exec(readFileSync(join(FIXTURES_DIR, 'opencode', 'opencode-v2.sql'), 'utf8'));
    oc.close();
    const { db, run } = setup(root);
    const r = await run();
    expect(r).toMatchObject({ malformedLines: 0, events: { inserted: 4 } });
    expect(event(db, 'evt_v2001')).toMatchObject({ kind: 'user', text: 'Add a coupon field to checkout', project_path: '/home/dev/shop' });
    expect(event(db, 'evt_v2002')).toMatchObject({ kind: 'system', has_usage: 0 });
    const reply = event(db, 'evt_v2003');
    expect(reply).toMatchObject({
      kind: 'assistant', model: 'claude-sonnet-4-5', text: 'Added a coupon input to checkout.tsx.',
      input_tokens: 40, output_tokens: 360, reasoning_tokens: 60, cache_read_tokens: 9000, cache_creation_tokens: 1200, total_tokens: 10600,
    });
    expect(JSON.parse(reply.extra)).toMatchObject({ loggedCost: { usd: 0.0123 }, tools: ['edit'], provider: 'anthropic' });
    expect(event(db, 'evt_v2004')).toMatchObject({ kind: 'system', text: 'npm test' });
    expect(await run()).toMatchObject({ filesUnchanged: 1, linesRead: 0 });
  });

  it('reports a database locked past the wait, and reads it at the next ingest', async () => {
    const root = tempDir('su-oc-');
    // A rollback-journal database under an exclusive lock: the one case where a reader must wait.
    const oc = new Database(join(root, 'opencode.db'));
    oc.exec(SQL);
    oc.exec('BEGIN EXCLUSIVE');
    oc.exec("UPDATE message SET time_updated = time_updated + 1 WHERE id = 'msg_a001'");
    const { db, run } = setup(root);
    const locked = await run();
    expect(locked.malformed).toEqual([]);
    expect(locked.unreadable).toEqual([{ path: join(root, 'opencode.db'), reason: 'database is locked' }]);
    expect(locked.events.inserted).toBe(0);
    oc.exec('COMMIT');
    oc.close();
    const after = await run();
    expect(after.events.inserted).toBe(4);
    expect(db.prepare('SELECT COUNT(*) FROM events').pluck().get()).toBe(4);
  }, 20_000);

  it('leaves the database unchanged and never holds a lock a writer waits on', async () => {
    const root = dataDir();
    const path = join(root, 'opencode.db');
    const oc = new Database(path);
    oc.pragma('busy_timeout = 0'); // a writer that would fail at once if we held a write lock
    const { run } = setup(root);
    const snapshot = oc.prepare('SELECT COUNT(*) FROM message').pluck();
    const n = snapshot.get();
    await run();
    oc.prepare("INSERT INTO message VALUES ('msg_z', 'ses_main01', 1, 1, '{}')").run();
    expect(snapshot.get()).toBe((n as number) + 1);
    oc.close();
    rmSync(path + '-wal', { force: true });
    const mtime = new Date(2026, 0, 1);
    utimesSync(path, mtime, mtime);
    const bytes = readFileSync(path);
    await run();
    expect(readFileSync(path).equals(bytes)).toBe(true);
  });
});
