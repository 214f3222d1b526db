import { afterEach, describe, expect, it } from 'vitest';
import { isProviderError, ProviderError, type Channel, type LinkKey } from '../src/providers/types.js';
import { DAY, MINUTE } from '../src/time/clock.js';
import { API_SECRET, closeAll, linkRequest, startPaymennt, type PaymenntRig } from './helpers/paymennt.js';

/**
 * The paymennt client against the paymennt fake over real HTTP. Time moves with the shared
 * ManualClock; nothing sleeps.
 */

afterEach(closeAll);

function createBodies(rig: PaymenntRig): unknown[] {
  return rig.fake.requests.filter((r) => r.endpoint === 'create').map((r) => r.body);
}

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(err instanceof ProviderError)) throw new Error(`expected a ProviderError, got ${String(err)}`);
  return err;
}

async function created(rig: PaymenntRig, overrides: Parameters<typeof linkRequest>[1] = {}): Promise<LinkKey> {
  const req = linkRequest(rig.clock.now(), overrides);
  const link = await rig.provider.createLink(req);
  return { providerLinkId: link.providerLinkId, reference: req.reference, currency: req.currency };
}

describe('createLink', () => {
  it('sends exactly the documented body for each channel', async () => {
    const rig = await startPaymennt();
    const customer = { firstName: 'Fatma', lastName: 'Al Sabah', email: 'fatma@example.com', phone: '+971501234567' };
    const flags: Record<Channel, { sendEmail: boolean; sendSms: boolean }> = {
      link: { sendEmail: false, sendSms: false },
      email: { sendEmail: true, sendSms: false },
      sms: { sendEmail: false, sendSms: true },
      both: { sendEmail: true, sendSms: true },
    };
    for (const channel of ['link', 'email', 'sms', 'both'] as const) {
      const link = await rig.provider.createLink(linkRequest(rig.clock.now(), { reference: `rl-${channel}`, channel }));
      expect(link.url).toBe(rig.fake.payPageUrl(link.providerLinkId));
      expect(rig.fake.checkoutsByRequestId(`rl-${channel}`).map((c) => c.id)).toEqual([link.providerLinkId]);
    }
    expect(createBodies(rig)).toEqual(
      (['link', 'email', 'sms', 'both'] as const).map((channel) => ({
        requestId: `rl-${channel}`,
        orderId: 'rl-c42',
        description: 'Rent December 2026 – Unit 12',
        currency: 'AED',
        amount: 1250,
        expiresIn: 3 * 24 * 60,
        language: 'EN',
        ...flags[channel],
        customer,
      })),
    );
  });

  it('sends no customer for a link-only tenant without an email', async () => {
    const rig = await startPaymennt();
    const req = linkRequest(rig.clock.now());
    await rig.provider.createLink({ ...req, customer: { ...req.customer, email: null, language: 'ar' } });
    const [body] = createBodies(rig) as Array<Record<string, unknown>>;
    expect(body).not.toHaveProperty('customer');
    expect(body).toMatchObject({ sendEmail: false, sendSms: false, language: 'AR' });
  });

  it('clamps a 30-day validity to 10080 minutes and returns the applied expiry', async () => {
    const rig = await startPaymennt();
    const now = rig.clock.now();
    const long = await rig.provider.createLink(linkRequest(now, { reference: 'rl-long', expiresAt: now + 30 * DAY }));
    expect(long.expiresAt).toBe(now + 10_080 * MINUTE);
    expect(rig.fake.checkout(long.providerLinkId)?.expiresAt).toBe(now + 7 * DAY);
    const short = await rig.provider.createLink(
      linkRequest(now, { reference: 'rl-short', expiresAt: now + 5 * MINUTE }),
    );
    expect(short.expiresAt).toBe(now + 15 * MINUTE);
    const odd = await rig.provider.createLink(
      linkRequest(now, { reference: 'rl-odd', expiresAt: now + 90.5 * MINUTE }),
    );
    expect(odd.expiresAt).toBe(now + 90 * MINUTE);
    expect(createBodies(rig).map((b) => (b as { expiresIn: number }).expiresIn)).toEqual([10_080, 15, 90]);
    expect(rig.provider.maxValidityMs).toBe(7 * DAY);
  });

  it('sends amounts as decimals of the currency (KWD 3, AED 2) and reads them back exactly', async () => {
    const rig = await startPaymennt();
    const cases = [
      { reference: 'rl-kwd', currency: 'KWD', amountMinor: 250_500, amount: 250.5 },
      { reference: 'rl-kwd-fils', currency: 'KWD', amountMinor: 1, amount: 0.001 },
      { reference: 'rl-aed', currency: 'AED', amountMinor: 125_050, amount: 1250.5 },
      { reference: 'rl-aed-small', currency: 'AED', amountMinor: 99, amount: 0.99 },
    ];
    for (const { reference, currency, amountMinor, amount } of cases) {
      const key = await created(rig, { reference, currency, amountMinor });
      const [body] = createBodies(rig).slice(-1) as Array<{ amount: number }>;
      expect(body?.amount).toBe(amount);
      expect(rig.fake.checkout(key.providerLinkId)?.amountMinor).toBe(amountMinor);
      expect((await rig.provider.getStatus(key)).amountMinor).toBe(amountMinor);
    }
  });

  it('refuses a contact paymennt would refuse without calling it', async () => {
    const rig = await startPaymennt();
    const req = linkRequest(rig.clock.now(), { channel: 'email' });
    const err = await failure(rig.provider.createLink({ ...req, customer: { ...req.customer, email: null } }));
    expect(err.kind).toBe('rejected');
    expect(err.message).toMatch(/email/);
    expect(rig.fake.requests).toHaveLength(0);
  });
});

describe('an uncertain create', () => {
  it('finds the checkout after a lost response, and a second create with the requestId is refused', async () => {
    const rig = await startPaymennt();
    rig.fake.injectFault('create', { kind: 'lost' });
    const req = linkRequest(rig.clock.now());
    const lost = await failure(rig.provider.createLink(req));
    expect(lost.kind).toBe('unavailable');
    const [checkout] = rig.fake.checkoutsByRequestId(req.reference);
    const found = await rig.provider.findLink(req.reference, req.currency);
    expect(found).toMatchObject({ providerLinkId: checkout?.id, reference: req.reference, state: 'pending' });
    expect(found?.url).toBe(rig.fake.payPageUrl(checkout?.id ?? ''));
    const again = await failure(rig.provider.createLink(req));
    expect(again.kind).toBe('rejected');
    expect(again.httpStatus).toBe(400);
    expect(again.message).toMatch(/Duplicate requestId/);
    expect(rig.fake.checkoutsByRequestId(req.reference)).toHaveLength(1);
  });

  it('finds nothing for a reference paymennt never saw', async () => {
    const rig = await startPaymennt();
    await created(rig);
    expect(await rig.provider.findLink('rl-c42-a2', 'AED')).toBeNull();
    expect(rig.fake.requests.at(-1)).toMatchObject({ method: 'GET', query: { requestId: 'rl-c42-a2' }, status: 200 });
  });

  it('takes "not found" from a search as no checkout, and other refusals as rejected', async () => {
    const rig = await startPaymennt();
    rig.fake.injectFault('search', { kind: 'reject', error: 'Checkout not found for API merchant' });
    rig.fake.injectFault('search', { kind: 'reject', error: 'requestId parameter is invalid' });
    expect(await rig.provider.findLink('rl-c42-a1', 'AED')).toBeNull();
    const err = await failure(rig.provider.findLink('rl-c42-a1', 'AED'));
    expect(err).toMatchObject({ kind: 'rejected', message: 'searchCheckouts: requestId parameter is invalid' });
  });

  it('times out as unavailable and creates nothing', async () => {
    const rig = await startPaymennt({ timeoutMs: 300 });
    rig.fake.injectFault('create', { kind: 'timeout' });
    const err = await failure(rig.provider.createLink(linkRequest(rig.clock.now())));
    expect(err.kind).toBe('unavailable');
    expect(err.message).toMatch(/timed out/);
    expect(rig.fake.checkouts()).toHaveLength(0);
  });
});

describe('status', () => {
  it('reads a paid checkout with its amount in minor units', async () => {
    const rig = await startPaymennt();
    const key = await created(rig);
    expect((await rig.provider.getStatus(key)).state).toBe('pending');
    rig.fake.pay(key.providerLinkId);
    const status = await rig.provider.getStatus(key);
    expect(status).toMatchObject({
      providerLinkId: key.providerLinkId,
      reference: key.reference,
      state: 'paid',
      rawStatus: 'PAID',
      amountMinor: 125_000,
      refunded: false,
      payment: { amountMinor: 125_000, method: 'CARD' },
    });
  });

  it('reads a failed payment as canceled (FAILED is final at paymennt)', async () => {
    const rig = await startPaymennt();
    const key = await created(rig);
    rig.fake.failPayment(key.providerLinkId);
    expect(await rig.provider.getStatus(key)).toMatchObject({ state: 'canceled', rawStatus: 'FAILED', payment: null });
  });

  it('reads a checkout past its expiry as expired, which refuses payment unless forced', async () => {
    const rig = await startPaymennt();
    const key = await created(rig, { expiresAt: rig.clock.now() + DAY });
    rig.clock.advance(DAY);
    expect(await rig.provider.getStatus(key)).toMatchObject({ state: 'expired', rawStatus: 'EXPIRED' });
    expect(() => rig.fake.pay(key.providerLinkId)).toThrow(/EXPIRED/);
    rig.fake.pay(key.providerLinkId, { force: true });
    expect((await rig.provider.getStatus(key)).state).toBe('paid');
  });

  it('cancels, and cancelling again (or an expired checkout) is fine', async () => {
    const rig = await startPaymennt();
    const key = await created(rig);
    await rig.provider.cancelLink(key);
    expect(await rig.provider.getStatus(key)).toMatchObject({ state: 'canceled', rawStatus: 'CANCELLED' });
    await rig.provider.cancelLink(key);
    const cancels = rig.fake.requests.filter((r) => r.endpoint === 'cancel').map((r) => r.status);
    expect(cancels).toEqual([200, 400]);
    const other = await created(rig, { reference: 'rl-c42-a2', expiresAt: rig.clock.now() + DAY });
    rig.clock.advance(2 * DAY);
    await expect(rig.provider.cancelLink(other)).resolves.toBeUndefined();
  });

  it('refuses to cancel a paid checkout', async () => {
    const rig = await startPaymennt();
    const key = await created(rig);
    rig.fake.pay(key.providerLinkId);
    const err = await failure(rig.provider.cancelLink(key));
    expect(err.kind).toBe('rejected');
    expect(err.message).toMatch(/PAID/);
    expect(rig.fake.checkout(key.providerLinkId)?.status).toBe('PAID');
  });

  it('reads a refunded checkout as paid and refunded, partly or fully', async () => {
    const rig = await startPaymennt();
    const key = await created(rig);
    rig.fake.pay(key.providerLinkId);
    rig.fake.refund(key.providerLinkId, 25_000);
    expect(await rig.provider.getStatus(key)).toMatchObject({
      state: 'paid',
      refunded: true,
      rawStatus: 'PARTIALLY_REFUNDED',
      details: { totalRefunded: 25_000 },
    });
    rig.fake.refund(key.providerLinkId);
    expect(await rig.provider.getStatus(key)).toMatchObject({ state: 'paid', refunded: true, rawStatus: 'REFUNDED' });
  });

  it('does not trust an answer about another requestId', async () => {
    const rig = await startPaymennt();
    const key = await created(rig);
    const err = await failure(rig.provider.getStatus({ ...key, reference: 'rl-someone-else' }));
    expect(err.kind).toBe('unavailable');
  });
});

describe('errors', () => {
  it('maps a wrong key to rejected without echoing the secret', async () => {
    const observed: Array<{ outcome: string; httpStatus: number | null }> = [];
    const rig = await startPaymennt({ observe: (call) => observed.push(call) });
    const wrong = rig.client({ apiKey: 'pk-wrong' });
    const err = await failure(wrong.createLink(linkRequest(rig.clock.now())));
    expect(err).toMatchObject({ kind: 'rejected', httpStatus: 401, code: 'PROVIDER_REJECTED' });
    expect(err.message).toMatch(/apiKey\/apiSecret of paymennt account "dubai"/);
    expect(err.message).not.toContain(API_SECRET);
    expect(rig.fake.requests[0]).toMatchObject({ status: 401, fault: 'unauthorized' });
    expect(rig.fake.checkouts()).toHaveLength(0);
    expect(observed).toEqual([expect.objectContaining({ outcome: 'rejected', httpStatus: 401 })]);
  });

  it('maps 429 to rate_limited, with and without Retry-After', async () => {
    const rig = await startPaymennt();
    const key = await created(rig);
    rig.fake.injectFault('get', { kind: 'rate-limit', retryAfter: '7' });
    rig.fake.injectFault('get', { kind: 'rate-limit' });
    expect(await failure(rig.provider.getStatus(key))).toMatchObject({ kind: 'rate_limited', retryAfterMs: 7000 });
    expect(await failure(rig.provider.getStatus(key))).toMatchObject({ kind: 'rate_limited', retryAfterMs: null });
    expect((await rig.provider.getStatus(key)).state).toBe('pending');
  });

  it("throttles GET requests over the fake's rate limit", async () => {
    const rig = await startPaymennt({ fake: { statusRateLimitPerSecond: 1 } });
    const key = await created(rig);
    await rig.provider.getStatus(key);
    const err = await failure(rig.provider.getStatus(key));
    expect(err).toMatchObject({ kind: 'rate_limited', httpStatus: 429, retryAfterMs: 1000 });
    expect(rig.fake.throttledCount).toBe(1);
    rig.fake.setRateLimit(null);
    expect((await rig.provider.getStatus(key)).state).toBe('pending');
  });

  it('maps an HTML 500 page to unavailable', async () => {
    const rig = await startPaymennt();
    rig.fake.injectFault('search', { kind: 'http', status: 500 });
    const err = await failure(rig.provider.findLink('rl-c42-a1', 'AED'));
    expect(err).toMatchObject({ kind: 'unavailable', httpStatus: 500 });
    expect(err.message).toMatch(/non-JSON/);
  });

  it("maps success:false to rejected with the provider's text", async () => {
    const rig = await startPaymennt();
    const err = await failure(rig.provider.getStatus({ providerLinkId: '42', reference: 'rl-x', currency: 'AED' }));
    expect(err).toMatchObject({ kind: 'rejected', httpStatus: 400 });
    expect(err.message).toBe('getCheckout: Checkout not found for API merchant');
    const bad = await failure(rig.provider.createLink(linkRequest(rig.clock.now(), { description: '' })));
    expect(isProviderError(bad, 'rejected')).toBe(true);
    expect(bad.message).toBe('createLink: description is required');
  });
});
