import { getTableColumns, type Table } from 'drizzle-orm';

/**
 * Row shapes for plain SQL on the hot paths: the column list of a schema table, aliased to the
 * property names drizzle gives its rows, so a prepared statement returns the same `Charge`, `Lease`,
 * `PaymentLink` objects the query builder would (every column here is a plain INTEGER or TEXT, which
 * better-sqlite3 returns as drizzle does). Built from src/db/schema.ts, so a new column needs no edit.
 */

const lists = new WeakMap<Table, Map<string, string>>();
const keysOf = new WeakMap<Table, Array<[string, string]>>();

function columnKeys(table: Table): Array<[string, string]> {
  let keys = keysOf.get(table);
  if (!keys) {
    keys = Object.entries(getTableColumns(table)).map(([key, column]) => [key, column.name]);
    keysOf.set(table, keys);
  }
  return keys;
}

/**
 * `alias."column" AS "key", …` for every column of `table` (no `alias.` when it is empty, as RETURNING
 * needs). With `prefix`, the keys are `prefix.key` (for a join: split the row again with {@link pickRow}).
 */
export function selectList(table: Table, alias: string, prefix?: string): string {
  let byAlias = lists.get(table);
  if (!byAlias) {
    byAlias = new Map();
    lists.set(table, byAlias);
  }
  const id = `${alias}|${prefix ?? ''}`;
  let list = byAlias.get(id);
  if (!list) {
    list = columnKeys(table)
      .map(([key, name]) => `${alias ? `${alias}.` : ''}"${name}" AS "${prefix ? `${prefix}.${key}` : key}"`)
      .join(', ');
    byAlias.set(id, list);
  }
  return list;
}

/** The columns of `table` selected under `prefix` (see {@link selectList}), as one row object. */
export function pickRow<T>(raw: Record<string, unknown>, table: Table, prefix: string): T {
  const row: Record<string, unknown> = {};
  for (const [key] of columnKeys(table)) row[key] = raw[`${prefix}.${key}`];
  return row as T;
}
