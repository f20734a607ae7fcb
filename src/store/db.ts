import Database from 'better-sqlite3';
import { readdirSync, readFileSync } from 'node:fs';
import { ensurePrivateFile, privateDir, privateFile } from './private.js';
import { dirname, join } from 'node:path';
import { SuError } from '../errors.js';
import { packageRoot } from '../paths.js';
import { sqliteAddon } from '../util/sqlite.js';

export type Db = Database.Database;

/** Migrations live at the package root (shipped with the package), numbered NNN_name.sql; numbering may be sparse. */
export const MIGRATIONS_DIR = join(packageRoot(), 'migrations');

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** The migration files in `dir`, in order, without their contents. */
function migrationFiles(dir: string): Array<Omit<Migration, 'sql'>> {
  return readdirSync(dir)
    .filter((f) => /^\d+_.+\.sql$/.test(f))
    .map((f) => ({ version: Number(f.split('_')[0]), name: f }))
    .sort((a, b) => a.version - b.version);
}

export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return migrationFiles(dir).map((m) => ({ ...m, sql: readFileSync(join(dir, m.name), 'utf8') }));
}

/**
 * Applies pending migrations in order, each in its own transaction, recording applied versions.
 * Without a list, the files in MIGRATIONS_DIR; only pending ones are read, since every command
 * opens the store and the store is almost always current.
 */
export function migrate(db: Db, migrations?: Migration[], onUpgrade?: (steps: number) => void): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
  const applied = new Set(db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[]);
  const done: number[] = [];
  const list: Array<Omit<Migration, 'sql'> & { sql?: string }> = migrations ?? migrationFiles(MIGRATIONS_DIR);
  // A store a newer version has migrated: its tables may no longer be what this code reads and
  // writes (044 renamed columns), so stop with a clear error before any statement fails or misleads.
  if (!migrations) {
    const known = list.length ? list[list.length - 1].version : 0;
    const newest = Math.max(0, ...applied);
    if (newest > known) {
      throw new SuError('STORE', `the store was upgraded by a newer stackunderflow (schema ${newest}; this version knows up to ${known})`, {
        hint: 'install the newer stackunderflow again, or set STACKUNDERFLOW_HOME to another folder for this version',
      });
    }
  }
  const pending = list.filter((m) => !applied.has(m.version));
  if (pending.length === 0) return done;
  // A new store is created in milliseconds; an existing one may be rewritten (044 takes ~10 s on 1 GB).
  if (applied.size > 0) onUpgrade?.(pending.length);
  // A migration that rewrites every event (035, 044) dirties the random-keyed uid index all over:
  // with the default page cache those pages spilled to the WAL again and again. A ceiling, filled
  // only as pages are touched, restored afterwards.
  const cacheSize = db.pragma('cache_size', { simple: true }) as number;
  db.pragma(`cache_size = ${MIGRATION_CACHE_KIB}`);
  try {
    for (const m of pending) {
      const sql = m.sql ?? readFileSync(join(MIGRATIONS_DIR, m.name), 'utf8');
      db.transaction(() => {
        db.exec(sql);
        db.prepare('INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, new Date().toISOString());
      })();
      done.push(m.version);
    }
  } finally {
    db.pragma(`cache_size = ${cacheSize}`);
  }
  return done;
}


/** Page cache while migrating, as SQLite's negative KiB (256 MiB). */
const MIGRATION_CACHE_KIB = -262_144;

/**
 * Opens (creating if needed) the store: WAL mode, migrations applied, a device id assigned.
 * `onUpgrade` hears, before it starts, that an existing store is being brought up to date.
 */
export function openDb(path: string, opts: { readonly?: boolean; onUpgrade?: (steps: number) => void } = {}): Db {
  const onDisk = path !== ':memory:' && !opts.readonly;
  if (onDisk) {
    // The store's folder is the stackunderflow home: private, and so is the store (SQLite gives
    // its -wal and -shm the database file's mode).
    privateDir(dirname(path));
    ensurePrivateFile(path);
  }
  let db: Db;
  try {
    // better-sqlite3 takes a loaded addon as well as a path; its types know only the path.
    db = new Database(path, { readonly: opts.readonly ?? false, nativeBinding: sqliteAddon() as string });
  } catch (cause) {
    throw new SuError('STORE', `cannot open the store at ${path}: ${(cause as Error).message}`, {
      hint: 'check the path and its permissions, or point STACKUNDERFLOW_HOME elsewhere',
      cause,
    });
  }
  db.pragma('busy_timeout = 5000');
  // Statement journals and sort/group B-trees in memory, not in temp files: an upsert into
  // events keeps a statement journal, and in a file every statement paid for page writes
  // (a third of a 1 M-event pull's time was spent in the kernel writing them).
  db.pragma('temp_store = MEMORY');
  if (!opts.readonly) {
    // 16 KiB pages for a new store (no effect on an existing one): events average ~1.7 KB with a
    // long tail, and with 4 KiB pages many spilled into overflow chains; a 1 M-event landing took
    // ~20 % less CPU and its commit wrote less. It must be set before WAL mode creates the file.
    db.pragma('page_size = 16384');
    db.pragma('journal_mode = WAL');
    // Left by an older version or another umask: the WAL holds recent rows in clear.
    for (const side of ['-wal', '-shm']) privateFile(path + side);
    db.pragma('synchronous = NORMAL');
    try {
      migrate(db, undefined, opts.onUpgrade);
    } catch (err) {
      db.close();
      throw err;
    }
    ensureDeviceId(db);
  }
  return db;
}


export function getMeta(db: Db, key: string): string | undefined {
  const row = db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
  return row?.value;
}

export function setMeta(db: Db, key: string, value: string): void {
  db.prepare('INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
}

/** A random, stable id for this store's device: 16 hex chars. It names the device's folder in a bucket. */
export function ensureDeviceId(db: Db): string {
  let id = getMeta(db, 'device_id');
  if (!id) {
    // Web Crypto's global, not node:crypto: loading that module costs every command ~7 ms at start, for a value made once.
    id = Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(8))).toString('hex');
    setMeta(db, 'device_id', id);
  }
  return id;
}

const tables = new WeakMap<Db, Set<string>>();
/** Whether the store has a table (read once per connection: the schema is fixed once migrated). */
export function hasTable(db: Db, name: string): boolean {
  let known = tables.get(db);
  if (!known) tables.set(db, (known = new Set(db.prepare(`SELECT name FROM sqlite_master WHERE type IN ('table')`).pluck().all() as string[])));
  return known.has(name);
}
