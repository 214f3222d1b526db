import { afterEach, describe, expect, it } from 'vitest';
import { apsModule, apsSettingsSchema, verifyApsSignature, type ApsSettings } from '../src/providers/aps/index.js';
import { ProviderError, type LinkRequest, type PaymentProvider } from '../src/providers/types.js';
import { createApsFake, type ApsFakeOptions, type ApsSandboxHandle } from '../src/sandbox/aps/index.js';
import { startFakeHost, type FakeHost } from '../src/sandbox/host.js';
import type { SandboxStore } from '../src/sandbox/store.js';
import { ManualClock } from '../src/time/clock.js';

/** Real HTTP against the APS fake on a free port; business time from a ManualClock. */

const CREDS = {
  accessCode: 'zx0IPmPy5jp1vAz8Kpg7',
  merchantIdentifier: 'CycHZxVj',
  requestPhrase: 'req-phrase-41',
  responsePhrase: 'resp-phrase-97',
  shaType: 'sha512',
} as const;
const START = '2026-11-20T08:00:00Z';
const EXPIRES = Date.parse('2026-12-05T19:59:59Z'); // 23:59:59 in Asia/Dubai (+04:00)

const hosts: FakeHost[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((host) => host.close()));
});

interface Setup {
  clock: ManualClock;
  handle: ApsSandboxHandle;
  provider: PaymentProvider;
  host: FakeHost;
}

async function start(
  fakeOptions: Partial<ApsFakeOptions> = {},
  settings: Partial<ApsSettings> = {},
  store?: SandboxStore,
): Promise<Setup> {
  const clock = new ManualClock(START);
  let handle: ApsSandboxHandle | undefined;
  const host = await startFakeHost(
    (ctx) => {
      const built = createApsFake({ ...CREDS, ...fakeOptions }, ctx);
      handle = built.handle;
      return [built.fake];
    },
    { clock, ...(store ? { store } : {}) },
  );
  hosts.push(host);
  const parsed = apsSettingsSchema.parse({
    name: 'aps-test',
    provider: 'aps',
    baseUrl: host.url,
    ...CREDS,
    ...settings,
  });
  const provider = apsModule.create(parsed, { clock, timeoutMs: 2_000, sandbox: true });
  return { clock, handle: handle as ApsSandboxHandle, provider, host };
}

function linkRequest(overrides: Partial<LinkRequest> = {}): LinkRequest {
  return {
    reference: 'chg-42-a1',
    orderReference: 'chg-42',
    customer: {
      name: '  Fatma Al-Sabah  ',
      email: 'fatma@example.com',
      mobile: '51234567',
      mobileCountryCode: '+965',
      language: 'en',
    },
    channel: 'email',
    amountMinor: 250_500,
    currency: 'KWD',
    expiresAt: EXPIRES,
    description: 'Rent December 2026 – Unit 12',
    returnUrl: 'https://rent.example.com/callback/aps',
    metadata: { charge: '42' },
    ...overrides,
  };
}

async function providerError(promise: Promise<unknown>): Promise<ProviderError> {
  const outcome = await promise.then(
    () => null,
    (err: unknown) => err,
  );
  expect(outcome).toBeInstanceOf(ProviderError);
  return outcome as ProviderError;
}

function lastBody(handle: ApsSandboxHandle): Record<string, unknown> {
  return handle.requests.at(-1)?.body as Record<string, unknown>;
}

describe('createLink', () => {
  it.each([
    ['email', 'EMAIL', false],
    ['sms', 'SMS', true],
    ['both', 'EMAIL,SMS', true],
    ['link', 'NONE', false],
  ] as const)(
    'channel %s sends notification_type %s and exactly the documented parameters',
    async (channel, type, sms) => {
      const { handle, provider } = await start();
      const created = await provider.createLink(linkRequest({ channel }));
      expect(lastBody(handle)).toEqual({
        service_command: 'PAYMENT_LINK',
        access_code: CREDS.accessCode,
        merchant_identifier: CREDS.merchantIdentifier,
        merchant_reference: 'chg-42-a1',
        amount: 250_500,
        currency: 'KWD',
        language: 'en',
        customer_email: 'fatma@example.com',
        customer_name: 'Fatma Al-Sabah',
        ...(sms ? { customer_phone: '96551234567' } : {}),
        request_expiry_date: '2026-12-05T23:59:59+04:00',
        notification_type: type,
        order_description: 'Rent December 2026 – Unit 12',
        return_url: 'https://rent.example.com/callback/aps',
        signature: expect.stringMatching(/^[0-9a-f]{128}$/),
      });
      expect(handle.requests.at(-1)?.responseCode).toBe('48000');
      const [link] = handle.links();
      expect(created).toEqual({
        providerLinkId: link?.linkId,
        url: handle.payPageUrl(link?.linkId ?? ''),
        expiresAt: EXPIRES,
      });
    },
  );

  it('truncates a long name to 40 characters and a description to 150', async () => {
    const { handle, provider } = await start();
    await provider.createLink(
      linkRequest({ customer: { ...linkRequest().customer, name: 'N'.repeat(60) }, description: 'd'.repeat(200) }),
    );
    expect(lastBody(handle)['customer_name']).toBe('N'.repeat(40));
    expect(lastBody(handle)['order_description']).toBe('d'.repeat(150));
  });

  it('refuses a request APS cannot take before sending anything', async () => {
    const { handle, provider } = await start();
    const noEmail = linkRequest({ customer: { ...linkRequest().customer, email: null } });
    expect((await providerError(provider.createLink(noEmail))).kind).toBe('rejected');
    expect((await providerError(provider.createLink(linkRequest({ reference: 'bad ref!' })))).kind).toBe('rejected');
    expect(handle.requests).toHaveLength(0);
  });

  it('a tampered answer is unavailable, never a success (the link exists: findLink finds it)', async () => {
    const { handle, provider } = await start();
    handle.injectFault('PAYMENT_LINK', { kind: 'bad-signature' });
    const err = await providerError(provider.createLink(linkRequest()));
    expect(err.kind).toBe('unavailable');
    expect(err.message).toMatch(/signature does not verify/);
    expect((await provider.findLink('chg-42-a1', 'KWD'))?.providerLinkId).toBe(handle.links()[0]?.linkId);
  });

  it('an unsigned status answer is unavailable', async () => {
    const { handle, provider } = await start();
    const created = await provider.createLink(linkRequest());
    handle.injectFault('CHECK_PAYMENT_LINK_STATUS', { kind: 'unsigned' });
    const key = { providerLinkId: created.providerLinkId, reference: 'chg-42-a1', currency: 'KWD' };
    expect((await providerError(provider.getStatus(key))).kind).toBe('unavailable');
    expect((await provider.getStatus(key)).state).toBe('pending');
  });

  it('lost answer → findLink finds the one link; creating again is refused', async () => {
    const { handle, provider } = await start();
    handle.injectFault('PAYMENT_LINK', { kind: 'lost' });
    expect((await providerError(provider.createLink(linkRequest()))).kind).toBe('unavailable');
    const found = await provider.findLink('chg-42-a1', 'KWD');
    expect(found).toMatchObject({ reference: 'chg-42-a1', state: 'pending', rawStatus: 'Open', amountMinor: 250_500 });
    expect(found?.providerLinkId).toBe(handle.linksByReference('chg-42-a1')[0]?.linkId);
    const again = await providerError(provider.createLink(linkRequest()));
    expect(again.kind).toBe('rejected');
    expect(again.message).toMatch(/Merchant reference already exists \(response_code 00066\).*findLink/);
    expect(handle.linksByReference('chg-42-a1')).toHaveLength(1);
    expect(await provider.findLink('chg-never-made', 'KWD')).toBeNull();
  });

  it('a wrong request phrase is refused (00008, rejected); a wrong response phrase is unavailable', async () => {
    const wrongRequest = await start({}, { requestPhrase: 'not-the-phrase' });
    const err = await providerError(wrongRequest.provider.createLink(linkRequest()));
    expect([err.kind, wrongRequest.handle.requests.at(-1)?.responseCode]).toEqual(['rejected', '00008']);
    expect(err.message).toMatch(/Signature mismatch.*check requestPhrase/);
    expect(err.message).not.toContain('not-the-phrase');
    const wrongResponse = await start({}, { responsePhrase: 'not-the-phrase' });
    expect((await providerError(wrongResponse.provider.createLink(linkRequest()))).kind).toBe('unavailable');
  });
});

describe('getStatus', () => {
  async function created(setup: Setup, overrides: Partial<LinkRequest> = {}) {
    const link = await setup.provider.createLink(linkRequest(overrides));
    return { providerLinkId: link.providerLinkId, reference: overrides.reference ?? 'chg-42-a1', currency: 'KWD' };
  }

  it('pay → paid, with the payment and the amount in minor units', async () => {
    const setup = await start();
    const key = await created(setup);
    const { transaction } = setup.handle.pay(key.providerLinkId);
    const status = await setup.provider.getStatus(key);
    expect(status).toMatchObject({
      providerLinkId: key.providerLinkId,
      reference: 'chg-42-a1',
      state: 'paid',
      rawStatus: 'Paid',
      amountMinor: 250_500,
      expiresAt: EXPIRES,
      payment: { paymentId: transaction.fortId, method: 'VISA', amountMinor: 250_500, paidAt: null },
      url: setup.handle.payPageUrl(key.providerLinkId),
    });
    expect(status.details).toMatchObject({ responseCode: '12000', paymentLinkStatus: 'Paid' });
    expect(JSON.stringify(status.details)).not.toContain(CREDS.accessCode);
    expect(lastBody(setup.handle)).toMatchObject({
      query_command: 'CHECK_PAYMENT_LINK_STATUS',
      payment_link_id: key.providerLinkId,
    });
  });

  it('past request_expiry_date → expired, and the link refuses payment unless forced', async () => {
    const setup = await start();
    const key = await created(setup);
    setup.clock.set(EXPIRES + 1_000);
    expect((await setup.provider.getStatus(key)).state).toBe('expired');
    expect(() => setup.handle.pay(key.providerLinkId)).toThrow(/expired/);
    setup.handle.pay(key.providerLinkId, { force: true });
    expect((await setup.provider.getStatus(key)).state).toBe('paid');
  });

  it('closed → canceled; a declined payment leaves it pending', async () => {
    const setup = await start();
    const key = await created(setup);
    setup.handle.failPayment(key.providerLinkId);
    expect((await setup.provider.getStatus(key)).state).toBe('pending');
    setup.handle.closeLink(key.providerLinkId);
    expect(await setup.provider.getStatus(key)).toMatchObject({
      state: 'canceled',
      rawStatus: 'Closed',
      payment: null,
    });
  });

  it('reads amounts back for a 3-decimal (KWD) and a 2-decimal (AED) currency; another currency gives null', async () => {
    const setup = await start();
    const kwd = await created(setup, { reference: 'kwd-1', amountMinor: 250_500, currency: 'KWD' });
    const aed = await created(setup, { reference: 'aed-1', amountMinor: 125_000, currency: 'AED' });
    expect((await setup.provider.getStatus(kwd)).amountMinor).toBe(250_500); // 250.500 KWD
    expect((await setup.provider.getStatus({ ...aed, currency: 'AED' })).amountMinor).toBe(125_000); // 1250.00 AED
    expect((await setup.provider.getStatus(aed)).amountMinor).toBeNull(); // asked in KWD, the link is AED
  });
});

describe('failures', () => {
  const key = { providerLinkId: '148708392700000001', reference: 'chg-42-a1', currency: 'KWD' };

  it('429 with and without Retry-After → rate_limited with retryAfterMs', async () => {
    const { handle, provider } = await start();
    handle.injectFault('CHECK_PAYMENT_LINK_STATUS', { kind: 'rate-limit', retryAfter: '7' });
    handle.injectFault('CHECK_PAYMENT_LINK_STATUS', { kind: 'rate-limit' });
    const first = await providerError(provider.getStatus(key));
    expect([first.kind, first.httpStatus, first.retryAfterMs]).toEqual(['rate_limited', 429, 7_000]);
    const second = await providerError(provider.getStatus(key));
    expect([second.kind, second.retryAfterMs]).toEqual(['rate_limited', null]);
  });

  it('the status rate limit answers 429 + Retry-After over the rate', async () => {
    const setup = await start({ statusRateLimitPerSecond: 1 });
    const link = await created(setup);
    await setup.provider.getStatus(link);
    const err = await providerError(setup.provider.getStatus(link));
    expect([err.kind, err.retryAfterMs, setup.handle.throttledCount]).toEqual(['rate_limited', 1_000, 1]);
  });

  it('an HTML 500 page is unavailable; so is a timeout', async () => {
    const { handle, provider, host } = await start();
    handle.injectFault('PAYMENT_LINK', { kind: 'http', status: 500 });
    const err = await providerError(provider.createLink(linkRequest()));
    expect([err.kind, err.httpStatus]).toEqual(['unavailable', 500]);
    expect(err.message).toMatch(/non-JSON/);
    const slow = apsModule.create(
      apsSettingsSchema.parse({ name: 'slow', provider: 'aps', baseUrl: host.url, ...CREDS }),
      { clock: new ManualClock(START), timeoutMs: 200, sandbox: true },
    );
    handle.injectFault('CHECK_PAYMENT_LINK_STATUS', { kind: 'timeout', ms: 60_000 });
    const timedOut = await providerError(slow.getStatus(key));
    expect([timedOut.kind, timedOut.message]).toEqual(['unavailable', 'CHECK_PAYMENT_LINK_STATUS: timed out']);
    expect(handle.links()).toHaveLength(0);
  });

  it('a 49 failure is rejected with the provider message', async () => {
    const { handle, provider } = await start();
    handle.injectFault('PAYMENT_LINK', { kind: 'reject', responseCode: '49005', message: 'Invalid amount' });
    const err = await providerError(provider.createLink(linkRequest()));
    expect(err.kind).toBe('rejected');
    expect(err.message).toBe('PAYMENT_LINK: Invalid amount (response_code 49005)');
  });

  async function created(setup: Setup) {
    const link = await setup.provider.createLink(linkRequest());
    return { providerLinkId: link.providerLinkId, reference: 'chg-42-a1', currency: 'KWD' };
  }
});

describe('the fake', () => {
  it('keeps links in the SandboxStore across a restart (one record per change)', async () => {
    const records = new Map<string, unknown>();
    let saves = 0;
    const store: SandboxStore = {
      load: <T>(kind: string) =>
        [...records.entries()].filter(([k]) => k.startsWith(`${kind}/`)).map(([, v]) => structuredClone(v) as T),
      save: (kind, id, value) => {
        saves++;
        records.set(`${kind}/${id}`, structuredClone(value));
      },
      close: () => undefined,
    };
    const first = await start({}, {}, store);
    const link = await first.provider.createLink(linkRequest());
    first.handle.pay(link.providerLinkId);
    expect(saves).toBe(2);
    await first.host.close();
    const second = await start({}, {}, store);
    const key = { providerLinkId: link.providerLinkId, reference: 'chg-42-a1', currency: 'KWD' };
    expect((await second.provider.getStatus(key)).state).toBe('paid');
    const next = await second.provider.createLink(linkRequest({ reference: 'chg-43-a1' }));
    expect(next.providerLinkId).not.toBe(link.providerLinkId);
  });

  it('the pay page pays through the browser: 302 to return_url with signed result fields', async () => {
    const { handle, provider } = await start();
    const link = await provider.createLink(linkRequest());
    const page = await (await fetch(link.url ?? '')).text();
    expect(page).toContain('250.500 KWD');
    expect(page).toContain('>Pay</button>');
    const clicked = await fetch(`${link.url}/pay`, { method: 'POST', redirect: 'manual' });
    expect(clicked.status).toBe(302);
    const location = new URL(clicked.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe('https://rent.example.com/callback/aps');
    expect(location.searchParams.get('response_code')).toBe('14000');
    expect(verifyApsSignature(Object.fromEntries(location.searchParams), CREDS.responsePhrase, 'sha512')).toBe(true);
    expect(handle.link(link.providerLinkId)?.linkStatus).toBe('Paid');
    expect(await (await fetch(link.url ?? '')).text()).not.toContain('>Pay</button>');
  });
});
