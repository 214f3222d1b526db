import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { apsContactProblems } from '../src/providers/aps/contact.js';
import {
  apsModule,
  apsSettingsSchema,
  apsSignature,
  apsSignatureText,
  verifyApsSignature,
} from '../src/providers/aps/index.js';
import { apsPhone, formatApsDateTime } from '../src/providers/aps/request.js';
import type { Contact, PaymentProvider } from '../src/providers/types.js';
import { createApsFake, type ApsFakeOptions, type ApsSandboxHandle } from '../src/sandbox/aps/index.js';
import { startFakeHost, type FakeHost } from '../src/sandbox/host.js';
import { ManualClock } from '../src/time/clock.js';

/** Signature vectors, transaction feedback (delivered by the fake), contact rules, settings. */

describe('signature known-answer vectors (computed with openssl, not with this code)', () => {
  // The documented vector (old PayFort docs, Java sample: "94C38AFC…", upper-case there):
  // printf '%s' 'PASSaccess_code=SILgpo7pWbmzuURp2qriamount=1000command=PURCHASEcurrency=USDcustomer_email=test@gmail.comlanguage=enmerchant_identifier=MxvOupuGmerchant_reference=Test010PASS' | openssl dgst -sha256 -r
  // … | openssl dgst -sha512 -r  (same input)
  const documented = {
    merchant_reference: 'Test010',
    language: 'en',
    customer_email: 'test@gmail.com',
    currency: 'USD',
    command: 'PURCHASE',
    amount: 1000,
    merchant_identifier: 'MxvOupuG',
    access_code: 'SILgpo7pWbmzuURp2qri',
  };
  const DOC_SHA256 = '94c38afc7bdae0114fc8c740edf12416f22998241ce4b4ea70d5521233a2c882';
  const DOC_SHA512 =
    '01575815bbdb23a862855bf2087012e243215e6464b6239a422d9a85936adca90bf6c3227c180890ad13b00ddf3a248608053d7174cbe622f24bdf2d5f345638';

  // printf '%s' 'Req-Phrase!9access_code=zx0IPmPy5jp1vAz8Kpg7amount=125000currency=AEDcustomer_email=tenant@example.comlanguage=enmerchant_identifier=CycHZxVjmerchant_reference=INV-2024-001notification_type=EMAIL,SMSrequest_expiry_date=2024-12-31T23:59:59+04:00service_command=PAYMENT_LINKReq-Phrase!9' | openssl dgst -sha256 -r
  // … | openssl dgst -sha512 -r  (same input)
  const paymentLink = {
    service_command: 'PAYMENT_LINK',
    notification_type: 'EMAIL,SMS',
    request_expiry_date: '2024-12-31T23:59:59+04:00',
    merchant_reference: 'INV-2024-001',
    amount: 125000,
    currency: 'AED',
    language: 'en',
    customer_email: 'tenant@example.com',
    merchant_identifier: 'CycHZxVj',
    access_code: 'zx0IPmPy5jp1vAz8Kpg7',
    signature: 'ignored: the signature is never part of what is signed',
  };
  const LINK_SHA256 = 'ced14eb82a63356a76555f245c0f98136bc2da3ef11a3880b14fc39bb14a0b1f';
  const LINK_SHA512 =
    '828934f8cd4dfc0be653f8746013ff047864e1a1f33de647a23a1a07215950f07e3840bb50c48951c228a98f65f1955d31cbd56e585668bac3309b9da09ee253';

  // printf '%s' 'PASSamount=100apple_header={apple_publicKeyHash=h, apple_transactionId=t}items=[1, 2]note=PASS' | openssl dgst -sha256 -r
  const nested = {
    note: null,
    items: [1, 2],
    apple_header: { apple_transactionId: 't', apple_publicKeyHash: 'h' },
    skipped: undefined,
    amount: 100,
  };
  const NESTED_SHA256 = 'bb83dc0a501e479008086628850a0f60e2b1d46c2b10afd3b944cce9d39955b9';

  it('signs the documented vector: PASS around the sorted name=value pairs', () => {
    expect(apsSignatureText(documented, 'PASS')).toBe(
      'PASSaccess_code=SILgpo7pWbmzuURp2qriamount=1000command=PURCHASEcurrency=USDcustomer_email=test@gmail.comlanguage=enmerchant_identifier=MxvOupuGmerchant_reference=Test010PASS',
    );
    expect(apsSignature(documented, 'PASS', 'sha256')).toBe(DOC_SHA256);
    expect(apsSignature(documented, 'PASS', 'sha512')).toBe(DOC_SHA512);
  });

  it('signs a PAYMENT_LINK request, ignoring its own signature field', () => {
    expect(apsSignature(paymentLink, 'Req-Phrase!9', 'sha256')).toBe(LINK_SHA256);
    expect(apsSignature(paymentLink, 'Req-Phrase!9', 'sha512')).toBe(LINK_SHA512);
  });

  it('stringifies nested values deterministically (sorted keys, null as empty, undefined left out)', () => {
    expect(apsSignature(nested, 'PASS', 'sha256')).toBe(NESTED_SHA256);
  });

  it('verifies case-insensitively and refuses a changed field, phrase or algorithm', () => {
    const signed = { ...documented, signature: DOC_SHA256.toUpperCase() };
    expect(verifyApsSignature(signed, 'PASS', 'sha256')).toBe(true);
    expect(verifyApsSignature({ ...signed, amount: 1001 }, 'PASS', 'sha256')).toBe(false);
    expect(verifyApsSignature(signed, 'PASS2', 'sha256')).toBe(false);
    expect(verifyApsSignature(signed, 'PASS', 'sha512')).toBe(false);
    expect(verifyApsSignature(documented, 'PASS', 'sha256')).toBe(false); // no signature at all
  });
});

describe('transaction feedback delivered by the fake', () => {
  const CREDS = {
    accessCode: 'zx0IPmPy5jp1vAz8Kpg7',
    merchantIdentifier: 'CycHZxVj',
    requestPhrase: 'req-phrase-41',
    responsePhrase: 'resp-phrase-97',
  };
  const closers: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  /** A receiver that answers `statuses` in turn (then 200) and keeps what it got. */
  async function receiver(statuses: number[] = []) {
    const received: Array<{ contentType: string; body: string }> = [];
    const server: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        received.push({ contentType: req.headers['content-type'] ?? '', body });
        res.writeHead(statuses.shift() ?? 200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => (server.closeAllConnections(), server.close(resolve))));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/aps/notify`, received };
  }

  async function paidLink(options: Partial<ApsFakeOptions>) {
    const clock = new ManualClock('2026-11-20T08:00:00Z');
    let handle: ApsSandboxHandle | undefined;
    const host: FakeHost = await startFakeHost(
      (ctx) => {
        const built = createApsFake({ ...CREDS, webhookRetryDelayMs: 60_000, ...options }, ctx);
        handle = built.handle;
        return [built.fake];
      },
      { clock },
    );
    closers.push(() => host.close());
    const settings = apsSettingsSchema.parse({ name: 'aps', provider: 'aps', baseUrl: host.url, ...CREDS });
    const provider: PaymentProvider = apsModule.create(settings, { clock, timeoutMs: 2_000, sandbox: true });
    const created = await provider.createLink({
      reference: 'chg-7-a1',
      orderReference: 'chg-7',
      customer: { name: 'Omar', email: 'omar@example.com', mobile: null, mobileCountryCode: null, language: 'ar' },
      channel: 'link',
      amountMinor: 125_000,
      currency: 'AED',
      expiresAt: Date.parse('2026-12-01T19:59:59Z'),
      description: 'Rent',
      metadata: {},
    });
    const sandbox = handle as ApsSandboxHandle;
    const { transaction } = sandbox.pay(created.providerLinkId);
    return { provider, sandbox, linkId: created.providerLinkId, fortId: transaction.fortId };
  }

  it('a JSON notification is a hint with the link id and reference, only from verified fields', async () => {
    const target = await receiver();
    const { provider, sandbox, linkId, fortId } = await paidLink({ webhookUrl: target.url, webhookFormat: 'json' });
    await sandbox.webhooksIdle();
    const [delivery] = target.received;
    expect(delivery?.contentType).toBe('application/json');
    const result = provider.parseWebhook({
      headers: { 'content-type': 'application/json' },
      rawBody: delivery?.body ?? '',
    });
    expect(result).toEqual({
      kind: 'hint',
      hint: {
        providerLinkId: linkId,
        reference: 'chg-7-a1',
        dedupeKey: `${linkId}|chg-7-a1|${fortId}|14000|14`,
        summary: expect.objectContaining({ responseCode: '14000', fortId, amount: '125000', currency: 'AED' }),
      },
    });
    const body = JSON.parse(delivery?.body ?? '{}') as Record<string, unknown>;
    const tampered = JSON.stringify({ ...body, merchant_reference: 'chg-8-a1' });
    expect(provider.parseWebhook({ headers: {}, rawBody: tampered }).kind).toBe('bad-signature');
    const { signature: _dropped, ...unsigned } = body;
    expect(provider.parseWebhook({ headers: {}, rawBody: JSON.stringify(unsigned) })).toEqual({
      kind: 'bad-signature',
      reason: 'the notification has no signature field',
    });
  });

  it('a form-encoded notification is accepted too; a wrong signature is not', async () => {
    const target = await receiver();
    const { provider, sandbox, linkId } = await paidLink({ webhookUrl: target.url, webhookFormat: 'form' });
    await sandbox.webhooksIdle();
    const [delivery] = target.received;
    expect(delivery?.contentType).toBe('application/x-www-form-urlencoded');
    const headers = { 'content-type': 'application/x-www-form-urlencoded' };
    const result = provider.parseWebhook({ headers, rawBody: delivery?.body ?? '' });
    expect(result.kind === 'hint' && [result.hint.providerLinkId, result.hint.reference]).toEqual([linkId, 'chg-7-a1']);
    const fields = new URLSearchParams(delivery?.body);
    fields.set('signature', 'f'.repeat(64));
    expect(provider.parseWebhook({ headers, rawBody: fields.toString() }).kind).toBe('bad-signature');
    expect(provider.parseWebhook({ headers, rawBody: `${delivery?.body}&amount=1` }).kind).toBe('bad-signature');
  });

  it('retries until the receiver accepts, without waiting when told to deliver now', async () => {
    const target = await receiver([500, 503]);
    const { sandbox } = await paidLink({ webhookUrl: target.url }); // retries 60 s apart unless hurried
    await sandbox.deliverWebhooksNow();
    expect(sandbox.webhookDeliveries.map((d) => [d.attempt, d.status])).toEqual([
      [1, 500],
      [2, 503],
      [3, 200],
    ]);
    expect(new Set(target.received.map((r) => r.body)).size).toBe(1);
  });

  it('never throws on garbage', async () => {
    const { provider } = await paidLink({});
    for (const rawBody of ['', 'not json {', '[1,2]', '{"signature": {"a": 1}}', 'a=1&a=2', 'x'.repeat(70_000)]) {
      expect(provider.parseWebhook({ headers: {}, rawBody }).kind).toBe('bad-signature');
    }
  });
});

describe('contactProblems', () => {
  const contact: Contact = {
    name: 'Fatma',
    email: 'fatma@example.com',
    mobile: '51234567',
    mobileCountryCode: '+965',
    language: 'en',
  };
  const fields = (c: Partial<Contact>, channel: 'email' | 'sms' | 'both' | 'link', currency = 'KWD') =>
    apsContactProblems({ ...contact, ...c }, channel, currency).map((p) => p.field);

  it('needs an email for every channel, a phone only for SMS', () => {
    expect(fields({}, 'both')).toEqual([]);
    expect(fields({ email: null }, 'link')).toEqual(['email']);
    expect(fields({ email: 'not-an-address' }, 'email')).toEqual(['email']);
    expect(fields({ mobile: null, mobileCountryCode: null }, 'email')).toEqual([]);
    expect(fields({ mobile: null, mobileCountryCode: null }, 'sms')).toEqual(['mobile', 'mobile_country_code']);
    expect(fields({ mobileCountryCode: null }, 'both')).toEqual(['mobile_country_code']);
  });

  it('allows at most 19 digits of country code + number, and only currencies it can read', () => {
    expect(fields({ mobileCountryCode: '+971', mobile: '1'.repeat(16) }, 'sms')).toEqual([]);
    expect(fields({ mobileCountryCode: '+971', mobile: '1'.repeat(17) }, 'sms')).toEqual(['mobile']);
    expect(fields({}, 'link', 'XYZ')).toEqual(['currency']);
  });

  it('writes customer_phone as country code + national digits, and expiry with the zone offset', () => {
    expect(apsPhone('+965', '51234567')).toBe('96551234567');
    expect(apsPhone('00971', '050 123 4567')).toBe('971501234567');
    expect(apsPhone('+965', null)).toBeNull();
    expect(formatApsDateTime(Date.parse('2026-12-05T19:59:59.750Z'), 'Asia/Dubai')).toBe('2026-12-05T23:59:59+04:00');
    expect(formatApsDateTime(Date.parse('2026-07-01T12:00:00Z'), 'Europe/London')).toBe('2026-07-01T13:00:00+01:00');
    expect(formatApsDateTime(Date.parse('2026-01-15T12:00:00Z'), 'America/New_York')).toBe('2026-01-15T07:00:00-05:00');
    expect(formatApsDateTime(Date.parse('2026-01-15T12:00:00Z'), 'Asia/Kolkata')).toBe('2026-01-15T17:30:00+05:30');
  });
});

describe('settings', () => {
  const entry = {
    name: 'gulf-aps',
    provider: 'aps',
    baseUrl: 'https://sbpaymentservices.payfort.com/',
    accessCode: 'zx0IPmPy5jp1vAz8Kpg7',
    merchantIdentifier: 'CycHZxVj',
    requestPhrase: 'secret-request-phrase',
    responsePhrase: 'secret-response-phrase',
  };

  it('defaults shaType and timeZone and accepts the dashboard spelling SHA-512', () => {
    expect(apsSettingsSchema.parse(entry)).toMatchObject({
      baseUrl: 'https://sbpaymentservices.payfort.com',
      shaType: 'sha256',
      timeZone: 'Asia/Dubai',
    });
    expect(apsSettingsSchema.parse({ ...entry, shaType: 'SHA-512' }).shaType).toBe('sha512');
  });

  it('names the key in its messages and never repeats a secret', () => {
    const result = apsSettingsSchema.safeParse({
      ...entry,
      baseUrl: 'ftp://example.com',
      accessCode: undefined,
      responsePhrase: '',
      shaType: 'md5',
      timeZone: 'Mars/Olympus',
    });
    const messages = result.success ? [] : result.error.issues.map((i) => i.message);
    for (const key of ['baseUrl', 'accessCode', 'responsePhrase', 'shaType', 'timeZone']) {
      expect(messages.some((m) => m.startsWith(key))).toBe(true);
    }
    expect(messages.join(' ')).not.toContain('secret-request-phrase');
  });

  it('builds a provider named after the account', () => {
    const provider = apsModule.create(apsSettingsSchema.parse(entry), {
      clock: new ManualClock('2026-11-20T08:00:00Z'),
      timeoutMs: 1_000,
      sandbox: false,
    });
    expect(provider).toMatchObject({ id: 'aps', account: 'gulf-aps', sandbox: false, canCancel: false });
    expect([provider.maxValidityMs, provider.timeZone]).toEqual([null, 'Asia/Dubai']);
  });
});
