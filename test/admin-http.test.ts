import { createHmac } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAdminRoutes } from '../src/http/admin/routes.js';
import { HOUR } from '../src/time/clock.js';
import { charges, events, leases } from '../src/db/schema.js';
import type { Fault } from '../src/sandbox/server.js';
import { createHarness, csvOf, leaseLine, type Harness } from './helpers/harness.js';

const TOKEN = 'test-admin-token-0123456789';
const BAD_MOBILE: Fault = {
  kind: 'reject',
  message: 'Invalid data',
  errors: [{ Name: 'CustomerMobile', Error: 'Mobile number is not valid' }],
};

/** Page routes: without valid credentials they redirect to the login form. */
const PAGE_ROUTES: Array<[method: string, path: string]> = [
  ['GET', '/admin'],
  ['GET', '/admin/charges/1'],
  ['POST', '/admin/charges/1/reissue'],
  ['POST', '/admin/charges/1/void'],
  ['POST', '/admin/jobs/retry'],
  ['GET', '/admin/queues'],
  ['GET', '/admin/queues/queue/send'],
  ['GET', '/admin/queues/static/favicon-32x32.png'],
  ['GET', '/admin/no-such-page'],
];

/** Program routes (our API and bull-board's XHR API): 401 JSON. */
const API_ROUTES: Array<[method: string, path: string]> = [
  ['GET', '/admin/api/failed-jobs'],
  ['POST', '/admin/api/jobs/retry'],
  ['GET', '/admin/api/charges'],
  ['GET', '/admin/api/charges/1'],
  ['POST', '/admin/api/charges/1/reissue'],
  ['POST', '/admin/api/charges/1/void'],
  ['GET', '/admin/api/report'],
  ['GET', '/admin/api/attention'],
  ['GET', '/admin/queues/api/queues'],
];

/** A stateless session as rentlink signed them before sessions moved into admin_sessions, with the real token. */
function oldStyleSession(): string {
  const key = createHmac('sha256', TOKEN).update('rentlink admin session key v1').digest();
  const body = `v1.${Date.parse('2026-12-10T06:00:00Z')}.AAAAAAAAAAAAAAAA`;
  return `rentlink_admin=${body}.${createHmac('sha256', key).update(`session|${body}`).digest('base64url')}`;
}

const BAD_CREDENTIALS: Array<[label: string, headers: Record<string, string>]> = [
  ['no credentials', {}],
  ['a wrong Bearer token', { authorization: 'Bearer not-the-token' }],
  ['the token with one character changed', { authorization: `Bearer ${TOKEN.slice(0, -1)}X` }],
  ['a session id the server never issued', { cookie: `rentlink_admin=${'x'.repeat(43)}` }],
  ['an old-style signed session cookie', { cookie: oldStyleSession() }],
  ['the raw token as the cookie', { cookie: `rentlink_admin=${TOKEN}` }],
];

let h: Harness;
let base: string;

async function call(method: string, path: string, options: { headers?: Record<string, string>; body?: unknown } = {}) {
  const headers: Record<string, string> = { ...options.headers };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  return fetch(base + path, {
    method,
    headers,
    redirect: 'manual',
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : method === 'POST' ? { body: '' } : {}),
  });
}

const api = (method: string, path: string, body?: unknown) =>
  call(method, path, { headers: { authorization: `Bearer ${TOKEN}` }, body });
const chargeOf = (ref: string) =>
  h.app.db
    .select({ c: charges })
    .from(charges)
    .innerJoin(leases, eq(leases.id, charges.leaseId))
    .where(eq(leases.ref, ref))
    .get()?.c;

beforeAll(async () => {
  h = await createHarness({
    now: '2026-12-10T06:00:00Z',
    http: true,
    extraRoutes: [registerAdminRoutes],
    env: { ADMIN_TOKEN: TOKEN },
  });
  base = h.http?.url ?? '';
  // The rejected send first and alone, so the injected fault cannot land on another lease's request.
  h.importCsv(csvOf(leaseLine({ lease_ref: 'KW-BAD', tenant_name: 'Bad Mobile', starts_on: '2026-12-01' })));
  h.sandbox.injectFault('SendPayment', BAD_MOBILE, 1);
  await h.tickAndSettle();
  h.importCsv(
    csvOf(
      leaseLine({
        lease_ref: 'KW-PAID',
        tenant_name: 'فاطمة العلي',
        language: 'ar',
        amount: '450.750',
        starts_on: '2026-12-01',
      }),
      leaseLine({
        lease_ref: 'KW-OPEN',
        tenant_name: 'John Open',
        amount: '300',
        starts_on: '2026-12-01',
        due_day: '12',
      }),
    ),
  );
  await h.tickAndSettle();
  const paid = h.sandbox.invoicesByReference('KW-PAID-2026-12-1')[0];
  h.sandbox.pay(paid?.id ?? 'missing');
  await h.sandbox.webhooksIdle();
  h.clock.advance(HOUR);
  await h.tickAndSettle();
});

afterAll(async () => h?.close());

describe('admin auth', () => {
  for (const [label, headers] of BAD_CREDENTIALS) {
    it(`API routes answer 401 JSON with ${label}`, async () => {
      for (const [method, path] of API_ROUTES) {
        const res = await call(method, path, { headers });
        expect(res.status, `${method} ${path}`).toBe(401);
        expect(await res.json(), `${method} ${path}`).toMatchObject({ code: 'UNAUTHORIZED' });
      }
    });

    it(`page routes redirect to the login form with ${label}`, async () => {
      for (const [method, path] of PAGE_ROUTES) {
        const res = await call(method, path, { headers });
        expect(res.status, `${method} ${path}`).toBe(303);
        expect(res.headers.get('location'), `${method} ${path}`).toMatch(/^\/admin\/login\?next=/);
      }
    });
  }

  it('the login form refuses a wrong or missing token with 401 and sets no cookie', async () => {
    for (const body of ['token=wrong&next=%2Fadmin', 'next=%2Fadmin', '']) {
      const res = await fetch(`${base}/admin/login`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        redirect: 'manual',
      });
      expect(res.status).toBe(401);
      expect(res.headers.get('set-cookie')).toBeNull();
    }
  });

  it('a login sets an HttpOnly SameSite=Strict session cookie that is not the token, and it opens the pages', async () => {
    const res = await fetch(`${base}/admin/login`, {
      method: 'POST',
      body: `token=${TOKEN}&next=%2Fadmin%3Fperiod%3D2026-12`,
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base },
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin?period=2026-12');
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^rentlink_admin=[A-Za-z0-9_-]{43};/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Path=\/admin/);
    expect(cookie).not.toMatch(/Secure/); // plain http on 127.0.0.1, PUBLIC_BASE_URL is http
    expect(cookie).not.toContain(TOKEN);
    const session = cookie.split(';')[0] ?? '';
    const page = await call('GET', '/admin', { headers: { cookie: session } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    // With the cookie, a state change from another origin is refused, and a form without the CSRF field too.
    const crossSite = await call('POST', '/admin/charges/1/reissue', {
      headers: { cookie: session, origin: 'https://evil.example' },
    });
    expect(crossSite.status).toBe(403);
    const noCsrf = await fetch(`${base}/admin/charges/1/reissue`, {
      method: 'POST',
      body: 'back=%2Fadmin',
      redirect: 'manual',
      headers: { cookie: session, origin: base, 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(noCsrf.status).toBe(403);
  });

  it('the login form never redirects off-site', async () => {
    for (const next of ['https://evil.example/', '//evil.example/admin', '/\\evil.example']) {
      const res = await fetch(`${base}/admin/login`, {
        method: 'POST',
        body: `token=${TOKEN}&next=${encodeURIComponent(next)}`,
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(res.headers.get('location')).toBe('/admin');
    }
  });

  it('the Bearer token opens pages and the queue dashboard (with its static assets)', async () => {
    const headers = { authorization: `Bearer ${TOKEN}` };
    const page = await call('GET', '/admin', { headers });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<meta charset="utf-8">');
    const slash = await call('GET', '/admin/queues/', { headers });
    expect([slash.status, slash.headers.get('location')]).toEqual([301, '/admin/queues']);
    const board = await call('GET', '/admin/queues', { headers });
    expect(board.status).toBe(200);
    const html = await board.text();
    // The UI resolves its assets against <base href>: it must be the mount point.
    expect(html).toContain('<base href="/admin/queues/"');
    const asset = /static\/js\/main\.[^"']+\.js/.exec(html)?.[0];
    expect(asset).toBeDefined();
    const js = await call('GET', `/admin/queues/${asset}`, { headers });
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    const queues = await call('GET', '/admin/queues/api/queues', { headers });
    expect(queues.status).toBe(200);
    expect(JSON.stringify(await queues.json())).toContain('"send-default"');
  });
});

describe('admin JSON API', () => {
  it('lists charges, filters them, and rejects bad filters with 400', async () => {
    const all = (await (await api('GET', '/admin/api/charges')).json()) as {
      charges: Array<{ leaseRef: string; status: string; amount: string; tenantName: string }>;
    };
    expect(all.charges.map((c) => [c.leaseRef, c.status]).sort()).toEqual([
      ['KW-BAD', 'failed'],
      ['KW-OPEN', 'invoiced'],
      ['KW-PAID', 'paid'],
    ]);
    expect(all.charges.find((c) => c.leaseRef === 'KW-PAID')).toMatchObject({
      amount: '450.750',
      tenantName: 'فاطمة العلي',
    });
    const paid = (await (await api('GET', '/admin/api/charges?status=paid&period=2026-12')).json()) as {
      charges: unknown[];
    };
    expect(paid.charges).toHaveLength(1);
    const bad = await api('GET', '/admin/api/charges?period=2026-13');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'BAD_REQUEST' });
    expect((await api('GET', '/admin/api/charges?status=nope')).status).toBe(400);
    expect((await api('GET', '/admin/api/charges/abc')).status).toBe(400);
    expect((await api('GET', '/admin/api/charges/9999')).status).toBe(404);
  });

  it('shows one charge with its links and events', async () => {
    const id = chargeOf('KW-PAID')?.id;
    const res = await api('GET', `/admin/api/charges/${id}`);
    expect(res.status).toBe(200);
    const detail = (await res.json()) as {
      charge: { status: string };
      links: Array<{ status: string }>;
      events: Array<{ type: string }>;
    };
    expect(detail.charge.status).toBe('paid');
    expect(detail.links.map((l) => l.status)).toEqual(['paid']);
    expect(detail.events.map((e) => e.type)).toContain('link.created');
  });

  it('reports the period per currency', async () => {
    const res = await api('GET', '/admin/api/report?period=2026-12');
    expect(res.status).toBe(200);
    const { rows } = (await res.json()) as { rows: Array<Record<string, unknown>> };
    expect(rows).toEqual([
      expect.objectContaining({
        period: '2026-12',
        currency: 'KWD',
        charges: 3,
        paidCount: 1,
        paidMinor: 450_750,
        paidAmount: '450.750',
        failed: 1,
        open: 1,
      }),
    ]);
    expect((await api('GET', '/admin/api/report?period=12-2026')).status).toBe(400);
  });

  it('lists the failed send with the provider reason, and attention includes it', async () => {
    const { jobs } = (await (await api('GET', '/admin/api/failed-jobs?queue=send')).json()) as {
      jobs: Array<{ jobId: string; leaseRef: string; reason: string }>;
    };
    expect(jobs).toEqual([
      expect.objectContaining({ leaseRef: 'KW-BAD', reason: expect.stringContaining('Mobile number is not valid') }),
    ]);
    expect((await api('GET', '/admin/api/failed-jobs?queue=bogus')).status).toBe(400);
    const { charges: attention } = (await (await api('GET', '/admin/api/attention')).json()) as {
      charges: Array<{ leaseRef: string }>;
    };
    expect(attention.map((c) => c.leaseRef)).toContain('KW-BAD');
  });

  it('validates retry bodies, and a retry re-runs the failed send', async () => {
    expect((await api('POST', '/admin/api/jobs/retry', {})).status).toBe(400);
    expect((await api('POST', '/admin/api/jobs/retry', { jobIds: ['x'], all: true })).status).toBe(400);
    const notJson = await call('POST', '/admin/api/jobs/retry', {
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    });
    expect(notJson.status).toBe(400);
    const unknown = await (await api('POST', '/admin/api/jobs/retry', { jobIds: ['send-999-1'] })).json();
    expect(unknown).toMatchObject({ retried: [], missing: ['send-999-1'] });
    const { jobs } = (await (await api('GET', '/admin/api/failed-jobs')).json()) as { jobs: Array<{ jobId: string }> };
    const res = await api('POST', '/admin/api/jobs/retry', {
      jobIds: jobs.map((j) => j.jobId),
      reason: 'mobile fixed',
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ retried: jobs.map((j) => j.jobId) });
    await h.settle();
    expect(chargeOf('KW-BAD')?.status).toBe('invoiced');
    expect(h.sandbox.invoicesByReference('KW-BAD-2026-12-1')).toHaveLength(1);
  });

  it('refuses to reissue a paid charge with 409', async () => {
    const res = await api('POST', `/admin/api/charges/${chargeOf('KW-PAID')?.id}/reissue`, { reason: 'tenant asked' });
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ code: 'INVALID_STATE', error: expect.stringContaining('paid') });
    expect((await api('POST', '/admin/api/charges/9999/reissue', {})).status).toBe(404);
  });

  it('voids a charge (reason required) and records who did it', async () => {
    const id = chargeOf('KW-OPEN')?.id;
    expect((await api('POST', `/admin/api/charges/${id}/void`, {})).status).toBe(400);
    expect((await api('POST', `/admin/api/charges/${id}/void`, { reason: '   ' })).status).toBe(400);
    const res = await api('POST', `/admin/api/charges/${id}/void`, { reason: 'tenant moved out' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ charge: { status: 'void', statusReason: 'tenant moved out' } });
    expect(chargeOf('KW-OPEN')?.status).toBe('void');
    const voided = h.app.db.select().from(events).where(eq(events.type, 'charge.voided')).all();
    expect(voided).toEqual([expect.objectContaining({ actor: 'admin', chargeId: id })]);
    const again = await api('POST', `/admin/api/charges/${id}/void`, { reason: 'twice' });
    expect(again.status).toBe(409);
  });

  it('answers unknown API paths with a JSON 404', async () => {
    const res = await api('GET', '/admin/api/nope');
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('GET /metrics', () => {
  it('is Prometheus text with job, charge and provider-call series filled at scrape time', async () => {
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/^rentlink_jobs\{queue="status",account="default",state="completed"\} [1-9]/m);
    expect(text).toMatch(/^rentlink_jobs\{queue="send",account="default",state="failed"\} 0$/m); // retried above
    expect(text).toMatch(/^rentlink_jobs\{queue="status",account="default",state="failed"\} 0$/m);
    expect(text).toMatch(/^rentlink_charges\{status="paid"\} 1$/m);
    expect(text).toMatch(/^rentlink_charges\{status="scheduled"\} 0$/m);
    expect(text).toMatch(
      /^rentlink_provider_calls_total\{provider="myfatoorah",account="default",endpoint="SendPayment",outcome="ok"\} [1-9]/m,
    );
    expect(text).toMatch(
      /^rentlink_provider_calls_total\{provider="myfatoorah",account="default",endpoint="SendPayment",outcome="rejected"\} 1$/m,
    );
    expect(text).toContain('rentlink_tick_seconds_bucket');
  });
});

describe('without ADMIN_TOKEN', () => {
  let off: Harness;
  beforeAll(async () => {
    off = await createHarness({ now: '2026-12-10T06:00:00Z', http: true, extraRoutes: [registerAdminRoutes] });
  });
  afterAll(async () => off?.close());

  it('every /admin route answers 503 and says how to turn admin on', async () => {
    const url = off.http?.url ?? '';
    for (const [method, path] of [
      ...PAGE_ROUTES,
      ...API_ROUTES,
      ['GET', '/admin/login'],
      ['POST', '/admin/login'],
    ] as const) {
      const res = await fetch(url + path, {
        method,
        redirect: 'manual',
        headers: { authorization: 'Bearer anything' },
      });
      expect(res.status, `${method} ${path}`).toBe(503);
      const text = await res.text();
      expect(text, `${method} ${path}`).toContain('ADMIN_TOKEN');
      if (path.includes('/api/')) expect(JSON.parse(text), path).toMatchObject({ code: 'ADMIN_DISABLED' });
    }
    // /metrics is not admin: it still answers.
    expect((await fetch(`${url}/metrics`)).status).toBe(200);
  });
});
