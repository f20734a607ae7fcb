import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

let addon: string | object | null = null;
/**
 * better-sqlite3's compiled addon, named directly: left to find it, better-sqlite3 asks the
 * `bindings` package, which probes a dozen paths and walks a stack trace on every start.
 * Where npm's install did not put it, `bindings` searches better-sqlite3's folder, named
 * here too: the bin carries better-sqlite3's JavaScript inside itself (scripts/build-cli.mjs),
 * and `bindings` would otherwise search the folder of its caller, ours.
 */
export function sqliteAddon(): string | object {
  if (addon !== null) return addon;
  const pkgDir = dirname(createRequire(import.meta.url).resolve('better-sqlite3/package.json'));
  const file = join(pkgDir, 'build', 'Release', 'better_sqlite3.node');
  if (existsSync(file)) return (addon = file);
  const bindings = createRequire(join(pkgDir, 'package.json'))('bindings') as (o: object) => object;
  return (addon = bindings({ bindings: 'better_sqlite3.node', module_root: pkgDir }));
}

/**
 * Opens another program's SQLite database (an agent's log) read-only: nothing is migrated or
 * written, and a lock is waited for at most `timeoutMs`. Through the same addon as the store.
 */
export function openReadOnly(path: string, timeoutMs: number): Database.Database {
  return new Database(path, { readonly: true, fileMustExist: true, timeout: timeoutMs, nativeBinding: sqliteAddon() as string });
}
