import { createHmac, randomBytes } from 'node:crypto';
import type { Db } from '../../db/open.js';
import {
  deleteAdminSession,
  findLiveAdminSession,
  insertAdminSession,
  purgeExpiredAdminSessions,
} from '../../db/admin-sessions.js';

/**
 * Admin console sessions, kept server-side in `admin_sessions`.
 *
 * The cookie holds a random 256-bit id (base64url). The row's `id_hash` is HMAC-SHA256 of that id
 * under a key derived from ADMIN_TOKEN (the token's fingerprint), so:
 * - the table never holds anything that works as a cookie, nor anything that helps guess the token;
 * - logout deletes the row: a copied cookie stops working everywhere at once;
 * - a new ADMIN_TOKEN finds no stored hash for any old cookie, so rotating the token ends every
 *   session in every process, with no shared state to update; the orphaned rows are purged when they
 *   expire (only a return to the previous token within their 12 hours would find them again).
 * CSRF tokens are MACs of the session id under the same key: bound to one session, and to the token.
 */

/** A session lasts a working day; after that the login form asks for the token again. */
export const SESSION_TTL_MS = 12 * 3600 * 1000;

/** 32 random bytes in base64url: 43 characters. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

/** The key sessions and CSRF tokens are bound with; changes whenever ADMIN_TOKEN does. */
function sessionKey(token: string): Buffer {
  return createHmac('sha256', token).update('rentlink admin session key v2').digest();
}

function sessionIdHash(token: string, id: string): string {
  return createHmac('sha256', sessionKey(token)).update(`session|${id}`, 'utf8').digest('hex');
}

/** Starts a session at sign-in (purging expired ones first) and returns the cookie value. */
export function startSession(db: Db, token: string, now: number): string {
  purgeExpiredAdminSessions(db, now);
  const id = randomBytes(32).toString('base64url');
  insertAdminSession(db, { idHash: sessionIdHash(token, id), createdAt: now, expiresAt: now + SESSION_TTL_MS });
  return id;
}

/** True when the cookie value is a stored, unexpired session started under this token. */
export function sessionIsLive(db: Db, token: string, id: string | undefined, now: number): id is string {
  if (id === undefined || !SESSION_ID.test(id)) return false;
  return findLiveAdminSession(db, sessionIdHash(token, id), now) !== null;
}

/** Ends the session this cookie value names (logout); an unknown value changes nothing. */
export function endSession(db: Db, token: string, id: string | undefined): void {
  if (id !== undefined && SESSION_ID.test(id)) deleteAdminSession(db, sessionIdHash(token, id));
}

/** The CSRF token bound to one session: forms carry it, a cross-site page cannot know it. */
export function csrfTokenFor(token: string, id: string): string {
  return createHmac('sha256', sessionKey(token)).update(`csrf|${id}`, 'utf8').digest('base64url');
}
