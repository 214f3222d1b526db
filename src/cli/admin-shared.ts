import { createApp, type App } from '../app.js';
import type { Clock } from '../time/clock.js';
import { closeDb, openDb, type Db } from '../db/open.js';
import type { Config } from '../config.js';
import type { Page } from '../operations/rows.js';
import { createRegistry, type AccountRegistry } from '../providers/registry.js';
import { commandEnv, text, withIsoInstants } from './shared.js';

/** Plumbing for the operator commands: opening what a command needs and closing it again. */

/** What a SQLite-only command gets: the accounts are known (their rules), but no provider is called. */
export interface DbContext {
  db: Db;
  clock: Clock;
  config: Config;
  registry: AccountRegistry;
}

/** For commands that touch SQLite only: no Redis, no provider call. */
export async function withDb(fn: (ctx: DbContext) => void | Promise<void>): Promise<void> {
  const env = commandEnv();
  const db = openDb(env.config.DATABASE_PATH);
  try {
    const registry = createRegistry(env.config.accounts, {
      clock: env.clock,
      timeoutMs: env.config.PROVIDER_TIMEOUT_MS,
    });
    await fn({ db, clock: env.clock, config: env.config, registry });
  } finally {
    closeDb(db);
  }
}

/** For commands that need the queues (retry, reissue): the whole App, closed afterwards. */
export async function withApp(fn: (app: App) => Promise<void>): Promise<void> {
  const app = await createApp(commandEnv());
  try {
    await fn(app);
  } finally {
    await app.close();
  }
}

/** `key  value` lines under a title, for one record. */
export function printDetail(title: string, fields: Record<string, unknown>): void {
  const record = withIsoInstants(fields);
  const keys = Object.keys(record);
  const width = Math.max(...keys.map((k) => k.length));
  const lines = keys.map((k) => `  ${k.padEnd(width)}  ${text(record[k])}`);
  process.stdout.write(`${title}\n${lines.join('\n')}\n`);
}

/** "rows 1–50 of 1,234; next: --offset 50" on stderr, when the list has more than this page. */
export function notePage(page: Page<unknown>): void {
  if (page.offset === 0 && page.total <= page.rows.length) return;
  const to = page.offset + page.rows.length;
  const next = to < page.total ? `; next page: --offset ${to}` : '';
  process.stderr.write(`rows ${page.rows.length ? page.offset + 1 : 0}–${to} of ${page.total}${next}\n`);
}
