import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DAY, ManualClock } from '../src/time/clock.js';
import { verifyMyFatoorahWebhook } from '../src/providers/myfatoorah/webhook.js';
import { startSandbox, type SandboxHandle, type SandboxOptions } from '../src/sandbox/server.js';

const TOKEN = 'sandbox-token';
const START = '2026-11-01T06:00:00Z'; // 09:00 in Asia/Kuwait (UTC+3, no DST)
const SECRET = 'whsec-sandbox-test';

const handles: SandboxHandle[] = [];
const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(handles.splice(0).map((handle) => handle.close()));
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise((resolve) => {
          server.closeAllConnections();
          server.close(resolve);
        }),
    ),
  );
});

async function start(options: SandboxOptions = {}): Promise<{ sb: SandboxHandle; clock: ManualClock }> {
  const clock = new ManualClock(START);
  const sb = await startSandbox({ clock, ...options });
  handles.push(sb);
  return { sb, clock };
}

interface ApiAnswer {
  status: number;
  headers: Headers;
  text: string;
  json: Record<string, unknown>;
}

async function api(
  sb: SandboxHandle,
  endpoint: string,
  body: unknown,
  init: { token?: string | null; signal?: AbortSignal } = {},
): Promise<ApiAnswer> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const token = init.token === undefined ? TOKEN : init.token;
  if (token !== null) headers['authorization'] = `Bearer ${token}`;
  const response = await fetch(`${sb.url}/v2/${endpoint}`, {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
    ...(init.signal ? { signal: init.signal } : {}),
  });
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // non-JSON bodies are part of what is being tested
  }
  return { status: response.status, headers: response.headers, text, json };
}

function invoiceRequest(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    InvoiceValue: 250.5,
    CustomerName: 'Fatma Al-Sabah',
    NotificationOption: 'LNK',
    CustomerReference: 'lease-42-2026-11',
    DisplayCurrencyIso: 'KWD',
    Language: 'en',
    CallBackUrl: 'http://127.0.0.1:9999/callback',
    ErrorUrl: 'http://127.0.0.1:9999/error?from=mf',
    ExpiryDate: '2026-11-03T23:59:59',
    ...overrides,
  };
}

async function createInvoice(sb: SandboxHandle, overrides: Record<string, unknown> = {}): Promise<number> {
  const answer = await api(sb, 'SendPayment', invoiceRequest(overrides));
  expect(answer.status).toBe(200);
  return (answer.json['Data'] as { InvoiceId: number }).InvoiceId;
}

async function status(
  sb: SandboxHandle,
  key: string | number,
  keyType = 'InvoiceId',
): Promise<Record<string, unknown>> {
  const answer = await api(sb, 'GetPaymentStatus', { Key: String(key), KeyType: keyType });
  expect(answer.status).toBe(200);
  return answer.json['Data'] as Record<string, unknown>;
}

function transactions(data: Record<string, unknown>): Record<string, unknown>[] {
  return data['InvoiceTransactions'] as Record<string, unknown>[];
}

async function click(sb: SandboxHandle, invoiceId: number, button: 'pay' | 'fail'): Promise<Response> {
  return fetch(`${sb.url}/pay/${invoiceId}/${button}`, { method: 'POST', redirect: 'manual' });
}

function errorNames(answer: ApiAnswer): string[] {
  return ((answer.json['ValidationErrors'] ?? []) as { Name: string }[]).map((e) => e.Name);
}

describe('SendPayment + GetPaymentStatus', () => {
  it('creates an invoice and reports it Pending with account-local dates', async () => {
    const { sb } = await start();
    const created = await api(sb, 'SendPayment', invoiceRequest({ UserDefinedField: 'tenant-7' }));
    expect(created.status).toBe(200);
    expect(created.json).toEqual({
      IsSuccess: true,
      Message: 'Invoice Created Successfully!',
      ValidationErrors: null,
      Data: {
        InvoiceId: 100001,
        InvoiceURL: `${sb.url}/pay/100001`,
        CustomerReference: 'lease-42-2026-11',
        UserDefinedField: 'tenant-7',
      },
    });

    const data = await status(sb, 100001);
    expect(data).toMatchObject({
      InvoiceId: 100001,
      InvoiceStatus: 'Pending',
      CustomerReference: 'lease-42-2026-11',
      CreatedDate: '2026-11-01T09:00:00.000',
      ExpiryDate: 'November 3, 2026',
      ExpiryTime: '23:59:59.000',
      InvoiceValue: 250.5,
      InvoiceDisplayValue: '250.500 KD',
      CustomerName: 'Fatma Al-Sabah',
      UserDefinedField: 'tenant-7',
      InvoiceItems: [],
      InvoiceTransactions: [],
    });
    expect(data['InvoiceReference']).toMatch(/^2026\d{6}$/);

    const stored = sb.invoices();
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      id: 100001,
      reference: 'lease-42-2026-11',
      valueMinor: 250_500,
      status: 'Pending',
      callBackUrl: 'http://127.0.0.1:9999/callback',
    });
    expect(stored[0]?.expiresAt).toBe(Date.parse('2026-11-03T20:59:59Z'));
    expect(sb.requests.map((r) => [r.endpoint, r.status])).toEqual([
      ['SendPayment', 200],
      ['GetPaymentStatus', 200],
    ]);
  });

  it('applies the default validity when ExpiryDate is omitted', async () => {
    const { sb } = await start();
    const id = await createInvoice(sb, { ExpiryDate: undefined });
    expect(sb.invoice(id)?.expiresAt).toBe(Date.parse(START) + 10 * DAY);
    expect(await status(sb, id)).toMatchObject({ ExpiryDate: 'November 11, 2026', ExpiryTime: '09:00:00.000' });
  });

  it('keeps duplicate CustomerReferences and answers the most recent by reference', async () => {
    const { sb } = await start();
    const first = await createInvoice(sb);
    const second = await createInvoice(sb);
    expect(second).toBe(first + 1);
    expect(sb.invoicesByReference('lease-42-2026-11').map((i) => i.id)).toEqual([first, second]);
    expect((await status(sb, 'lease-42-2026-11', 'CustomerReference'))['InvoiceId']).toBe(second);
  });

  it('answers an unknown key with "No data match!"', async () => {
    const { sb } = await start();
    const answer = await api(sb, 'GetPaymentStatus', { Key: '999', KeyType: 'InvoiceId' });
    expect(answer.status).toBe(400);
    expect(answer.json).toEqual({
      IsSuccess: false,
      Message: 'No data match!',
      ValidationErrors: [{ Name: 'Key', Error: 'No data match the provided key' }],
      Data: null,
    });
  });

  it('answers a missing or wrong token with an empty 401', async () => {
    const { sb } = await start();
    for (const token of [null, 'wrong']) {
      const answer = await api(sb, 'SendPayment', invoiceRequest(), { token });
      expect(answer.status).toBe(401);
      expect(answer.text).toBe('');
    }
    expect(sb.invoices()).toHaveLength(0);
  });
});

describe('SendPayment validation', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    [
      'a mobile that breaks the pattern',
      { NotificationOption: 'SMS', CustomerMobile: '9651234567890', MobileCountryCode: '+965' },
      'CustomerMobile',
    ],
    ['a mobile with letters', { NotificationOption: 'LNK', CustomerMobile: '5551ab34' }, 'CustomerMobile'],
    ['SMS without MobileCountryCode', { NotificationOption: 'SMS', CustomerMobile: '51234567' }, 'MobileCountryCode'],
    ['EML without email', { NotificationOption: 'EML' }, 'CustomerEmail'],
    [
      'ALL with a bad email',
      { NotificationOption: 'ALL', CustomerEmail: 'nope', CustomerMobile: '51234567', MobileCountryCode: '965' },
      'CustomerEmail',
    ],
    ['too many decimals for KWD', { InvoiceValue: 250.5005 }, 'InvoiceValue'],
    ['a zero amount', { InvoiceValue: 0 }, 'InvoiceValue'],
    ['an amount as a string', { InvoiceValue: '250.500' }, 'InvoiceValue'],
    ['a past ExpiryDate', { ExpiryDate: '2026-11-01T08:59:59' }, 'ExpiryDate'],
    ['an ExpiryDate with an offset', { ExpiryDate: '2026-11-03T23:59:59Z' }, 'ExpiryDate'],
    ['an impossible ExpiryDate', { ExpiryDate: '2026-11-31T10:00:00' }, 'ExpiryDate'],
    ['a missing CustomerName', { CustomerName: '  ' }, 'CustomerName'],
    ['an unknown NotificationOption', { NotificationOption: 'FAX' }, 'NotificationOption'],
    ['an unknown Language', { Language: 'fr' }, 'Language'],
    ['a CallBackUrl over 254 chars', { CallBackUrl: `https://example.com/${'a'.repeat(240)}` }, 'CallBackUrl'],
    ['a relative ErrorUrl', { ErrorUrl: '/error' }, 'ErrorUrl'],
    ['a UserDefinedField over 500 chars', { UserDefinedField: 'x'.repeat(501) }, 'UserDefinedField'],
    ['an unknown display currency', { DisplayCurrencyIso: 'XYZ' }, 'DisplayCurrencyIso'],
    ['items that do not add up', { InvoiceItems: [{ ItemName: 'Rent', Quantity: 1, UnitPrice: 250 }] }, 'InvoiceValue'],
  ];

  it.each(cases)('rejects %s naming the field', async (_label, overrides, field) => {
    const { sb } = await start();
    const answer = await api(sb, 'SendPayment', invoiceRequest(overrides));
    expect(answer.status).toBe(400);
    expect(answer.json).toMatchObject({ IsSuccess: false, Message: 'Invalid data', Data: null });
    expect(errorNames(answer)).toEqual([field]);
    expect(sb.invoices()).toHaveLength(0);
  });

  it('reports every bad field at once', async () => {
    const { sb } = await start();
    const answer = await api(sb, 'SendPayment', { InvoiceValue: -1, NotificationOption: 'EML' });
    expect(errorNames(answer).sort()).toEqual(['CustomerEmail', 'CustomerName', 'InvoiceValue']);
  });

  it('accepts what the real API accepts, plus localhost URLs (sandbox-only leniency)', async () => {
    const { sb } = await start();
    await createInvoice(sb, {
      NotificationOption: 'all',
      CustomerEmail: 'tenant@example.com',
      CustomerMobile: '+96551234',
      MobileCountryCode: '965',
      Language: 'AR',
      CallBackUrl: 'http://localhost:3000/cb',
      InvoiceValue: 250,
      InvoiceItems: [{ ItemName: 'Rent', Quantity: 2, UnitPrice: 125 }],
    });
    expect(sb.invoices()[0]).toMatchObject({
      language: 'ar',
      notificationOption: 'ALL',
      mobileCountryCode: '+965',
      valueMinor: 250_000,
    });
  });
});

describe('pay page and payments', () => {
  it('pays via the Pay button: 302 to CallBackUrl?paymentId=…, then Paid with a Succss transaction', async () => {
    const { sb } = await start();
    const id = await createInvoice(sb, { CallBackUrl: 'https://tenant.example/cb?lease=42' });
    const response = await click(sb, id, 'pay');
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe('https://tenant.example/cb');
    expect(location.searchParams.get('lease')).toBe('42');
    const paymentId = location.searchParams.get('paymentId') ?? '';
    expect(paymentId).toMatch(/^\d+$/);

    const data = await status(sb, paymentId, 'PaymentId');
    expect(data['InvoiceStatus']).toBe('Paid');
    expect(transactions(data)).toHaveLength(1);
    expect(transactions(data)[0]).toMatchObject({
      PaymentId: paymentId,
      TransactionStatus: 'Succss',
      PaymentGateway: 'KNET',
      TransationValue: '250.500',
      Currency: 'KD',
      ErrorCode: '',
      TransactionDate: '2026-11-01T09:00:00.000',
    });
  });

  it('marks a second successful payment as DuplicatePayment', async () => {
    const { sb } = await start();
    const id = await createInvoice(sb);
    const first = await click(sb, id, 'pay');
    const second = await click(sb, id, 'pay');
    expect([first.status, second.status]).toEqual([302, 302]);
    expect(first.headers.get('location')).not.toBe(second.headers.get('location'));
    const data = await status(sb, id);
    expect(data['InvoiceStatus']).toBe('DuplicatePayment');
    expect(transactions(data).map((t) => t['TransactionStatus'])).toEqual(['Succss', 'Succss']);
  });

  it('records a declined attempt: Failed MF002, still Pending, 302 to ErrorUrl with & for its query', async () => {
    const { sb } = await start();
    const id = await createInvoice(sb);
    const response = await click(sb, id, 'fail');
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toMatch(/^http:\/\/127\.0\.0\.1:9999\/error\?from=mf&paymentId=\d+$/);
    const data = await status(sb, id);
    expect(data['InvoiceStatus']).toBe('Pending');
    expect(transactions(data)[0]).toMatchObject({ TransactionStatus: 'Failed', ErrorCode: 'MF002' });
  });

  it('sends the browser to the sandbox result page when there is no CallBackUrl', async () => {
    const { sb } = await start();
    const id = await createInvoice(sb, { CallBackUrl: undefined });
    const response = await click(sb, id, 'pay');
    const location = response.headers.get('location') ?? '';
    expect(location.startsWith(`${sb.url}/pay/${id}/result?paymentId=`)).toBe(true);
    const page = await fetch(location);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Thank you');
  });

  it('shows the invoice with the right decimals and both buttons, in Arabic right-to-left when asked', async () => {
    const { sb } = await start();
    const en = await createInvoice(sb);
    const ar = await createInvoice(sb, { Language: 'ar' });
    const enHtml = await (await fetch(`${sb.url}/pay/${en}`)).text();
    expect(enHtml).toContain('Fatma Al-Sabah');
    expect(enHtml).toContain('250.500 KWD');
    expect(enHtml).toContain('2026-11-03 23:59');
    expect(enHtml).toContain(`action="/pay/${en}/pay"`);
    expect(enHtml).toContain(`action="/pay/${en}/fail"`);
    const arHtml = await (await fetch(`${sb.url}/pay/${ar}`)).text();
    expect(arHtml).toContain('dir="rtl"');
    expect(arHtml).toContain('ادفع');
  });

  it('refuses payment once expired (page, button and handle), unless forced', async () => {
    const { sb, clock } = await start();
    const id = await createInvoice(sb);
    clock.set('2026-11-03T21:00:00Z'); // 2026-11-04T00:00 Kuwait, past 23:59:59
    const html = await (await fetch(`${sb.url}/pay/${id}`)).text();
    expect(html).toContain('expired');
    expect(html).not.toContain(`action="/pay/${id}/pay"`);
    expect((await click(sb, id, 'pay')).status).toBe(409);
    expect(() => sb.pay(id)).toThrow(/expired/);
    const forced = sb.pay(id, { force: true });
    expect(forced.invoice.status).toBe('Paid');
    expect(forced.redirectUrl).toBe(`http://127.0.0.1:9999/callback?paymentId=${forced.paymentId}`);
    // Expiry is the client's business: the status API never says "Expired".
    expect((await status(sb, id))['InvoiceStatus']).toBe('Paid');
  });

  it('cancels: status Canceled, no Pay button, payment refused', async () => {
    const { sb } = await start();
    const id = await createInvoice(sb);
    expect(sb.cancel(id).status).toBe('Canceled');
    expect((await status(sb, id))['InvoiceStatus']).toBe('Canceled');
    const html = await (await fetch(`${sb.url}/pay/${id}`)).text();
    expect(html).not.toContain(`action="/pay/${id}/pay"`);
    expect(() => sb.pay(id, { force: true })).toThrow(/canceled/);
    const paid = await createInvoice(sb);
    sb.pay(paid);
    expect(() => sb.cancel(paid)).toThrow(/paid/);
  });

  it('answers unknown invoices with 404 pages', async () => {
    const { sb } = await start();
    expect((await fetch(`${sb.url}/pay/424242`)).status).toBe(404);
    expect((await click(sb, 424242, 'pay')).status).toBe(404);
  });
});

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A tiny webhook receiver answering the queued statuses (then 200). */
async function webhookReceiver(answers: number[] = []): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.statusCode = answers.shift() ?? 200;
      res.end('ok');
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/myfatoorah`, received };
}

describe('webhooks', () => {
  it('delivers a signed V2 PAYMENT_STATUS_CHANGED that verifies', async () => {
    const receiver = await webhookReceiver();
    const { sb } = await start({ webhookUrl: receiver.url, webhookSecret: SECRET });
    const id = await createInvoice(sb);
    const response = await click(sb, id, 'pay');
    const paymentId = new URL(response.headers.get('location') ?? '').searchParams.get('paymentId');
    await sb.webhooksIdle();

    expect(receiver.received).toHaveLength(1);
    const [delivery] = receiver.received;
    const signature = delivery?.headers['myfatoorah-signature'];
    expect(typeof signature).toBe('string');
    const hint = verifyMyFatoorahWebhook(delivery?.body ?? '', signature as string, SECRET);
    expect(hint).toEqual({
      version: 'v2',
      invoiceId: String(id),
      paymentId,
      reference: 'lease-42-2026-11',
      invoiceStatus: 'PAID',
      transactionStatus: 'SUCCESS',
      dedupeKey: `${id}|${paymentId}|PAID|SUCCESS`,
    });
    expect(verifyMyFatoorahWebhook(delivery?.body ?? '', signature as string, 'other-secret')).toBeNull();
    const body = JSON.parse(delivery?.body ?? '{}') as {
      Event: Record<string, unknown>;
      Data: { Amount: Record<string, unknown> };
    };
    expect(body.Event).toMatchObject({ Code: 1, Name: 'PAYMENT_STATUS_CHANGED', CountryIsoCode: 'KWT' });
    expect(body.Data.Amount).toMatchObject({ BaseCurrency: 'KWD', ValueInBaseCurrency: '250.500' });
    expect(sb.webhookDeliveries).toMatchObject([{ attempt: 1, status: 200 }]);
  });

  it('sends PENDING/FAILED for a declined attempt and a null ExternalIdentifier without reference', async () => {
    const receiver = await webhookReceiver();
    const { sb } = await start({ webhookUrl: receiver.url, webhookSecret: SECRET });
    const id = await createInvoice(sb, { CustomerReference: undefined });
    sb.failPayment(id);
    await sb.webhooksIdle();
    const delivery = receiver.received[0];
    const hint = verifyMyFatoorahWebhook(
      delivery?.body ?? '',
      delivery?.headers['myfatoorah-signature'] as string,
      SECRET,
    );
    expect(hint).toMatchObject({
      invoiceId: String(id),
      reference: null,
      invoiceStatus: 'PENDING',
      transactionStatus: 'FAILED',
    });
  });

  it('retries non-2xx answers (same event, same signature) until one succeeds', async () => {
    const receiver = await webhookReceiver([500, 503]);
    const { sb } = await start({ webhookUrl: receiver.url, webhookSecret: SECRET, webhookRetryDelayMs: 1 });
    sb.pay(await createInvoice(sb));
    await sb.webhooksIdle();
    expect(sb.webhookDeliveries.map((d) => [d.attempt, d.status])).toEqual([
      [1, 500],
      [2, 503],
      [3, 200],
    ]);
    expect(new Set(receiver.received.map((r) => r.body)).size).toBe(1);
    expect(new Set(sb.webhookDeliveries.map((d) => d.eventReference)).size).toBe(1);
  });

  it('gives up after 5 retries', async () => {
    const receiver = await webhookReceiver(Array.from({ length: 10 }, () => 500));
    const { sb } = await start({ webhookUrl: receiver.url, webhookSecret: SECRET, webhookRetryDelayMs: 1 });
    sb.pay(await createInvoice(sb));
    await sb.webhooksIdle();
    expect(sb.webhookDeliveries.map((d) => d.attempt)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(receiver.received).toHaveLength(6);
  });

  it('deliverWebhooksNow() skips the retry delay', async () => {
    const receiver = await webhookReceiver([500, 500]);
    // An hour between retries: only deliverWebhooksNow() can make this test finish.
    const { sb } = await start({ webhookUrl: receiver.url, webhookSecret: SECRET, webhookRetryDelayMs: 3_600_000 });
    sb.pay(await createInvoice(sb));
    await sb.deliverWebhooksNow();
    expect(sb.webhookDeliveries.map((d) => d.status)).toEqual([500, 500, 200]);
  });

  it('records network errors as status null', async () => {
    const { sb } = await start({
      webhookUrl: 'http://127.0.0.1:1/nothing-listens',
      webhookSecret: SECRET,
      webhookRetryDelayMs: 1,
    });
    sb.pay(await createInvoice(sb));
    await sb.webhooksIdle();
    expect(sb.webhookDeliveries).toHaveLength(6);
    expect(sb.webhookDeliveries.every((d) => d.status === null && typeof d.error === 'string')).toBe(true);
  });

  it('sends nothing without webhook configuration', async () => {
    const { sb } = await start();
    sb.pay(await createInvoice(sb));
    await sb.webhooksIdle();
    expect(sb.webhookDeliveries).toEqual([]);
  });
});

describe('faults', () => {
  it('http: an HTML 503 page, nothing created', async () => {
    const { sb } = await start();
    sb.injectFault('SendPayment', { kind: 'http', status: 503 });
    const answer = await api(sb, 'SendPayment', invoiceRequest());
    expect(answer.status).toBe(503);
    expect(answer.headers.get('content-type')).toContain('text/html');
    expect(answer.text).toContain('503');
    expect(sb.invoices()).toHaveLength(0);
    expect(sb.requests[0]).toMatchObject({ endpoint: 'SendPayment', status: 503, fault: 'http' });
    await createInvoice(sb); // the fault was used up
  });

  it('http: a custom body and content type', async () => {
    const { sb } = await start();
    sb.injectFault('GetPaymentStatus', {
      kind: 'http',
      status: 500,
      body: '{"oops":true}',
      contentType: 'application/json',
    });
    const answer = await api(sb, 'GetPaymentStatus', { Key: '1', KeyType: 'InvoiceId' });
    expect(answer.status).toBe(500);
    expect(answer.json).toEqual({ oops: true });
  });

  it('rate-limit: 429 with the given Retry-After, or none', async () => {
    const { sb } = await start();
    sb.injectFault('SendPayment', { kind: 'rate-limit', retryAfter: '2' });
    sb.injectFault('SendPayment', { kind: 'rate-limit' });
    const first = await api(sb, 'SendPayment', invoiceRequest());
    const second = await api(sb, 'SendPayment', invoiceRequest());
    expect([first.status, second.status]).toEqual([429, 429]);
    expect(first.headers.get('retry-after')).toBe('2');
    expect(second.headers.get('retry-after')).toBeNull();
    expect(sb.invoices()).toHaveLength(0);
  });

  it('timeout: the request is held past the client timeout, nothing created', async () => {
    const { sb } = await start();
    sb.injectFault('SendPayment', { kind: 'timeout', ms: 200 });
    await expect(api(sb, 'SendPayment', invoiceRequest(), { signal: AbortSignal.timeout(100) })).rejects.toMatchObject({
      name: 'TimeoutError',
    });
    expect(sb.invoices()).toHaveLength(0);
    expect(sb.requests[0]).toMatchObject({ fault: 'timeout', status: 0 });
  });

  it('timeout: a patient client gets a gateway 504 after the hold', async () => {
    const { sb } = await start();
    sb.injectFault('GetPaymentStatus', { kind: 'timeout', ms: 20 });
    const answer = await api(sb, 'GetPaymentStatus', { Key: '1', KeyType: 'InvoiceId' });
    expect(answer.status).toBe(504);
  });

  it('lost: the invoice is created but the client sees a dropped connection', async () => {
    const { sb } = await start();
    sb.injectFault('SendPayment', { kind: 'lost' });
    // undici: "fetch failed", cause "other side closed" (UND_ERR_SOCKET).
    await expect(api(sb, 'SendPayment', invoiceRequest())).rejects.toThrow('fetch failed');
    expect(sb.invoicesByReference('lease-42-2026-11')).toHaveLength(1);
    expect(sb.requests[0]).toMatchObject({ fault: 'lost', status: 0 });
    // The client can recover by looking the reference up.
    expect((await status(sb, 'lease-42-2026-11', 'CustomerReference'))['InvoiceStatus']).toBe('Pending');
  });

  it('reject: a MyFatoorah failure envelope', async () => {
    const { sb } = await start();
    sb.injectFault('SendPayment', {
      kind: 'reject',
      message: 'Vendor account blocked',
      errors: [{ Name: 'Vendor', Error: 'blocked' }],
    });
    const answer = await api(sb, 'SendPayment', invoiceRequest());
    expect(answer.status).toBe(400);
    expect(answer.json).toEqual({
      IsSuccess: false,
      Message: 'Vendor account blocked',
      ValidationErrors: [{ Name: 'Vendor', Error: 'blocked' }],
      Data: null,
    });
    expect(sb.invoices()).toHaveLength(0);
  });

  it('empty-401 and html-403', async () => {
    const { sb } = await start();
    sb.injectFault('GetPaymentStatus', { kind: 'empty-401' });
    sb.injectFault('GetPaymentStatus', { kind: 'html-403' });
    const unauthorized = await api(sb, 'GetPaymentStatus', { Key: '1', KeyType: 'InvoiceId' });
    const forbidden = await api(sb, 'GetPaymentStatus', { Key: '1', KeyType: 'InvoiceId' });
    expect([unauthorized.status, unauthorized.text]).toEqual([401, '']);
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers.get('content-type')).toContain('text/html');
  });

  it('applies `times` in FIFO order per endpoint, and clearFaults drops the rest', async () => {
    const { sb } = await start();
    sb.injectFault('SendPayment', { kind: 'http', status: 502 }, 2);
    sb.injectFault('SendPayment', { kind: 'html-403' });
    sb.injectFault('GetPaymentStatus', { kind: 'empty-401' }, 3);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await api(sb, 'SendPayment', invoiceRequest())).status);
    expect(statuses).toEqual([502, 502, 403, 200]);
    sb.clearFaults();
    expect((await api(sb, 'GetPaymentStatus', { Key: '100001', KeyType: 'InvoiceId' })).status).toBe(200);
  });

  it('close() ends a held request immediately', async () => {
    const { sb } = await start();
    sb.injectFault('SendPayment', { kind: 'timeout' }); // 30 s by default
    const pending = api(sb, 'SendPayment', invoiceRequest());
    await vi.waitFor(() => expect(sb.requests).toHaveLength(1));
    const started = performance.now();
    await sb.close();
    expect(performance.now() - started).toBeLessThan(1000);
    await expect(pending).rejects.toThrow();
  });
});

describe('account settings', () => {
  it('reads and prints ExpiryDate in the account time zone, across DST (Africa/Cairo, EGP)', async () => {
    const { sb, clock } = await start({ accountTimeZone: 'Africa/Cairo', currency: 'EGP' });
    clock.set('2026-06-01T00:00:00Z');
    const summer = await createInvoice(sb, {
      DisplayCurrencyIso: 'EGP',
      InvoiceValue: 1500.25,
      ExpiryDate: '2026-07-01T12:00:00',
    });
    const winter = await createInvoice(sb, {
      DisplayCurrencyIso: 'EGP',
      InvoiceValue: 1500.25,
      ExpiryDate: '2026-12-01T12:00:00',
    });
    expect(sb.invoice(summer)?.expiresAt).toBe(Date.parse('2026-07-01T09:00:00Z')); // EEST, UTC+3
    expect(sb.invoice(winter)?.expiresAt).toBe(Date.parse('2026-12-01T10:00:00Z')); // EET, UTC+2
    expect(await status(sb, winter)).toMatchObject({
      ExpiryDate: 'December 1, 2026',
      ExpiryTime: '12:00:00.000',
      CreatedDate: '2026-06-01T03:00:00.000',
      InvoiceDisplayValue: '1500.25 EGP',
    });
  });

  it('uses the account currency exponent (SAR: 2 decimals)', async () => {
    const { sb } = await start({ accountTimeZone: 'Asia/Riyadh', currency: 'SAR' });
    const answer = await api(
      sb,
      'SendPayment',
      invoiceRequest({ DisplayCurrencyIso: undefined, InvoiceValue: 100.125 }),
    );
    expect(errorNames(answer)).toEqual(['InvoiceValue']);
    const id = await createInvoice(sb, { DisplayCurrencyIso: undefined, InvoiceValue: 100.1 });
    expect(await status(sb, id)).toMatchObject({ InvoiceValue: 100.1, InvoiceDisplayValue: '100.10 SR' });
  });

  it('builds InvoiceURL on publicBaseUrl and accepts its own token', async () => {
    const { sb } = await start({ publicBaseUrl: 'https://pay.example.test/', token: 'tok-2' });
    const answer = await api(sb, 'SendPayment', invoiceRequest(), { token: 'tok-2' });
    expect((answer.json['Data'] as { InvoiceURL: string }).InvoiceURL).toBe('https://pay.example.test/pay/100001');
  });

  it('refuses an unknown time zone or currency at startup', async () => {
    await expect(startSandbox({ accountTimeZone: 'Mars/Olympus' })).rejects.toThrow();
    await expect(startSandbox({ currency: 'XYZ' })).rejects.toThrow(/unknown currency/);
  });
});

describe('GetPaymentStatus rate limit (real time)', () => {
  it('answers a burst over the limit with 429 + Retry-After: 1, then recovers', async () => {
    const { sb } = await start({ statusRateLimitPerSecond: 2 });
    const id = await createInvoice(sb);
    const burst = await Promise.all(
      Array.from({ length: 6 }, () => api(sb, 'GetPaymentStatus', { Key: String(id), KeyType: 'InvoiceId' })),
    );
    const limited = burst.filter((a) => a.status === 429);
    expect(burst.filter((a) => a.status === 200).length).toBeGreaterThanOrEqual(2);
    expect(limited.length).toBeGreaterThanOrEqual(1); // 2 + 2/s × elapsed may pass on a very slow machine
    for (const answer of limited) {
      expect(answer.headers.get('retry-after')).toBe('1');
      expect(answer.json).toEqual({
        IsSuccess: false,
        Message: 'Too many requests',
        ValidationErrors: null,
        Data: null,
      });
    }
    expect(sb.throttledCount).toBe(limited.length);
    expect(sb.requests.filter((r) => r.fault === 'throttled')).toHaveLength(limited.length);
    // SendPayment is not rate limited.
    for (let i = 0; i < 4; i++) await createInvoice(sb);

    await new Promise((resolve) => setTimeout(resolve, 600)); // real time is the subject here
    expect((await api(sb, 'GetPaymentStatus', { Key: String(id), KeyType: 'InvoiceId' })).status).toBe(200);

    sb.setRateLimit(null);
    const unlimited = await Promise.all(
      Array.from({ length: 6 }, () => api(sb, 'GetPaymentStatus', { Key: String(id), KeyType: 'InvoiceId' })),
    );
    expect(unlimited.every((a) => a.status === 200)).toBe(true);
  });
});

describe('control endpoints (standalone use)', () => {
  it('injects faults, lists invoices, pays/fails/cancels over HTTP, and indexes invoices', async () => {
    const { sb } = await start();
    const injected = await fetch(`${sb.url}/_sandbox/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ endpoint: 'SendPayment', fault: { kind: 'http', status: 502 }, times: 1 }),
    });
    expect(injected.status).toBe(200);
    expect((await api(sb, 'SendPayment', invoiceRequest())).status).toBe(502);
    const bad = await fetch(`${sb.url}/_sandbox/faults`, {
      method: 'POST',
      body: JSON.stringify({ endpoint: 'Nope', fault: { kind: 'lost' } }),
    });
    expect(bad.status).toBe(400);

    const a = await createInvoice(sb);
    const b = await createInvoice(sb);
    const listed = (await (await fetch(`${sb.url}/_sandbox/invoices`)).json()) as { id: number }[];
    expect(listed.map((i) => i.id)).toEqual([a, b]);

    const paid = (await (await fetch(`${sb.url}/_sandbox/invoices/${a}/pay`, { method: 'POST' })).json()) as {
      paymentId: string;
      invoice: { status: string };
    };
    expect(paid.invoice.status).toBe('Paid');
    expect((await status(sb, paid.paymentId, 'PaymentId'))['InvoiceId']).toBe(a);
    expect((await fetch(`${sb.url}/_sandbox/invoices/${b}/fail`, { method: 'POST' })).status).toBe(200);
    expect((await fetch(`${sb.url}/_sandbox/invoices/${b}/cancel`, { method: 'POST' })).status).toBe(200);
    expect((await fetch(`${sb.url}/_sandbox/invoices/${a}/cancel`, { method: 'POST' })).status).toBe(409);
    expect((await fetch(`${sb.url}/_sandbox/invoices/999/pay`, { method: 'POST' })).status).toBe(404);

    await fetch(`${sb.url}/_sandbox/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ endpoint: 'SendPayment', fault: { kind: 'html-403' }, times: 5 }),
    });
    expect((await fetch(`${sb.url}/_sandbox/faults`, { method: 'DELETE' })).status).toBe(200);
    await createInvoice(sb);

    const index = await (await fetch(`${sb.url}/`)).text();
    expect(index).toContain(`href="/pay/${a}"`);
    expect(index).toContain(`href="/pay/${b}"`);
  });
});

describe('persistence', () => {
  it('keeps invoices, payments and id sequences in statePath across a restart', async () => {
    const statePath = join(mkdtempSync(join(tmpdir(), 'sandbox-state-')), 'state.json');
    const first = await start({ statePath });
    const created = await api(first.sb, 'SendPayment', invoiceRequest({ CustomerReference: 'KEEP-1' }));
    const invoiceId = (created.json as { Data: { InvoiceId: number } }).Data.InvoiceId;
    first.sb.pay(invoiceId);
    await first.sb.close();

    const second = await start({ statePath });
    const status = await api(second.sb, 'GetPaymentStatus', { Key: 'KEEP-1', KeyType: 'CustomerReference' });
    expect(status.json).toMatchObject({ IsSuccess: true, Data: { InvoiceId: invoiceId, InvoiceStatus: 'Paid' } });
    const next = await api(second.sb, 'SendPayment', invoiceRequest({ CustomerReference: 'KEEP-2' }));
    expect((next.json as { Data: { InvoiceId: number } }).Data.InvoiceId).toBe(invoiceId + 1);
  });
});
