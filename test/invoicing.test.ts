import type { Job } from 'bullmq';
import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { buildLinkRequest } from '../jobs/send-link.js';
import { loadChargeContext } from '../src/db/queries.js';
import { charges, events, paymentLinks } from '../src/db/schema.js';
import { ensureLinkRow, noteCreateCall } from '../src/db/links.js';
import { createDueCharges, runTick } from '../src/schedule/tick.js';
import { MINUTE } from '../src/time/clock.js';
import { createHarness, csvOf, leaseLine, type Harness } from './helpers/harness.js';

let h: Harness;
afterEach(async () => h?.close());

const sendRequests = (harness: Harness) => harness.sandbox.requests.filter((r) => r.endpoint === 'SendPayment');

describe('tick → send queue → SendPayment', () => {
  it('sends exactly the expected SendPayment requests at a fixed now, and a second tick sends nothing', async () => {
    h = await createHarness({ now: '2026-11-27T06:00:00Z', http: true });
    h.importCsv(
      csvOf(
        leaseLine({ lease_ref: 'KW-1', amount: '450.750', channel: 'ALL', language: 'ar', tenant_name: 'فاطمة العلي' }),
        leaseLine({
          lease_ref: 'KW-2',
          amount: '300',
          channel: 'EML',
          mobile: '',
          mobile_country_code: '',
          due_day: '15',
          starts_on: '2026-11-01',
        }),
      ),
    );
    const first = await h.tickAndSettle();
    // KW-1: due 2026-12-01, lead 5 → send from 2026-11-26 local: due. KW-2: due 2026-11-15 (starts 11-01): due.
    expect(first.chargesCreated).toBe(2);
    const sent = sendRequests(h)
      .map((r) => r.body as Record<string, unknown>)
      .sort((a, b) => String(a['CustomerReference']).localeCompare(String(b['CustomerReference'])));
    expect(sent).toHaveLength(2);
    expect(sent[0]).toMatchObject({
      NotificationOption: 'ALL',
      CustomerName: 'فاطمة العلي',
      InvoiceValue: 450.75,
      DisplayCurrencyIso: 'KWD',
      Language: 'ar',
      CustomerEmail: 'tenant@example.com',
      CustomerMobile: '51234567',
      MobileCountryCode: '+965',
      CustomerReference: 'KW-1-2026-12-1',
      ExpiryDate: '2026-12-11T23:59:59',
    });
    // The reference and its token: a callback for a reference rentlink never sent does no work.
    expect(String(sent[0]?.['CallBackUrl'])).toMatch(/\/callback\?ref=KW-1-2026-12-1&t=[A-Za-z0-9_-]{22}$/);
    expect(JSON.parse(String(sent[0]?.['UserDefinedField']))).toMatchObject({ lease: 'KW-1', period: '2026-12' });
    expect(sent[1]).toMatchObject({
      NotificationOption: 'EML',
      InvoiceValue: 300,
      CustomerReference: 'KW-2-2026-11-1',
    });
    expect(sent[1]).not.toHaveProperty('CustomerMobile');

    const links = h.app.db.select().from(paymentLinks).all();
    expect(links.map((l) => l.status)).toEqual(['open', 'open']);
    expect(links.every((l) => l.providerLinkId && l.url?.includes('/pay/'))).toBe(true);
    expect(
      h.app.db
        .select()
        .from(charges)
        .all()
        .map((c) => c.status),
    ).toEqual(['invoiced', 'invoiced']);
    expect(h.app.db.select().from(events).where(eq(events.type, 'link.created')).all()).toHaveLength(2);

    const second = await h.tickAndSettle();
    expect(second.chargesCreated).toBe(0);
    expect(second.sendJobs).toBe(0);
    expect(sendRequests(h)).toHaveLength(2);
  });

  it('"created but the response is lost" ends with exactly one invoice per CustomerReference', async () => {
    h = await createHarness({ now: '2026-11-27T06:00:00Z' });
    h.importCsv(csvOf(leaseLine({ lease_ref: 'KW-LOST' })));
    h.sandbox.injectFault('SendPayment', { kind: 'lost' }, 1);
    await h.tickAndSettle();
    expect(h.sandbox.invoicesByReference('KW-LOST-2026-12-1')).toHaveLength(1);
    expect(sendRequests(h)).toHaveLength(1);
    const [link] = h.app.db.select().from(paymentLinks).all();
    expect(link).toMatchObject({
      status: 'open',
      createCalls: 1,
      providerLinkId: String(h.sandbox.invoices()[0]?.id),
    });
    expect(h.app.db.select().from(events).where(eq(events.type, 'link.adopted')).all()).toHaveLength(1);
  });

  it('a crash after the provider created the invoice but before it was stored: the re-run adopts it', async () => {
    h = await createHarness({ now: '2026-11-27T06:00:00Z' });
    h.importCsv(csvOf(leaseLine({ lease_ref: 'KW-CRASH' })));
    // What a process that died mid-send leaves behind: the charge, the link row counted as called,
    // and an invoice at the provider that SQLite never heard of. Redis lost the job too.
    createDueCharges(h.app, h.clock.now());
    const charge = h.app.db.select().from(charges).get();
    const found = loadChargeContext(h.app.db, Number(charge?.id));
    if (!found) throw new Error('no charge');
    const link = ensureLinkRow(
      h.app.db,
      {
        chargeId: found.charge.id,
        leaseId: found.lease.id,
        attempt: 1,
        kind: 'first',
        reference: 'KW-CRASH-2026-12-1',
        provider: 'myfatoorah',
        account: 'default',
        channel: 'both',
        expiresAt: Date.parse('2026-12-11T20:59:59Z'),
        windowEndsAt: Date.parse('2026-12-11T20:59:59Z'),
      },
      h.clock.now(),
    );
    if (!link) throw new Error('no link');
    noteCreateCall(h.app.db, link.id, h.clock.now());
    await h.app.registry.get('default').createLink(buildLinkRequest(h.app, found, link));

    await h.tickAndSettle();
    expect(h.sandbox.invoicesByReference('KW-CRASH-2026-12-1')).toHaveLength(1);
    expect(sendRequests(h)).toHaveLength(1);
    expect(h.app.db.select().from(paymentLinks).get()).toMatchObject({
      status: 'open',
      providerLinkId: String(h.sandbox.invoices()[0]?.id),
    });
    expect(h.app.db.select().from(events).where(eq(events.type, 'link.adopted')).all()).toHaveLength(1);
  });

  it('a timeout then 503 then 429 are retried without a second invoice', async () => {
    h = await createHarness({ now: '2026-11-27T06:00:00Z', env: { PROVIDER_TIMEOUT_MS: '300' } });
    h.importCsv(csvOf(leaseLine({ lease_ref: 'KW-FLAKY' })));
    h.sandbox.injectFault('SendPayment', { kind: 'timeout', ms: 1000 }, 1);
    h.sandbox.injectFault(
      'SendPayment',
      { kind: 'http', status: 502, body: '<html>bad gateway</html>', contentType: 'text/html' },
      1,
    );
    h.sandbox.injectFault('SendPayment', { kind: 'rate-limit', retryAfter: '0' }, 1);
    // Completed sends are removed from Redis at once: catch the job as it completes.
    const completed = new Promise<Job>((resolve) => h.startWorkers().send[0]?.once('completed', (job) => resolve(job)));
    await h.tickAndSettle();
    expect(h.sandbox.invoicesByReference('KW-FLAKY-2026-12-1')).toHaveLength(1);
    expect(h.app.db.select().from(paymentLinks).get()).toMatchObject({ status: 'open' });
    const job = await completed;
    // Started 4 times (timeout, 502, 429, success) but the 429 used no attempt: timeout, 502, success.
    expect(job.attemptsStarted).toBe(4);
    expect(job.attemptsMade).toBe(3);
    // Every retry looked the reference up before creating again.
    expect(
      h.sandbox.requests
        .filter((r) => r.endpoint === 'GetPaymentStatus')
        .map((r) => (r.body as { KeyType: string }).KeyType),
    ).toEqual(['CustomerReference', 'CustomerReference', 'CustomerReference']);
  });

  it('a validation rejection marks the charge failed with the provider message, and is not retried', async () => {
    h = await createHarness({ now: '2026-11-27T06:00:00Z' });
    h.importCsv(csvOf(leaseLine({ lease_ref: 'KW-BAD' })));
    h.sandbox.injectFault(
      'SendPayment',
      {
        kind: 'reject',
        message: 'Invalid data',
        errors: [{ Name: 'CustomerMobile', Error: 'Mobile number is not valid' }],
      },
      1,
    );
    await h.tickAndSettle();
    const charge = h.app.db.select().from(charges).get();
    expect(charge?.status).toBe('failed');
    expect(charge?.statusReason).toContain('CustomerMobile: Mobile number is not valid');
    expect(sendRequests(h)).toHaveLength(1);
    const job = await h.app.queues.send('default').getJob('send-1-1');
    expect(await job?.getState()).toBe('failed');
    expect(job?.failedReason).toContain('Mobile number is not valid');
    await h.tickAndSettle();
    expect(sendRequests(h)).toHaveLength(1);
  });

  it('an empty 401 (bad token) is a rejection, not retried', async () => {
    h = await createHarness({ now: '2026-11-27T06:00:00Z' });
    h.importCsv(csvOf(leaseLine({ lease_ref: 'KW-AUTH' })));
    h.sandbox.injectFault('SendPayment', { kind: 'empty-401' }, 1);
    await h.tickAndSettle();
    expect(h.app.db.select().from(charges).get()?.statusReason).toMatch(/HTTP 401 with an empty body/);
    expect(sendRequests(h)).toHaveLength(1);
  });

  it('rebuilds lost queue work from SQLite: a wiped Redis loses nothing', async () => {
    h = await createHarness({ now: '2026-11-27T06:00:00Z' });
    h.importCsv(csvOf(leaseLine({ lease_ref: 'KW-WIPE' })));
    await h.app.queues.send('default').pause();
    h.startWorkers();
    expect((await runTick(h.app)).sendJobs).toBe(1);
    await h.wipeRedis();
    await h.app.queues.send('default').resume();
    const rebuilt = await h.tickAndSettle();
    expect(rebuilt).toMatchObject({ rebuilt: true, sendJobs: 1 });
    expect(h.sandbox.invoices()).toHaveLength(1);
    expect(h.app.db.select().from(paymentLinks).get()?.status).toBe('open');
  });

  it('a send job lost from a Redis that kept its data is queued again once REQUEUE_AFTER has passed', async () => {
    h = await createHarness({ now: '2026-11-27T06:00:00Z', env: { REQUEUE_AFTER: '10m' } });
    h.importCsv(csvOf(leaseLine({ lease_ref: 'KW-LOST-JOB' })));
    await h.app.queues.send('default').pause();
    h.startWorkers();
    expect((await runTick(h.app)).sendJobs).toBe(1);
    await h.app.queues.send('default').remove('send-1-1');
    await h.app.queues.send('default').resume();
    // Still within REQUEUE_AFTER: the tick trusts the noted job and adds nothing.
    expect(await h.tickAndSettle()).toMatchObject({ sendJobs: 0, requeued: 0 });
    expect(h.sandbox.invoices()).toHaveLength(0);
    h.clock.advance(11 * MINUTE);
    expect(await h.tickAndSettle()).toMatchObject({ requeued: 1 });
    expect(h.sandbox.invoices()).toHaveLength(1);
    expect(h.app.db.select().from(events).where(eq(events.type, 'job.requeued')).all()).toHaveLength(1);
  });
});
