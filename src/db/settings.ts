import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Db } from './open.js';
import { settings } from './schema.js';

/** Small facts every process shares through SQLite (the `settings` table). */

export function readSetting(db: Db, key: string): string | null {
  return db.select({ value: settings.value }).from(settings).where(eq(settings.key, key)).get()?.value ?? null;
}

export function writeSetting(db: Db, key: string, value: string, now: number): void {
  db.insert(settings)
    .values({ key, value, updatedAt: now })
    .onConflictDoUpdate({ target: settings.key, set: { value, updatedAt: now } })
    .run();
}

/** The value of `key`, created once with `make()` if absent (the first process to ask wins). */
function ensureSetting(db: Db, key: string, make: () => string, now: number): string {
  db.insert(settings).values({ key, value: make(), updatedAt: now }).onConflictDoNothing().run();
  return readSetting(db, key) as string;
}

// Made once per database and never changed, so each process reads it once (every send job signs with it).
const callbackKeys = new WeakMap<Db, string>();

/** The key callback URLs are signed with: random, made once per database, never leaves it. */
export function callbackKey(db: Db, now: number): string {
  let key = callbackKeys.get(db);
  if (key === undefined) {
    key = ensureSetting(db, 'callback_key', () => randomBytes(32).toString('base64url'), now);
    callbackKeys.set(db, key);
  }
  return key;
}

/** The Redis incarnation whose queues the queued markers in SQLite describe. */
export const QUEUE_INCARNATION = 'queue_incarnation';
