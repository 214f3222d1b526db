import type Database from 'better-sqlite3';

/**
 * Prepared statements, compiled once per connection. Drizzle's query builder builds and prepares a new
 * statement for every call; on the hot paths (the tick over 100,000 leases, every send and status job)
 * that was most of the time measured (`npm run bench`), so those paths use plain SQL prepared here.
 */
const cache = new WeakMap<Database.Database, Map<string, Database.Statement>>();

/** The statement for `sql` on this connection, prepared on first use and reused after. */
export function prepared(db: Database.Database, sql: string): Database.Statement {
  let statements = cache.get(db);
  if (!statements) {
    statements = new Map();
    cache.set(db, statements);
  }
  let statement = statements.get(sql);
  if (!statement) {
    statement = db.prepare(sql);
    statements.set(sql, statement);
  }
  return statement;
}
