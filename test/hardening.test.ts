import { Worker } from 'bullmq';
import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { charges, events, paymentLinks } from '../src/db/schema.js';
import { sandboxCredentials } from '../src/providers/registry.js';
import { signMyFatoorahWebhook } from '../src/providers/myfatoorah/webhook.js';
import { runTick } from '../src/schedule/tick.js';
import { HOUR, MINUTE } from '../src/time/clock.js';
import { createHarness, csvOf, leaseLine, type Harness } from './helpers/harness.js';

let h: Harness;
afterEach(async () => h?.close());

// The link is created 2026-11-27T06:00Z and expires 2026-12-11 23:59:59 Kuwait (20:59:59Z).
const NOW = '2026-11-27T06:00:00Z';
const EXPIRY = Date.parse('2026-12-11T20:59:59Z');
const links = () => h.app.db.select().from(paymentLinks).orderBy(paymentLinks.attempt).all();
const charge = () => h.app.db.select().from(charges).get();
const eventsOf = (type: string) => h.app.db.select().from(events).where(eq(events.type, type)).all();
const statusCalls = () => h.sandbox.requests.filter((r) => r.endpoint === 'GetPaymentStatus');

/**
 * Leaves a queued job exactly as BullMQ leaves one that stalled more often than allowed: failed,
 * without the processor ever running (a worker that takes it and is killed twice).
 */
async function failAsStalled(queueName: string): Promise<string> {
  const worker = new Worker(queueName, null, { connection: h.app.redis.connect(), prefix: h.app.config.QUEUE_PREFIX });
  try {
    const job = await worker.getNextJob('stall-token');
    if (!job) throw new Error(`no job in ${queueName}`);
    // BullMQ fails a job that stalled too often outright, whatever attempts it had left.
    const stalled = new Error('job stalled more than allowable limit');
    stalled.name = 'UnrecoverableError';
    await job.moveToFailed(stalled, 'stall-token', false);
    return String(job.id);
  } finally {
    await worker.close();
  }
}

describe('no job state in Redis blocks the next check or send', () => {
  it('a status check that stalled twice is queued again, and the payment it was to find is recorded', async () => {
    h = await createHarness({ now: NOW, env: { REQUEUE_AFTER: '10m' } });
    h.importCsv(csvOf(leaseLine()));
    await h.tickAndSettle();
    const [link] = links();
    h.sandbox.pay(String(link?.providerLinkId));
    h.clock.advance(16 * MINUTE);
    await h.workersPaused(async () => {
      expect((await runTick(h.app)).statusJobs).toBe(1);
      expect(await failAsStalled('status-default')).toBe(`status-${link?.id}-${link?.nextCheckAt}`);
    });
    // Before REQUEUE_AFTER the noted job is trusted; the same id would be a no-op anyway.
    await h.tickAndSettle();
    expect(charge()?.status).toBe('invoiced');
    h.clock.advance(11 * MINUTE);
    expect(await h.tickAndSettle()).toMatchObject({ requeued: 1 });
    expect(charge()?.status).toBe('paid');
    expect(eventsOf('job.requeued')[0]?.details).toContain('job stalled more than allowable limit');
    // The dead job's record is gone: `jobs failed` lists only what needs a person.
    expect(await h.app.queues.status('default').getFailedCount()).toBe(0);
  });

  it('a send that stalled twice is queued again and creates the link once', async () => {
    h = await createHarness({ now: NOW, env: { REQUEUE_AFTER: '10m' } });
    h.importCsv(csvOf(leaseLine()));
    h.startWorkers();
    await h.workersPaused(async () => {
      expect((await runTick(h.app)).sendJobs).toBe(1);
      await failAsStalled('send-default');
    });
    h.clock.advance(11 * MINUTE);
    expect(await h.tickAndSettle()).toMatchObject({ requeued: 1 });
    expect(h.sandbox.invoices()).toHaveLength(1);
    expect(links()[0]?.status).toBe('open');
  });

  it('after Redis restarts empty, the next tick queues every open item again: sends and due checks', async () => {
    h = await createHarness({ now: NOW });
    h.importCsv(csvOf(leaseLine({ lease_ref: 'A' }), leaseLine({ lease_ref: 'B' })));
    await h.tickAndSettle();
    h.clock.advance(16 * MINUTE);
    await h.workersPaused(async () => {
      expect((await runTick(h.app)).statusJobs).toBe(2);
      await h.wipeRedis();
    });
    const rebuilt = await h.tickAndSettle();
    expect(rebuilt).toMatchObject({ rebuilt: true, statusJobs: 2 });
    expect(links().map((l) => l.pollCount)).toEqual([1, 1]);
  });
});

describe('expiry is decided only past the grace, and a late payment is still found', () => {
  it('an overdue check 30 s after expiry does not expire the link; a payment visible moments later counts', async () => {
    h = await createHarness({ now: NOW });
    h.importCsv(csvOf(leaseLine()));
    await h.tickAndSettle();
    h.clock.set(EXPIRY + 30_000);
    await h.tickAndSettle();
    expect(links().map((l) => l.status)).toEqual(['open']);
    expect(links()[0]?.nextCheckAt).toBe(EXPIRY + MINUTE);
    // The tenant paid in the link's last second; the provider shows it a few seconds later.
    h.sandbox.pay(String(links()[0]?.providerLinkId), { force: true });
    h.clock.set(EXPIRY + MINUTE);
    await h.tickAndSettle();
    expect(links().map((l) => l.status)).toEqual(['paid']);
    expect(charge()).toMatchObject({ status: 'paid', reissueCount: 0 });
    expect(h.sandbox.invoices()).toHaveLength(1);
  });

  it('a payment that shows up after the link expired is found by its final check: the reminder is closed, nobody pays twice', async () => {
    h = await createHarness({ now: NOW, env: { FINAL_CHECK_AFTER: '1h' } });
    h.importCsv(csvOf(leaseLine()));
    await h.tickAndSettle();
    h.clock.set(EXPIRY + 2 * MINUTE);
    await h.tickAndSettle();
    expect(links().map((l) => l.status)).toEqual(['expired', 'open']);
    expect(links()[0]?.nextCheckAt).toBe(EXPIRY + HOUR);
    const reminder = links()[1] as (typeof paymentLinks)['$inferSelect'];
    h.sandbox.pay(String(links()[0]?.providerLinkId), { force: true });
    h.clock.set(EXPIRY + HOUR);
    await h.tickAndSettle();
    expect(links().map((l) => l.status)).toEqual(['paid', 'canceled']);
    expect(charge()).toMatchObject({ status: 'paid', extraPayments: 0 });
    // The reminder, which MyFatoorah cannot close, gets one look after its own expiry; then nothing.
    const reminderCalls = () =>
      statusCalls().filter((r) => (r.body as { Key: string }).Key === reminder.providerLinkId).length;
    const before = reminderCalls();
    h.clock.set(reminder.expiresAt + 2 * HOUR);
    await h.tickAndSettle();
    h.clock.advance(10 * 24 * HOUR);
    await h.tickAndSettle();
    expect(reminderCalls()).toBe(before + 1);
    expect(links().find((l) => l.chargeId === 1 && l.attempt === 2)).toMatchObject({
      status: 'canceled',
      nextCheckAt: null,
    });
  });
});

describe('sandbox webhook secrets', () => {
  it('are derived from a random per-install seed, not a public constant', () => {
    const a = sandboxCredentials('myfatoorah', 'seed-one');
    const b = sandboxCredentials('myfatoorah', 'seed-two');
    expect(a['webhookSecret']).not.toBe(b['webhookSecret']);
    expect(a['webhookSecret']).not.toBe('sandbox-webhook-secret');
  });

  it('a webhook signed with the old public sandbox constant is refused by a real account', async () => {
    h = await createHarness({ now: NOW, http: true });
    h.importCsv(csvOf(leaseLine()));
    await h.tickAndSettle();
    const [link] = links();
    const body = {
      Event: {
        Code: 1,
        Name: 'PAYMENT_STATUS_CHANGED',
        CountryIsoCode: 'KWT',
        CreationDate: '2026-11-27T09:00:00',
        Reference: 'WH-1',
      },
      Data: {
        Invoice: { Id: Number(link?.providerLinkId), Status: 'PAID', ExternalIdentifier: link?.reference },
        Transaction: { Status: 'SUCCESS', PaymentId: '1' },
      },
    };
    const answer = await fetch(`${h.http?.url}/webhooks/myfatoorah`, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: {
        'content-type': 'application/json',
        'MyFatoorah-Signature': signMyFatoorahWebhook(body, 'sandbox-webhook-secret'),
      },
    });
    expect(answer.status).toBe(401);
    await h.settle();
    expect(statusCalls()).toHaveLength(0);
  });
});
