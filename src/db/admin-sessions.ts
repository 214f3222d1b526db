import { and, eq, gt, lte } from 'drizzle-orm';
import type { Db } from './open.js';
import { adminSessions } from './schema.js';

/**
 * The `admin_sessions` table: one row per signed-in admin console session. The cookie holds a random
 * id; the table holds only a hash of it (computed by the caller, see src/http/admin/sessions.ts), so
 * a copy of the database opens nothing, and deleting the row ends the session in every process.
 */

/** A stored session. Instants are epoch ms. */
export type AdminSession = typeof adminSessions.$inferSelect;

/** Stores a new session. */
export function insertAdminSession(db: Db, session: AdminSession): void {
  db.insert(adminSessions).values(session).run();
}

/** The session with this hash when it has not expired at `now`, else null. */
export function findLiveAdminSession(db: Db, idHash: string, now: number): AdminSession | null {
  return (
    db
      .select()
      .from(adminSessions)
      .where(and(eq(adminSessions.idHash, idHash), gt(adminSessions.expiresAt, now)))
      .get() ?? null
  );
}

/** Ends a session (logout). Returns whether it existed. */
export function deleteAdminSession(db: Db, idHash: string): boolean {
  return db.delete(adminSessions).where(eq(adminSessions.idHash, idHash)).run().changes > 0;
}

/** Deletes every session expired at `now` (called opportunistically, at sign-in); returns how many. */
export function purgeExpiredAdminSessions(db: Db, now: number): number {
  return db.delete(adminSessions).where(lte(adminSessions.expiresAt, now)).run().changes;
}
