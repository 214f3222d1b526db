import { and, eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { HOUR, MINUTE } from '../src/time/clock.js';
import { charges, events, paymentLinks } from '../src/db/schema.js';
import { runTick } from '../src/schedule/tick.js';
import { createHarness, csvOf, leaseLine, type Harness, type HarnessOptions } from './helpers/harness.js';

let h: Harness;
afterEach(async () => h?.close());

// Link created 2026-11-27T06:00Z for the period 2026-12 (due 12-01); it expires 2026-12-11 23:59:59 Kuwait.
const NOW = '2026-11-27T06:00:00Z';
const AFTER_EXPIRY = '2026-12-11T21:05:00Z';

async function withOpenLink(options: Partial<HarnessOptions> = {}, lease: Record<string, string> = {}) {
  h = await createHarness({ now: NOW, ...options });
  h.importCsv(csvOf(leaseLine({ lease_ref: 'L-1', ...lease })));
  await h.tickAndSettle();
  const link = h.app.db.select().from(paymentLinks).get();
  if (!link?.providerLinkId) throw new Error('no link was created');
  return link;
}

/** The CallBackUrl rentlink sent for an invoice (it carries the reference's token). */
const callbackOf = (invoiceId: string) => String(h.sandbox.invoice(invoiceId)?.callBackUrl);
const statusCalls = () => h.sandbox.requests.filter((r) => r.endpoint === 'GetPaymentStatus');
const eventsOf = (type: string) => h.app.db.select().from(events).where(eq(events.type, type)).all();
const charge = () => h.app.db.select().from(charges).get();
const links = () => h.app.db.select().from(paymentLinks).orderBy(paymentLinks.attempt).all();

describe('paid', () => {
  it('pay on the pay page → webhook → charge paid without waiting for the poll plan; the callback only hints', async () => {
    const link = await withOpenLink({ http: true });
    const paid = await fetch(`${h.sandbox.url}/pay/${link.providerLinkId}/pay`, {
      method: 'POST',
      redirect: 'manual',
    });
    expect(paid.status).toBe(302);
    await h.sandbox.webhooksIdle();
    await h.settle();
    expect(charge()?.status).toBe('paid');
    expect(links()[0]).toMatchObject({ status: 'paid', gateway: 'KNET', paidAmountMinor: 250500 });
    // Checked by our stored invoice id: the payment id in a webhook or callback is never the key.
    expect(statusCalls().map((r) => (r.body as { KeyType: string }).KeyType)).toEqual(['InvoiceId']);

    // The browser lands on our callback afterwards: a page in the tenant's language, one more check, nothing new.
    const location = paid.headers.get('location') ?? '';
    expect(location).toContain(`${h.http?.url}/callback?ref=L-1-2026-12-1`);
    const page = await fetch(location);
    expect(await page.text()).toContain('Payment received');
    await h.settle();
    expect(eventsOf('charge.paid')).toHaveLength(1);
    expect(eventsOf('callback.received')).toHaveLength(1);
    await h.tickAndSettle();
    expect(statusCalls().length).toBeLessThanOrEqual(2);
  });

  it('without a webhook the poll plan marks it paid, and polling stops', async () => {
    const link = await withOpenLink();
    h.sandbox.pay(String(link.providerLinkId));
    await h.tickAndSettle();
    expect(statusCalls()).toHaveLength(0); // the first check is 15 minutes after creation
    h.clock.advance(16 * MINUTE);
    await h.tickAndSettle();
    expect(charge()?.status).toBe('paid');
    h.clock.advance(48 * HOUR);
    await h.tickAndSettle();
    expect(statusCalls()).toHaveLength(1);
  });

  it('follows the poll plan while pending: 15 min, 1 h, 6 h, then every 12 h', async () => {
    const link = await withOpenLink();
    const checksAt = [];
    for (let minutes = 0; minutes <= 31 * 60; minutes += 5) {
      h.clock.set(link.createdAt + minutes * MINUTE);
      const before = statusCalls().length;
      await h.tickAndSettle();
      if (statusCalls().length > before) checksAt.push(minutes);
    }
    expect(checksAt).toEqual([15, 60, 360, 360 + 720, 360 + 1440]);
  });

  it('a DuplicatePayment is paid and counted as a double payment to settle', async () => {
    const link = await withOpenLink();
    h.sandbox.pay(String(link.providerLinkId));
    h.sandbox.pay(String(link.providerLinkId));
    h.clock.advance(16 * MINUTE);
    await h.tickAndSettle();
    expect(charge()).toMatchObject({ status: 'paid', extraPayments: 1, extraPaidMinor: 250500, extraReviewedAt: null });
    expect(eventsOf('payment.double')).toHaveLength(1);
  });

  it('a check that fails for good is listed as failed, and the link still gets its next planned check', async () => {
    const link = await withOpenLink();
    h.sandbox.injectFault('GetPaymentStatus', { kind: 'html-403' }, 1);
    h.clock.advance(16 * MINUTE);
    await h.tickAndSettle();
    expect(await h.app.queues.status('default').getJobCounts('failed')).toEqual({ failed: 1 });
    expect(links()[0]?.lastError).toMatch(/HTTP 403/);
    h.sandbox.pay(String(link.providerLinkId));
    h.clock.advance(HOUR);
    await h.tickAndSettle();
    expect(charge()?.status).toBe('paid');
  });
});

describe('expiry and reissue', () => {
  it('an expired link is reissued with a new reference (and the escalated channel); the old one stays expired', async () => {
    await withOpenLink({ env: { REISSUE_CHANNEL: 'ALL' } }, { channel: 'LNK', max_reissues: '2' });
    h.clock.set(AFTER_EXPIRY);
    await h.tickAndSettle();
    const [first, second] = links();
    expect(first).toMatchObject({ status: 'expired', reference: 'L-1-2026-12-1' });
    expect(second).toMatchObject({ status: 'open', reference: 'L-1-2026-12-2', attempt: 2, channel: 'both' });
    expect(charge()).toMatchObject({ status: 'invoiced', reissueCount: 1 });
    const sends = h.sandbox.requests
      .filter((r) => r.endpoint === 'SendPayment')
      .map((r) => r.body as Record<string, unknown>);
    expect(sends.map((b) => [b['CustomerReference'], b['NotificationOption']])).toEqual([
      ['L-1-2026-12-1', 'LNK'],
      ['L-1-2026-12-2', 'ALL'],
    ]);
    expect(sends[1]?.['ExpiryDate']).toBe('2026-12-22T23:59:59'); // reissued from today (Dec 12 in Kuwait) + 10 days
    await h.tickAndSettle();
    expect(links()).toHaveLength(2);
  });

  it('max_reissues reached → charge expired, nothing more is sent', async () => {
    await withOpenLink({}, { max_reissues: '0' });
    h.clock.set(AFTER_EXPIRY);
    await h.tickAndSettle();
    expect(charge()).toMatchObject({ status: 'expired' });
    expect(links().map((l) => l.status)).toEqual(['expired']);
    h.clock.advance(30 * HOUR);
    await h.tickAndSettle();
    expect(h.sandbox.requests.filter((r) => r.endpoint === 'SendPayment')).toHaveLength(1);
  });

  it('a payment that landed on the link at the last second still counts and stops the reissue', async () => {
    const link = await withOpenLink({}, { max_reissues: '2' });
    h.clock.set(AFTER_EXPIRY);
    h.sandbox.pay(String(link.providerLinkId), { force: true });
    await h.tickAndSettle();
    expect(charge()?.status).toBe('paid');
    expect(links().map((l) => l.status)).toEqual(['paid']);
    expect(h.sandbox.requests.filter((r) => r.endpoint === 'SendPayment')).toHaveLength(1);
  });

  it('a payment on an expired link reported by webhook after the reissue still marks the charge paid and closes the new link', async () => {
    const link = await withOpenLink({ http: true }, { max_reissues: '2' });
    h.clock.set(AFTER_EXPIRY);
    await h.tickAndSettle();
    expect(links().map((l) => l.status)).toEqual(['expired', 'open']);
    h.sandbox.pay(String(link.providerLinkId), { force: true });
    await h.sandbox.webhooksIdle();
    await h.settle();
    expect(charge()?.status).toBe('paid');
    expect(links().map((l) => l.status)).toEqual(['paid', 'canceled']);
    expect(eventsOf('link.superseded')).toHaveLength(1);
  });

  it('a link canceled at the provider fails the charge with a reason for the operator', async () => {
    const link = await withOpenLink();
    h.sandbox.cancel(String(link.providerLinkId));
    h.clock.advance(16 * MINUTE);
    await h.tickAndSettle();
    expect(links()[0]?.status).toBe('canceled');
    expect(charge()).toMatchObject({
      status: 'failed',
      statusReason: expect.stringContaining('canceled at the provider'),
    });
  });
});

describe('webhooks and callbacks', () => {
  it('duplicate webhooks → one paid event', async () => {
    const link = await withOpenLink({ http: true });
    h.sandbox.pay(String(link.providerLinkId));
    await h.sandbox.webhooksIdle();
    const delivery = h.sandbox.webhookDeliveries[0];
    if (!delivery) throw new Error('no webhook was delivered');
    for (let i = 0; i < 3; i++) {
      const replay = await fetch(`${h.http?.url}/webhooks/myfatoorah`, {
        method: 'POST',
        body: delivery.rawBody,
        headers: { 'content-type': 'application/json', 'MyFatoorah-Signature': delivery.signature },
      });
      expect(await replay.json()).toEqual({ ok: true, duplicate: true });
    }
    await h.settle();
    expect(eventsOf('webhook.received')).toHaveLength(1);
    expect(eventsOf('charge.paid')).toHaveLength(1);
    expect(statusCalls()).toHaveLength(1);
  });

  it('a wrong or missing signature → 401, counted, and nothing written or checked', async () => {
    const link = await withOpenLink({ http: true });
    const body = JSON.stringify({
      Event: {
        Code: 1,
        Name: 'PAYMENT_STATUS_CHANGED',
        CountryIsoCode: 'KWT',
        CreationDate: '2026-11-27T09:00:00',
        Reference: 'WH-1',
      },
      Data: {
        Invoice: { Id: link.providerLinkId, Status: 'PAID', ExternalIdentifier: link.reference },
        Transaction: { Status: 'SUCCESS', PaymentId: '123' },
      },
    });
    for (const signature of ['bm90IHRoZSByaWdodCBzaWduYXR1cmU=', undefined]) {
      const answer = await fetch(`${h.http?.url}/webhooks/myfatoorah`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', ...(signature ? { 'MyFatoorah-Signature': signature } : {}) },
      });
      expect(answer.status).toBe(401);
    }
    await h.settle();
    // Unauthenticated requests write no rows: they are counted in the metrics.
    expect(h.app.db.select().from(events).where(eq(events.actor, 'webhook')).all()).toHaveLength(0);
    const rejected = await h.app.metrics.rejectedRequests.get();
    expect(rejected.values.filter((v) => v.labels.route === 'webhook').reduce((n, v) => n + v.value, 0)).toBe(2);
    expect(statusCalls()).toHaveLength(0);
    expect(links()[0]?.status).toBe('open');
  });

  it('acknowledges V2 events other than payment status (e.g. refunds) without acting on them', async () => {
    await withOpenLink({ http: true });
    const body = JSON.stringify({
      Event: {
        Code: 2,
        Name: 'REFUND_STATUS_CHANGED',
        CountryIsoCode: 'KWT',
        CreationDate: '2026-11-27T09:00:00',
        Reference: 'WH-R1',
      },
      Data: { Refund: { Id: 'R1' } },
    });
    const answer = await fetch(`${h.http?.url}/webhooks/myfatoorah`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'MyFatoorah-Signature': 'irrelevant' },
    });
    expect(await answer.json()).toEqual({ ok: true, ignored: 'event code 2 is not a payment status change' });
    await h.settle();
    // Other codes sign other fields, so they cannot be verified here: acknowledged, nothing written.
    expect(h.app.db.select().from(events).where(eq(events.actor, 'webhook')).all()).toHaveLength(0);
    expect(statusCalls()).toHaveLength(0);
  });

  it("another invoice's payment id in a callback changes nothing; an answer about another invoice is a mismatch", async () => {
    h = await createHarness({ now: NOW, http: true });
    h.importCsv(csvOf(leaseLine({ lease_ref: 'A' }), leaseLine({ lease_ref: 'B', amount: '300' })));
    await h.tickAndSettle();
    const [linkA, linkB] = links().sort((x, y) => x.reference.localeCompare(y.reference));
    const payB = h.sandbox.pay(String(linkB?.providerLinkId));
    await h.sandbox.webhooksIdle();
    await h.settle();
    // A's own callback URL with B's payment id: A is checked by A's invoice id, and stays unpaid.
    const page = await fetch(`${callbackOf(String(linkA?.providerLinkId))}&paymentId=${payB.paymentId}`);
    expect(page.status).toBe(200);
    await h.settle();
    expect(eventsOf('callback.received')).toHaveLength(1);
    expect(eventsOf('status.mismatch')).toHaveLength(0);
    // Were A's row to point at B's invoice, the answer would not match A's reference and amount.
    h.app.db
      .update(paymentLinks)
      .set({ providerLinkId: String(linkB?.providerLinkId) })
      .where(eq(paymentLinks.id, Number(linkA?.id)))
      .run();
    await fetch(callbackOf(String(linkA?.providerLinkId)));
    await h.settle();
    const a = h.app.db
      .select()
      .from(paymentLinks)
      .where(eq(paymentLinks.id, Number(linkA?.id)))
      .get();
    expect(a?.status).toBe('open');
    expect(
      h.app.db
        .select()
        .from(charges)
        .where(and(eq(charges.id, Number(linkA?.chargeId))))
        .get()?.status,
    ).toBe('invoiced');
    expect(eventsOf('status.mismatch')).toHaveLength(1);
  });

  it('the error callback answers in Arabic for an Arabic tenant', async () => {
    await withOpenLink({ http: true }, { language: 'ar' });
    const invoice = h.sandbox.invoices()[0];
    expect(invoice?.errorUrl).toMatch(/&error=1$/);
    const page = await fetch(`${invoice?.errorUrl}&paymentId=999`);
    const text = await page.text();
    expect(text).toContain('dir="rtl"');
    expect(text).toContain('لم تتم عملية الدفع');
  });

  it('a callback without a valid token is answered without any work: no lookup, no check, no row', async () => {
    const link = await withOpenLink({ http: true });
    const base = `${h.http?.url}/callback?ref=${link.reference}`;
    for (const url of [base, `${base}&t=AAAAAAAAAAAAAAAAAAAAAA`, `${h.http?.url}/callback?ref=NOPE-2026-12-1&t=x`]) {
      expect((await fetch(url)).status).toBe(200);
    }
    await h.settle();
    expect(h.app.db.select().from(events).where(eq(events.actor, 'callback')).all()).toHaveLength(0);
    expect(statusCalls()).toHaveLength(0);
  });

  it('300 callbacks for one link cost at most two status checks and one event row', async () => {
    const link = await withOpenLink({ http: true });
    const url = callbackOf(String(link.providerLinkId));
    await Promise.all(Array.from({ length: 300 }, (_, i) => fetch(`${url}&paymentId=${i}`).then((r) => r.text())));
    await h.settle();
    expect(statusCalls().length).toBeGreaterThanOrEqual(1);
    expect(statusCalls().length).toBeLessThanOrEqual(2);
    expect(eventsOf('callback.received')).toHaveLength(1);
    const failed = await h.app.queues.status('default').getFailedCount();
    expect(failed).toBe(0);
  });
});

describe('idempotence', () => {
  it('three ticks at once queue each piece of work once', async () => {
    await withOpenLink();
    h.clock.advance(16 * MINUTE);
    const results = await Promise.all([runTick(h.app), runTick(h.app), runTick(h.app)]);
    expect(results.map((r) => r.statusJobs)).toEqual([1, 1, 1]);
    await h.settle();
    expect(statusCalls()).toHaveLength(1);
  });
});
