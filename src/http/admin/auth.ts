import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { App } from '../../app.js';
import { sendPage } from './views/layout.js';
import { adminOffPage, loginPage } from './views/login.js';

/**
 * Who is asking, once the admin middleware let a request through. `csrf` is the token page forms
 * must echo back when the request came with the session cookie (a Bearer caller needs none: browsers
 * never attach an Authorization header on their own, so a Bearer request cannot be forged cross-site).
 */
export interface AdminAuth {
  via: 'bearer' | 'cookie';
  csrf: string | null;
}

declare module 'hono' {
  interface ContextVariableMap {
    adminAuth: AdminAuth;
  }
}

/** The session cookie's name (Path=/admin, HttpOnly, SameSite=Strict). */
export const SESSION_COOKIE = 'rentlink_admin';
/** A session lasts a working day; after that the login form asks for the token again. */
export const SESSION_TTL_MS = 12 * 3600 * 1000;
const COOKIE_PATH = '/admin';

/**
 * Constant-time token check. Both sides are hashed first so the comparison always runs over 32
 * bytes: `timingSafeEqual` alone throws on different lengths, which would leak the token's length.
 */
export function tokenMatches(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

function mac(key: Buffer, message: string): string {
  return createHmac('sha256', key).update(message, 'utf8').digest('base64url');
}

/**
 * The key sessions are signed with, derived from ADMIN_TOKEN: the cookie never holds the token
 * itself, and rotating the token logs every session out.
 */
function sessionKey(token: string): Buffer {
  return createHmac('sha256', token).update('rentlink admin session key v1').digest();
}

/** A fresh session value: `v1.<issuedAtMs>.<nonce>.<mac>`. Stateless, so any worker process can check it. */
export function issueSession(token: string, now: number): string {
  const body = `v1.${now}.${randomBytes(12).toString('base64url')}`;
  return `${body}.${mac(sessionKey(token), `session|${body}`)}`;
}

/** True when `value` was issued with this token and is younger than SESSION_TTL_MS. */
export function sessionValid(token: string, value: string | undefined, now: number): boolean {
  if (!value) return false;
  const parts = value.split('.');
  if (parts.length !== 4 || parts[0] !== 'v1') return false;
  const issuedAt = Number(parts[1]);
  // abs(): a session "from the future" (a clock moved back) is as suspicious as an old one.
  if (!Number.isSafeInteger(issuedAt) || Math.abs(now - issuedAt) > SESSION_TTL_MS) return false;
  const body = parts.slice(0, 3).join('.');
  return tokenMatches(parts[3] ?? '', mac(sessionKey(token), `session|${body}`));
}

/** The CSRF token bound to one session: forms carry it, a cross-site page cannot know it. */
export function csrfTokenFor(token: string, session: string): string {
  return mac(sessionKey(token), `csrf|${session}`);
}

/** Paths whose callers are programs (our JSON API, bull-board's XHR API): they get JSON, not redirects. */
export function isApiPath(path: string): boolean {
  return path === '/admin/api' || path.startsWith('/admin/api/') || path.startsWith('/admin/queues/api/');
}

const PUBLIC_PATHS = new Set(['/admin/login', '/admin/logout']);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The origins this server answers as: the one the request reached, and PUBLIC_BASE_URL's (behind a proxy). */
function ownOrigins(c: Context, app: App): string[] {
  const origins = [new URL(c.req.url).origin];
  if (app.config.PUBLIC_BASE_URL) origins.push(new URL(app.config.PUBLIC_BASE_URL).origin);
  return origins;
}

/**
 * Rejects cross-site state changes made with the cookie: `Sec-Fetch-Site` (all current browsers) or
 * else `Origin` must say same-origin. Requests that carry neither are not from a browser page.
 */
export function sameOrigin(c: Context, app: App): boolean {
  const site = c.req.header('sec-fetch-site');
  if (site && site !== 'same-origin' && site !== 'none') return false;
  const origin = c.req.header('origin');
  if (origin && !ownOrigins(c, app).includes(origin)) return false;
  return true;
}

function isHttps(c: Context, app: App): boolean {
  return new URL(c.req.url).protocol === 'https:' || (app.config.PUBLIC_BASE_URL ?? '').startsWith('https:');
}

function bearerToken(c: Context): string | null {
  const header = c.req.header('authorization');
  const match = header ? /^Bearer\s+(.+)$/i.exec(header.trim()) : null;
  return match?.[1] ?? null;
}

/** Only same-site admin paths are valid after login, so the form cannot be used as an open redirect. */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || !/^\/admin(?:[/?]|$)/.test(next) || next.includes('\\')) return '/admin';
  if (PUBLIC_PATHS.has(next.split('?')[0] ?? '')) return '/admin';
  return next;
}

function unauthenticated(c: Context): Response {
  if (isApiPath(c.req.path)) {
    c.header('WWW-Authenticate', 'Bearer realm="rentlink admin"');
    return c.json({ error: 'missing or invalid admin token', code: 'UNAUTHORIZED' }, 401);
  }
  const next = SAFE_METHODS.has(c.req.method) ? c.req.path + new URL(c.req.url).search : '/admin';
  return c.redirect(`/admin/login?next=${encodeURIComponent(next)}`, 303);
}

function adminOff(c: Context): Response | Promise<Response> {
  const message = 'The admin console is off until ADMIN_TOKEN is set.';
  if (isApiPath(c.req.path)) return c.json({ error: message, code: 'ADMIN_DISABLED' }, 503);
  return sendPage(c, adminOffPage(message), 503);
}

/** Decides how the request authenticated, or null. A wrong Bearer never falls back to the cookie. */
function authenticate(c: Context, app: App, token: string): AdminAuth | null {
  const bearer = bearerToken(c);
  if (bearer !== null) return tokenMatches(bearer, token) ? { via: 'bearer', csrf: null } : null;
  const session = getCookie(c, SESSION_COOKIE);
  if (!sessionValid(token, session, app.clock.now())) return null;
  return { via: 'cookie', csrf: csrfTokenFor(token, session as string) };
}

/**
 * Guards everything under /admin: 503 while ADMIN_TOKEN is unset, 401 (API) or a redirect to the
 * login form (pages) without valid credentials, 403 for a cross-site state change made with the cookie.
 */
export function adminGuard(app: App): MiddlewareHandler {
  return async (c, next) => {
    const token = app.config.ADMIN_TOKEN;
    if (!token) return adminOff(c);
    // Admin pages show tenants' data and carry action buttons: never cache them, never frame them.
    c.header('Cache-Control', 'no-store');
    c.header('X-Frame-Options', 'DENY');
    c.header('Referrer-Policy', 'same-origin');
    if (PUBLIC_PATHS.has(c.req.path)) return next();
    const auth = authenticate(c, app, token);
    if (!auth) return unauthenticated(c);
    if (auth.via === 'cookie' && !SAFE_METHODS.has(c.req.method) && !sameOrigin(c, app)) {
      return c.json({ error: 'cross-site request refused', code: 'FORBIDDEN' }, 403);
    }
    c.set('adminAuth', auth);
    return next();
  };
}

/** For page form posts: a cookie session must echo its CSRF token (a Bearer caller is exempt, see AdminAuth). */
export function csrfOk(c: Context, submitted: unknown): boolean {
  const auth = c.get('adminAuth');
  if (auth.via === 'bearer') return true;
  return typeof submitted === 'string' && auth.csrf !== null && tokenMatches(submitted, auth.csrf);
}

/** `GET/POST /admin/login` and `POST /admin/logout`. */
export function registerLoginRoutes(http: Hono, app: App): void {
  http.get('/admin/login', (c) => sendPage(c, loginPage({ next: safeNext(c.req.query('next')) })));

  http.post('/admin/login', async (c) => {
    const token = app.config.ADMIN_TOKEN as string; // the guard answered 503 when unset
    const form = await c.req.parseBody();
    const next = safeNext(form['next']);
    // Login CSRF: a cross-site page must not be able to log the victim into a session of its choice.
    if (!sameOrigin(c, app)) return sendPage(c, loginPage({ next, error: 'Cross-site login refused.' }), 403);
    if (typeof form['token'] !== 'string' || !tokenMatches(form['token'], token)) {
      app.logger.warn({ ip: c.req.header('x-forwarded-for') ?? null }, 'admin login failed');
      return sendPage(c, loginPage({ next, error: 'That token is not right.' }), 401);
    }
    setCookie(c, SESSION_COOKIE, issueSession(token, app.clock.now()), {
      path: COOKIE_PATH,
      httpOnly: true,
      sameSite: 'Strict',
      secure: isHttps(c, app),
      maxAge: SESSION_TTL_MS / 1000,
    });
    return c.redirect(next, 303);
  });

  http.post('/admin/logout', (c) => {
    // Logging someone out cross-site is a nuisance, not a breach, but refuse it all the same.
    if (!sameOrigin(c, app)) return c.text('cross-site request refused', 403);
    deleteCookie(c, SESSION_COOKIE, { path: COOKIE_PATH, secure: isHttps(c, app) });
    return c.redirect('/admin/login', 303);
  });
}
