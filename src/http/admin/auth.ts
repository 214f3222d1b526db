import type { Context, Hono, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { App } from '../../app.js';
import { secretsEqual } from '../../secrets.js';
import { clientKey, LoginThrottle } from './login-throttle.js';
import { csrfTokenFor, endSession, SESSION_TTL_MS, sessionIsLive, startSession } from './sessions.js';
import { sendPage } from './views/layout.js';
import { adminOffPage, loginPage } from './views/login.js';

export { SESSION_TTL_MS } from './sessions.js';

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

/** The session cookie's name (Path=/admin, HttpOnly, SameSite=Strict). It holds a random session id. */
const SESSION_COOKIE = 'rentlink_admin';
const COOKIE_PATH = '/admin';

/** Paths whose callers are programs (our JSON API, bull-board's XHR API): they get JSON, not redirects. */
function isApiPath(path: string): boolean {
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
function sameOrigin(c: Context, app: App): boolean {
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

/**
 * Only same-site admin paths are valid after login, so the form cannot be used as an open redirect;
 * and only printable ASCII, so a CR/LF or other control character can never reach a Location header.
 */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || !/^\/admin(?:[/?]|$)/.test(next) || next.includes('\\')) return '/admin';
  if (!/^[\x21-\x7e]*$/.test(next)) return '/admin';
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
  if (bearer !== null) return secretsEqual(bearer, token) ? { via: 'bearer', csrf: null } : null;
  const session = getCookie(c, SESSION_COOKIE);
  if (!sessionIsLive(app.db, token, session, app.clock.now())) return null;
  return { via: 'cookie', csrf: csrfTokenFor(token, session) };
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
  return typeof submitted === 'string' && auth.csrf !== null && secretsEqual(submitted, auth.csrf);
}

/** `Try again in 5 minutes (after 06:05:00 UTC).` */
function tryAgainText(waitMs: number, now: number): string {
  const minutes = Math.ceil(waitMs / 60_000);
  const at = new Date(now + waitMs).toISOString().slice(11, 19);
  return `Try again in ${minutes} minute${minutes === 1 ? '' : 's'} (after ${at} UTC).`;
}

function tooManyAttempts(c: Context, next: string, waitMs: number, now: number): Response | Promise<Response> {
  c.header('Retry-After', String(Math.ceil(waitMs / 1000)));
  const error = `Too many wrong tokens from your address. ${tryAgainText(waitMs, now)}`;
  return sendPage(c, loginPage({ next, error }), 429);
}

/**
 * `GET/POST /admin/login` and `POST /admin/logout`. Sign-in is throttled per client (see
 * login-throttle.ts): a blocked client gets 429 without its token being looked at.
 */
export function registerLoginRoutes(http: Hono, app: App): void {
  const throttle = new LoginThrottle();
  http.get('/admin/login', (c) => sendPage(c, loginPage({ next: safeNext(c.req.query('next')) })));

  http.post('/admin/login', async (c) => {
    const token = app.config.ADMIN_TOKEN as string; // the guard answered 503 when unset
    const form = await c.req.parseBody();
    const next = safeNext(form['next']);
    // Login CSRF: a cross-site page must not be able to log the victim into a session of its choice.
    if (!sameOrigin(c, app)) return sendPage(c, loginPage({ next, error: 'Cross-site login refused.' }), 403);
    const client = clientKey(c, app.config.TRUST_PROXY);
    const now = app.clock.now();
    const waitMs = throttle.retryAfterMs(client, now);
    if (waitMs > 0) return tooManyAttempts(c, next, waitMs, now);
    if (typeof form['token'] !== 'string' || !secretsEqual(form['token'], token)) {
      throttle.recordFailure(client, now);
      app.logger.warn({ client }, 'admin login failed');
      return sendPage(c, loginPage({ next, error: 'That token is not right.' }), 401);
    }
    throttle.recordSuccess(client);
    setCookie(c, SESSION_COOKIE, startSession(app.db, token, now), {
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
    // The row goes, so a copy of the cookie stops working too.
    endSession(app.db, app.config.ADMIN_TOKEN as string, getCookie(c, SESSION_COOKIE));
    deleteCookie(c, SESSION_COOKIE, { path: COOKIE_PATH, secure: isHttps(c, app) });
    return c.redirect('/admin/login', 303);
  });
}
