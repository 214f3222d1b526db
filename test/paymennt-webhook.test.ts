import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { splitName } from '../src/providers/paymennt/contact.js';
import { paymenntSettingsSchema } from '../src/providers/paymennt/settings.js';
import type { Contact } from '../src/providers/types.js';
import { DAY } from '../src/time/clock.js';
import {
  API_KEY,
  API_SECRET,
  closeAll,
  HMAC_KEY,
  linkRequest,
  recordingStore,
  startPaymennt,
  startReceiver,
} from './helpers/paymennt.js';

/** paymennt webhooks (fake → client), the contact rules, the account settings, the pay page and persistence. */

afterEach(closeAll);

const BODY = JSON.stringify({
  id: '1700000000000000001',
  requestId: 'rl-c42-a1',
  orderId: 'rl-c42',
  status: 'PAID',
  timestamp: '2026-11-01T06:05:00.000Z',
});

function hmac(body: string, encoding: 'hex' | 'base64' = 'hex'): string {
  return createHmac('sha256', HMAC_KEY).update(body).digest(encoding);
}

describe('parseWebhook', () => {
  it('turns a correctly signed body into a hint carrying only ids', async () => {
    const { provider } = await startPaymennt({ settings: { webhookHmacKey: HMAC_KEY } });
    const result = provider.parseWebhook({ headers: { 'x-paymennt-signature': hmac(BODY) }, rawBody: BODY });
    expect(result).toEqual({
      kind: 'hint',
      hint: {
        providerLinkId: '1700000000000000001',
        reference: 'rl-c42-a1',
        dedupeKey: '1700000000000000001|rl-c42-a1|PAID|2026-11-01T06:05:00.000Z',
        summary: { status: 'PAID', verified: 'hmac-sha256' },
      },
    });
    for (const signature of [hmac(BODY, 'base64'), hmac(BODY).toUpperCase(), `sha256=${hmac(BODY)}`]) {
      expect(provider.parseWebhook({ headers: { 'x-paymennt-signature': signature }, rawBody: BODY }).kind).toBe(
        'hint',
      );
    }
  });

  it('refuses a wrong or missing signature when a key is configured', async () => {
    const { provider } = await startPaymennt({ settings: { webhookHmacKey: HMAC_KEY } });
    const tampered = BODY.replace('PAID', 'CANCELLED');
    expect(provider.parseWebhook({ headers: { 'x-paymennt-signature': hmac(BODY) }, rawBody: tampered })).toEqual({
      kind: 'bad-signature',
      reason: 'signature does not match',
    });
    expect(provider.parseWebhook({ headers: {}, rawBody: BODY })).toEqual({
      kind: 'bad-signature',
      reason: 'signature header x-paymennt-signature missing',
    });
    const otherKey = createHmac('sha256', 'not-the-key').update(BODY).digest('hex');
    expect(provider.parseWebhook({ headers: { 'x-paymennt-signature': otherKey }, rawBody: BODY }).kind).toBe(
      'bad-signature',
    );
  });

  it('reads the signature from a configured header', async () => {
    const { provider } = await startPaymennt({
      settings: { webhookHmacKey: HMAC_KEY, webhookSignatureHeader: 'X-Signature' },
    });
    expect(provider.parseWebhook({ headers: { 'x-signature': hmac(BODY) }, rawBody: BODY }).kind).toBe('hint');
    expect(provider.parseWebhook({ headers: { 'x-paymennt-signature': hmac(BODY) }, rawBody: BODY }).kind).toBe(
      'bad-signature',
    );
  });

  it('accepts an unsigned webhook as a hint when no key is configured', async () => {
    const { provider } = await startPaymennt();
    const result = provider.parseWebhook({ headers: {}, rawBody: BODY });
    expect(result).toMatchObject({ kind: 'hint', hint: { providerLinkId: '1700000000000000001' } });
    expect(result.kind === 'hint' && result.hint.summary['verified']).toBe('unsigned');
  });

  it('ignores a body without any id, or one that is not JSON, and never throws', async () => {
    const { provider } = await startPaymennt();
    expect(provider.parseWebhook({ headers: {}, rawBody: '{"status":"PAID"}' })).toMatchObject({ kind: 'ignored' });
    expect(provider.parseWebhook({ headers: {}, rawBody: 'status=PAID' })).toMatchObject({ kind: 'ignored' });
    expect(provider.parseWebhook({ headers: {}, rawBody: 'null' })).toMatchObject({ kind: 'ignored' });
  });

  it('keeps a 19-digit numeric id exact and dedupes replays but not new events', async () => {
    const { provider } = await startPaymennt();
    const raw = '{"checkoutId":1700000000000000123,"status":"PAID"}';
    const first = provider.parseWebhook({ headers: {}, rawBody: raw });
    const replay = provider.parseWebhook({ headers: {}, rawBody: raw });
    const later = provider.parseWebhook({ headers: {}, rawBody: raw.replace('PAID', 'REFUNDED') });
    expect(first).toMatchObject({ kind: 'hint', hint: { providerLinkId: '1700000000000000123', reference: null } });
    expect(first.kind === 'hint' && replay.kind === 'hint' && first.hint.dedupeKey === replay.hint.dedupeKey).toBe(
      true,
    );
    expect(first.kind === 'hint' && later.kind === 'hint' && first.hint.dedupeKey !== later.hint.dedupeKey).toBe(true);
  });
});

describe('webhooks from the fake', () => {
  it('delivers a signed notification the client verifies, and retries a failing receiver', async () => {
    const receiver = await startReceiver();
    receiver.answers.push(500);
    const rig = await startPaymennt({
      fake: { webhookUrl: receiver.url, webhookHmacKey: HMAC_KEY, webhookRetryDelayMs: 60_000 },
      settings: { webhookHmacKey: HMAC_KEY },
    });
    const req = linkRequest(rig.clock.now());
    const link = await rig.provider.createLink(req);
    rig.fake.pay(link.providerLinkId);
    await rig.fake.deliverWebhooksNow();
    expect(rig.fake.webhookDeliveries.map((d) => [d.attempt, d.status])).toEqual([
      [1, 500],
      [2, 200],
    ]);
    const [first, second] = receiver.received;
    expect(second?.rawBody).toBe(first?.rawBody);
    expect(JSON.parse(second?.rawBody ?? '')).toMatchObject({
      id: link.providerLinkId,
      requestId: req.reference,
      orderId: req.orderReference,
      status: 'PAID',
    });
    const result = rig.provider.parseWebhook(second ?? { headers: {}, rawBody: '' });
    expect(result).toMatchObject({ kind: 'hint', hint: { providerLinkId: link.providerLinkId } });
  });
});

describe('contactProblems', () => {
  const tenant: Contact = {
    name: 'Fatma Al Sabah',
    email: 'fatma@example.com',
    mobile: '501234567',
    mobileCountryCode: '+971',
    language: 'en',
  };
  const problems = async (contact: Partial<Contact>, channel: 'email' | 'sms' | 'both' | 'link', currency = 'AED') => {
    const { provider } = await startPaymennt();
    return provider.contactProblems({ ...tenant, ...contact }, channel, currency).map((p) => p.field);
  };

  it('needs nothing from the tenant for a link, and accepts a complete contact on every channel', async () => {
    expect(await problems({ name: '', email: null, mobile: null, mobileCountryCode: null }, 'link')).toEqual([]);
    for (const channel of ['email', 'sms', 'both'] as const) expect(await problems({}, channel)).toEqual([]);
  });

  it('requires an email whenever a customer is sent, SMS included, and a phone for sms/both', async () => {
    expect(await problems({ email: null }, 'email')).toEqual(['email']);
    expect(await problems({ email: null }, 'sms')).toEqual(['email']);
    expect(await problems({ email: 'not-an-email' }, 'both')).toEqual(['email']);
    expect(await problems({ mobile: null, mobileCountryCode: null }, 'sms')).toEqual(['mobile', 'mobile_country_code']);
    expect(await problems({ mobile: '12ab', mobileCountryCode: '971-x' }, 'both')).toEqual([
      'mobile',
      'mobile_country_code',
    ]);
    expect(await problems({ mobile: null }, 'email')).toEqual([]);
  });

  it('requires a name when a customer is sent, and a known currency', async () => {
    expect(await problems({ name: '   ' }, 'email')).toEqual(['tenant_name']);
    expect(await problems({}, 'link', 'XYZ')).toEqual(['currency']);
  });

  it('splits names: first word / the rest, a single word is used for both', () => {
    expect(splitName('Mohammed bin Rashid Al Maktoum')).toEqual({
      firstName: 'Mohammed',
      lastName: 'bin Rashid Al Maktoum',
    });
    expect(splitName('  Madonna ')).toEqual({ firstName: 'Madonna', lastName: 'Madonna' });
    expect(splitName(' ')).toBeNull();
  });
});

describe('settings', () => {
  const entry = {
    name: 'dubai',
    provider: 'paymennt',
    baseUrl: 'https://api.test.paymennt.com/mer/v2.0/',
    apiKey: 'k',
    apiSecret: 's',
  };

  it('fills the defaults and trims the base URL', () => {
    expect(paymenntSettingsSchema.parse(entry)).toEqual({
      ...entry,
      baseUrl: 'https://api.test.paymennt.com/mer/v2.0',
      webhookSignatureHeader: 'x-paymennt-signature',
      timeZone: 'Asia/Dubai',
    });
  });

  it('names the key in every refusal', () => {
    const messages = (value: Record<string, unknown>) =>
      paymenntSettingsSchema.safeParse({ ...entry, ...value }).error?.issues.map((i) => i.message) ?? [];
    expect(messages({ baseUrl: 'ftp://api.paymennt.com' })).toEqual([
      expect.stringMatching(/^baseUrl must be an http/),
    ]);
    expect(messages({ apiSecret: ' ' })).toEqual(['apiSecret must not be empty']);
    expect(messages({ timeZone: 'Mars/Olympus' })).toEqual([expect.stringMatching(/^timeZone must be an IANA/)]);
    expect(messages({ webhookHmacKy: 'x' })).toEqual(['unknown key(s) in a paymennt account: webhookHmacKy']);
    expect(messages({ webhookHmacKey: '' })).toEqual([expect.stringMatching(/^webhookHmacKey must not be empty/)]);
  });
});

describe('the fake', () => {
  it('serves a pay page whose Pay button pays and redirects to the result page', async () => {
    const rig = await startPaymennt();
    const link = await rig.provider.createLink(linkRequest(rig.clock.now()));
    const page = await fetch(link.url ?? '');
    expect(await page.text()).toMatch(/<button class="pay"/);
    const click = await fetch(`${link.url}/pay`, { method: 'POST', redirect: 'manual' });
    expect(click.status).toBe(303);
    expect(click.headers.get('location')).toBe(`${new URL(link.url ?? '').pathname}/result`);
    expect(rig.fake.checkout(link.providerLinkId)?.status).toBe('PAID');
    const again = await fetch(`${link.url}/fail`, { method: 'POST', redirect: 'manual' });
    expect(again.status).toBe(409);
  });

  it('refuses payment on the page after expiry', async () => {
    const rig = await startPaymennt();
    const link = await rig.provider.createLink(linkRequest(rig.clock.now(), { expiresAt: rig.clock.now() + DAY }));
    rig.clock.advance(DAY + 1);
    expect(await (await fetch(link.url ?? '')).text()).toMatch(/has expired/);
    expect((await fetch(`${link.url}/pay`, { method: 'POST', redirect: 'manual' })).status).toBe(409);
  });

  it('keeps checkouts in the host store, one record per change, across restarts', async () => {
    const store = recordingStore();
    const first = await startPaymennt({ store });
    const link = await first.provider.createLink(linkRequest(first.clock.now()));
    first.fake.pay(link.providerLinkId);
    expect(store.saves).toBe(2);
    await closeAll();
    const second = await startPaymennt({ store });
    expect(second.fake.checkouts().map((c) => [c.id, c.status])).toEqual([[link.providerLinkId, 'PAID']]);
    const next = await second.provider.createLink(linkRequest(second.clock.now(), { reference: 'rl-c42-a2' }));
    expect(next.providerLinkId).not.toBe(link.providerLinkId);
  });

  it('validates the create body: amount decimals, expiresIn bounds, customer fields', async () => {
    const rig = await startPaymennt();
    const post = async (body: Record<string, unknown>) => {
      const response = await fetch(`${rig.baseUrl}/checkout/link`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-paymennt-api-key': API_KEY,
          'x-paymennt-api-secret': API_SECRET,
        },
        body: JSON.stringify({
          requestId: 'r1',
          orderId: 'o1',
          description: 'Rent',
          currency: 'KWD',
          amount: 1,
          ...body,
        }),
      });
      return { status: response.status, json: (await response.json()) as { success: boolean; error?: string } };
    };
    expect(await post({ amount: 1.0005 })).toMatchObject({
      status: 400,
      json: { success: false, error: expect.stringMatching(/decimals/) },
    });
    expect(await post({ amount: 0 })).toMatchObject({ json: { error: 'amount must be greater than 0' } });
    expect(await post({ expiresIn: 10_081 })).toMatchObject({ json: { error: expect.stringMatching(/expiresIn/) } });
    expect(await post({ customer: { firstName: 'A' } })).toMatchObject({
      json: { error: 'customer.lastName is required; customer.email is required' },
    });
    expect(await post({ sendSms: true })).toMatchObject({
      json: { error: expect.stringMatching(/customer.phone is required/) },
    });
    expect(await post({})).toMatchObject({ status: 200, json: { success: true } });
  });
});
