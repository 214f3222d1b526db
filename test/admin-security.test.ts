import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { adminSessions } from '../src/db/schema.js';
import { LoginThrottle, normalizeAddress } from '../src/http/admin/login-throttle.js';
import { registerAdminRoutes } from '../src/http/admin/routes.js';
import { createHttpApp } from '../src/http/server.js';
import { assertPeriod } from '../src/operations/rows.js';
import { HOUR, MINUTE } from '../src/time/clock.js';
import { createHarness, csvOf, leaseLine, type Harness } from './helpers/harness.js';

/** Issue #8 item 8: throttled login, a real token, server-side sessions, and no 500 from odd input. */

const TOKEN = 'security-admin-token-0123456789';

let h: Harness;
let base: string;
/** A distinct client address per test: this harness trusts X-Forwarded-For (TRUST_PROXY=true). */
let nextClient = 1;
const newClient = () => `203.0.113.${nextClient++}`;

beforeAll(async () => {
  h = await createHarness({
    now: '2026-12-10T06:00:00Z',
    http: true,
    extraRoutes: [registerAdminRoutes],
    env: { ADMIN_TOKEN: TOKEN, TRUST_PROXY: 'true' },
  });
  base = h.http?.url ?? '';
  // One open charge, so the dashboard shows buttons (forms carrying the session's CSRF token).
  h.importCsv(csvOf(leaseLine({ lease_ref: 'SEC-1' })));
  await h.tickAndSettle();
});
afterAll(async () => h?.close());

function login(token: string, client: string, next = '/admin') {
  return fetch(`${base}/admin/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': client },
    body: `token=${encodeURIComponent(token)}&next=${encodeURIComponent(next)}`,
  });
}

/** Signs in and returns the `name=value` cookie pair. */
async function session(client = newClient()): Promise<string> {
  const res = await login(TOKEN, client);
  expect(res.status).toBe(303);
  return (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
}

const page = (path: string, cookie: string) => fetch(base + path, { headers: { cookie }, redirect: 'manual' });
const sessionRows = () => h.app.db.select().from(adminSessions).all();

describe('login throttle', () => {
  it('after 5 wrong tokens a client gets 429 with Retry-After, even with the right token, until the window passes', async () => {
    const client = newClient();
    for (let i = 0; i < 5; i++) expect((await login('wrong-token-wrong-token', client)).status).toBe(401);
    const blocked = await login(TOKEN, client);
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get('retry-after')).toBe('300');
    expect(blocked.headers.get('set-cookie')).toBeNull();
    expect(await blocked.text()).toContain('Try again in 5 minutes (after 06:05:00 UTC)');
    // Another client is not affected.
    expect((await login('wrong-token-wrong-token', newClient())).status).toBe(401);
    h.clock.advance(4 * MINUTE);
    expect((await login(TOKEN, client)).headers.get('retry-after')).toBe('60');
    h.clock.advance(MINUTE);
    expect((await login(TOKEN, client)).status).toBe(303);
  });

  it('a success resets the count', async () => {
    const client = newClient();
    for (let i = 0; i < 4; i++) expect((await login('wrong-token-wrong-token', client)).status).toBe(401);
    expect((await login(TOKEN, client)).status).toBe(303);
    for (let i = 0; i < 4; i++) expect((await login('wrong-token-wrong-token', client)).status).toBe(401);
    expect((await login(TOKEN, client)).status).toBe(303);
  });

  it('without TRUST_PROXY, X-Forwarded-For is ignored: the socket address is the client', async () => {
    const direct = await createHarness({
      now: '2026-12-10T06:00:00Z',
      http: true,
      extraRoutes: [registerAdminRoutes],
      env: { ADMIN_TOKEN: TOKEN },
    });
    try {
      const attempt = (forwarded: string) =>
        fetch(`${direct.http?.url}/admin/login`, {
          method: 'POST',
          redirect: 'manual',
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': forwarded },
          body: 'token=wrong-token-wrong-token&next=%2Fadmin',
        });
      for (let i = 0; i < 5; i++) expect((await attempt(`198.51.100.${i}`)).status).toBe(401);
      expect((await attempt('198.51.100.99')).status).toBe(429);
    } finally {
      await direct.close();
    }
  });
});

describe('LoginThrottle', () => {
  it('remembers at most maxClients addresses, forgetting the least recently failing first', () => {
    const throttle = new LoginThrottle({ maxFailures: 2, windowMs: 1000, maxClients: 3 });
    for (const client of ['a', 'b', 'c']) throttle.recordFailure(client, 0);
    throttle.recordFailure('a', 1); // a is now the most recent
    throttle.recordFailure('d', 2); // evicts b
    expect(throttle.size).toBe(3);
    expect(throttle.retryAfterMs('a', 3)).toBe(997);
    throttle.recordFailure('b', 3);
    expect(throttle.retryAfterMs('b', 3)).toBe(0); // b started afresh
    expect(throttle.size).toBe(3);
  });

  it('keys IPv4-mapped IPv6 as IPv4 and IPv6 by its /64', () => {
    expect(normalizeAddress('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(normalizeAddress('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(normalizeAddress('2001:0db8:0001:0002:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(normalizeAddress('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(normalizeAddress('1:2::3:4:5:1.2.3.4')).toBe('1:2:0:3::/64');
    expect(normalizeAddress('x'.repeat(500))).toHaveLength(64);
  });
});

describe('ADMIN_TOKEN', () => {
  it('must be at least 16 characters: a clear CONFIG_INVALID naming it and the minimum, not the value', () => {
    for (const short of ['x', 'change-me', '123456789012345']) {
      let error: unknown;
      try {
        loadConfig({ ADMIN_TOKEN: short });
      } catch (err) {
        error = err;
      }
      expect(error).toMatchObject({ code: 'CONFIG_INVALID' });
      expect((error as Error).message).toMatch(/ADMIN_TOKEN: must be at least 16 characters/);
      expect((error as Error).message).not.toContain(short);
    }
    expect(loadConfig({ ADMIN_TOKEN: '1234567890123456' }).ADMIN_TOKEN).toBe('1234567890123456');
    expect(loadConfig({ ADMIN_TOKEN: '' }).ADMIN_TOKEN).toBeUndefined();
  });

  it('TRUST_PROXY is false unless set to true, and refuses anything else', () => {
    expect(loadConfig({}).TRUST_PROXY).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'true' }).TRUST_PROXY).toBe(true);
    expect(loadConfig({ TRUST_PROXY: 'false' }).TRUST_PROXY).toBe(false);
    expect(() => loadConfig({ TRUST_PROXY: 'maybe' })).toThrow(/TRUST_PROXY: must be true or false/);
  });
});

describe('server-side sessions', () => {
  it('the cookie is a random 256-bit id; the table holds only its hash, with the expiry', async () => {
    const before = sessionRows().length;
    const cookie = await session();
    const id = cookie.replace(/^rentlink_admin=/, '');
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const rows = sessionRows();
    expect(rows).toHaveLength(before + 1);
    const row = rows.at(-1);
    expect(row?.idHash).toMatch(/^[0-9a-f]{64}$/);
    expect(rows.some((r) => r.idHash.includes(id) || id.includes(r.idHash))).toBe(false);
    expect(row?.expiresAt).toBe(h.clock.now() + 12 * HOUR);
    expect((await page('/admin', cookie)).status).toBe(200);
  });

  it('logout deletes the session: the copied cookie no longer opens anything', async () => {
    const cookie = await session();
    const rows = sessionRows().length;
    expect((await page('/admin', cookie)).status).toBe(200);
    const out = await fetch(`${base}/admin/logout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, origin: base },
    });
    expect(out.status).toBe(303);
    expect(out.headers.get('set-cookie')).toMatch(/rentlink_admin=;/);
    expect(sessionRows()).toHaveLength(rows - 1);
    const reused = await page('/admin', cookie);
    expect(reused.status).toBe(303);
    expect(reused.headers.get('location')).toMatch(/^\/admin\/login\?next=/);
    const api = await fetch(`${base}/admin/api/charges`, { headers: { cookie } });
    expect(api.status).toBe(401);
  });

  it('a session expires after 12 hours, and expired rows are purged at the next login', async () => {
    const cookie = await session();
    h.clock.advance(12 * HOUR + 1000);
    expect((await page('/admin', cookie)).status).toBe(303);
    expect(sessionRows().some((r) => r.expiresAt <= h.clock.now())).toBe(true);
    await session();
    expect(sessionRows().every((r) => r.expiresAt > h.clock.now())).toBe(true);
  });

  it('a cookie the table does not know is refused', async () => {
    const forged = `rentlink_admin=${'A'.repeat(43)}`;
    expect((await page('/admin', forged)).status).toBe(303);
    expect((await page('/admin', 'rentlink_admin=v1.1.x.y')).status).toBe(303);
  });

  it('a new ADMIN_TOKEN ends every session, in every process on the same database', async () => {
    const cookie = await session();
    const rotated = createHttpApp(
      { ...h.app, config: { ...h.app.config, ADMIN_TOKEN: 'a-brand-new-admin-token-42' } },
      [registerAdminRoutes],
    );
    const res = await rotated.request('/admin', { headers: { cookie } });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toMatch(/^\/admin\/login/);
    expect((await page('/admin', cookie)).status).toBe(200); // the process with the old token still knows it
  });

  it('CSRF tokens stay bound to their session', async () => {
    const first = await session();
    const second = await session();
    const csrfOf = async (cookie: string) =>
      /name="_csrf" value="([^"]+)"/.exec(await (await page('/admin', cookie)).text())?.[1] ?? '';
    const [csrf1, csrf2] = [await csrfOf(first), await csrfOf(second)];
    expect(csrf1).not.toBe('');
    expect(csrf1).not.toBe(csrf2);
    const voidWith = (cookie: string, csrf: string) =>
      fetch(`${base}/admin/charges/999/void`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie, origin: base, 'content-type': 'application/x-www-form-urlencoded' },
        body: `_csrf=${encodeURIComponent(csrf)}&reason=test&back=%2Fadmin`,
      });
    expect((await voidWith(second, csrf1)).status).toBe(403);
    expect((await voidWith(second, csrf2)).status).toBe(303);
  });
});

describe('odd input never gives a 500', () => {
  it('a next with CR/LF or other control characters falls back to /admin', async () => {
    for (const next of [
      '/admin?\r\nSet-Cookie:x',
      '/admin/\r\nSet-Cookie:x',
      '/admin?x=\u0000',
      '/admin/\u007f',
      '/admin?\u0085',
    ]) {
      const res = await login(TOKEN, newClient(), next);
      expect(res.status, JSON.stringify(next)).toBe(303);
      expect(res.headers.get('location'), JSON.stringify(next)).toBe('/admin');
    }
    const form = await fetch(`${base}/admin/login?next=%2Fadmin%3F%0d%0aSet-Cookie:x`);
    expect(form.status).toBe(200);
    expect(await form.text()).toContain('name="next" value="/admin"');
  });

  it('a page button whose back field carries CR/LF redirects to /admin', async () => {
    const cookie = await session();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await (await page('/admin', cookie)).text())?.[1] ?? '';
    const res = await fetch(`${base}/admin/charges/999/void`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, origin: base, 'content-type': 'application/x-www-form-urlencoded' },
      body: `_csrf=${encodeURIComponent(csrf)}&reason=test&back=${encodeURIComponent('/admin?\r\nSet-Cookie:x')}`,
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin');
  });

  it('the dashboard answers 400 for periods outside 1970-01 … 2999-12, and the API too', async () => {
    const cookie = await session();
    for (const period of ['0000-01', '1969-12', '3000-01', '2026-13', '2026-00', 'garbage']) {
      const res = await page(`/admin?period=${period}`, cookie);
      expect(res.status, period).toBe(400);
      expect(await res.text(), period).toContain('a year from 1970 to 2999');
      const api = await fetch(`${base}/admin/api/charges?period=${period}`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(api.status, period).toBe(400);
    }
    for (const period of ['1970-01', '2999-12', '2026-12'])
      expect((await page(`/admin?period=${period}`, cookie)).status).toBe(200);
    expect((await page('/admin?period=', cookie)).status).toBe(200);
  });

  it('assertPeriod (admin and CLI) accepts years 1970–2999 and months 01–12 only', () => {
    for (const period of ['1970-01', '2026-12', '2999-12']) expect(assertPeriod(period)).toBe(period);
    for (const period of ['0000-01', '1969-12', '3000-01', '9999-12', '2026-13'])
      expect(() => assertPeriod(period), period).toThrow(/year from 1970 to 2999/);
  });
});
