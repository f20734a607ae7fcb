import type { Statement } from 'better-sqlite3';
import type { Db } from './db.js';

// Statements prepared once per connection, dropped with it.
const statements = new WeakMap<Db, Map<string, Statement>>();

/** A statement prepared once per connection (the dashboard runs the same few on every request). */
export function stmt(db: Db, sql: string): Statement {
  let m = statements.get(db);
  if (!m) statements.set(db, (m = new Map<string, Statement>()));
  let st = m.get(sql);
  if (!st) m.set(sql, (st = db.prepare(sql)));
  return st;
}
