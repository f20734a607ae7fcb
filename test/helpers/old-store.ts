import { loadMigrations, type Db } from '../../src/store/db.js';

/**
 * Puts a current store back in the form the version before migration 044 left it: uid and chash
 * as hex text, 035's billed_lines view, 044 not applied. Opening it again runs 044.
 */
export function asBefore044(db: Db): void {
  const sql = loadMigrations().find((m) => m.version === 35)!.sql;
  const start = sql.indexOf('CREATE VIEW billed_lines AS');
  const view035 = sql.slice(start, sql.indexOf(';', start) + 1);
  db.exec(`UPDATE events SET uid = lower(hex(uid)), chash = lower(hex(chash));
    DROP VIEW billed_lines; ${view035}
    DELETE FROM schema_migrations WHERE version = 44;`);
}
