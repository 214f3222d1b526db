import { execFileSync } from 'node:child_process';
import { and, eq, inArray } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import {
  chargesNeedingAttention,
  listCharges,
  reissueCharge,
  showCharge,
  voidCharge,
} from '../src/operations/charges.js';
import { listFailedJobs, retryFailedJobs } from '../src/operations/jobs.js';
import { listLeases, setLeaseState, showLease } from '../src/operations/leases.js';
import { chargeLines, collectionReport, periodSeries } from '../src/operations/report.js';
import { DAY, MINUTE } from '../src/time/clock.js';
import { charges, events, leases, paymentLinks, type ChargeStatus } from '../src/db/schema.js';
import { runTick, createDueCharges } from '../src/schedule/tick.js';
import { createHarness, csvOf, leaseLine, type Harness } from './helpers/harness.js';

let h: Harness;
afterEach(async () => h?.close());

const NOW = '2026-11-27T06:00:00Z';
const sendRequests = () =>
  h.sandbox.requests.filter((r) => r.endpoint === 'SendPayment').map((r) => r.body as Record<string, unknown>);
const statusRequests = () => h.sandbox.requests.filter((r) => r.endpoint === 'GetPaymentStatus');
const chargeOf = (ref: string) =>
  h.app.db
    .select({ charge: charges })
    .from(charges)
    .innerJoin(leases, eq(leases.id, charges.leaseId))
    .where(eq(leases.ref, ref))
    .get()?.charge;
const adminEvents = (type: string) =>
  h.app.db
    .select()
    .from(events)
    .where(eq(events.type, type))
    .all()
    .map((e) => ({
      actor: e.actor,
      chargeId: e.chargeId,
      leaseId: e.leaseId,
      details: JSON.parse(e.details) as Record<string, unknown>,
    }));

describe("failed jobs: list with the provider's reason, fix, retry", () => {
  it('a send rejected for a bad mobile is listed, the mobile is fixed by re-import, and a retry creates exactly one invoice with the new mobile', async () => {
    h = await createHarness({ now: NOW });
    h.importCsv(csvOf(leaseLine({ lease_ref: 'KW-BAD', tenant_name: 'سارة الأحمد', mobile: '5123' })));
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

    const failed = await listFailedJobs(h.app);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      queue: 'send',
      jobId: 'send-1-1',
      chargeId: 1,
      linkId: 1,
      leaseRef: 'KW-BAD',
      tenantName: 'سارة الأحمد',
      period: '2026-12',
      chargeStatus: 'failed',
      attempt: 1,
      attemptsMade: 1,
    });
    expect(failed[0]?.reason).toContain('CustomerMobile: Mobile number is not valid');
    expect(failed[0]?.failedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(await listFailedJobs(h.app, { queue: 'status' })).toEqual([]);
    expect(chargesNeedingAttention(h.app.db, h.clock.now()).map((c) => [c.leaseRef, c.status])).toEqual([
      ['KW-BAD', 'failed'],
    ]);

    h.importCsv(csvOf(leaseLine({ lease_ref: 'KW-BAD', tenant_name: 'سارة الأحمد', mobile: '51234567' })));
    const result = await retryFailedJobs(h.app, {
      jobIds: ['send-1-1', 'send-99-1'],
      reason: 'mobile corrected to 51234567',
    });
    expect(result).toEqual({ retried: ['send-1-1'], missing: ['send-99-1'], skipped: [] });
    await h.settle();

    expect(h.app.db.select().from(paymentLinks).all()).toEqual([
      expect.objectContaining({ id: 1, attempt: 1, status: 'open' }),
    ]);
    expect(chargeOf('KW-BAD')).toMatchObject({ status: 'invoiced', statusReason: null });
    expect(h.sandbox.invoicesByReference('KW-BAD-2026-12-1')).toHaveLength(1);
    expect(sendRequests().map((r) => r['CustomerMobile'])).toEqual(['5123', '51234567']);
    expect(await listFailedJobs(h.app)).toEqual([]);
    // A second retry of the same job finds nothing failed and changes nothing.
    expect(await retryFailedJobs(h.app, { all: true })).toEqual({ retried: [], missing: [], skipped: [] });

    expect(adminEvents('job.retried')).toEqual([
      expect.objectContaining({
        actor: 'admin',
        chargeId: 1,
        details: expect.objectContaining({
          reason: 'mobile corrected to 51234567',
          queue: 'send',
          jobId: 'send-1-1',
          reopenedCharge: true,
        }),
      }),
    ]);
    expect(adminEvents('charge.reopened')).toEqual([
      expect.objectContaining({
        actor: 'admin',
        details: expect.objectContaining({ reason: 'mobile corrected to 51234567' }),
      }),
    ]);
    expect(showCharge(h.app.db, 1)?.events.map((e) => e.type)).toEqual([
      'charge.created',
      'link.creating',
      'link.rejected',
      'charge.reopened',
      'job.retried',
      'link.created',
    ]);
  });

  it('a failed status check is listed with its link and charge, and `retry --all --queue status` re-runs it', async () => {
    h = await createHarness({ now: NOW });
    h.importCsv(csvOf(leaseLine({ lease_ref: 'KW-POLL' })));
    await h.tickAndSettle();
    h.sandbox.injectFault(
      'GetPaymentStatus',
      { kind: 'reject', message: 'Invalid data', errors: [{ Name: 'Key', Error: 'Invoice not found' }] },
      1,
    );
    h.clock.advance(16 * MINUTE);
    await h.tickAndSettle();
    const [failed] = await listFailedJobs(h.app);
    expect(failed).toMatchObject({
      queue: 'status',
      chargeId: 1,
      linkId: 1,
      leaseRef: 'KW-POLL',
      chargeStatus: 'invoiced',
      attempt: null,
    });
    expect(failed?.reason).toContain('Invoice not found');

    const polls = statusRequests().length;
    expect(await retryFailedJobs(h.app, { all: true, queue: 'send' })).toEqual({
      retried: [],
      missing: [],
      skipped: [],
    });
    expect(await retryFailedJobs(h.app, { all: true, queue: 'status', reason: 'provider hiccup' })).toMatchObject({
      retried: [failed?.jobId],
    });
    await h.settle();
    expect(statusRequests()).toHaveLength(polls + 1);
    // The failed check counted (and moved the link to its next planned check); the retry is the second.
    expect(h.app.db.select().from(paymentLinks).get()).toMatchObject({ status: 'open', pollCount: 2 });
    expect(await listFailedJobs(h.app)).toEqual([]);
    expect(adminEvents('job.retried')).toEqual([
      expect.objectContaining({
        actor: 'admin',
        chargeId: 1,
        details: expect.objectContaining({ reason: 'provider hiccup', queue: 'status', reopenedCharge: false }),
      }),
    ]);
  });
});

describe('charges: reissue and void', () => {
  it('refuses to reissue or void a paid charge and changes nothing', async () => {
    h = await createHarness({ now: NOW });
    h.importCsv(csvOf(leaseLine({ lease_ref: 'KW-PAID' })));
    await h.tickAndSettle();
    const link = h.app.db.select().from(paymentLinks).get();
    h.sandbox.pay(String(link?.providerLinkId));
    h.clock.advance(16 * MINUTE);
    await h.tickAndSettle();
    const charge = chargeOf('KW-PAID');
    expect(charge?.status).toBe('paid');

    const before = snapshot();
    await expect(reissueCharge(h.app, 1, 'tenant asked again')).rejects.toMatchObject({
      code: 'INVALID_STATE',
      message: 'charge 1 is paid; it cannot be reissued',
    });
    expect(() => voidCharge(h.app, 1, 'mistake')).toThrow('charge 1 is paid; it cannot be voided');
    await expect(reissueCharge(h.app, 999, 'x')).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'charge 999 not found',
    });
    expect(snapshot()).toEqual(before);
    expect(await h.app.queues.send('default').getJob('send-1-2')).toBeUndefined();
    await h.tickAndSettle();
    expect(h.sandbox.invoices()).toHaveLength(1);
    expect(listCharges(h.app.db, { status: 'paid' })).toEqual([
      expect.objectContaining({ id: 1, linkStatus: 'paid', paymentId: expect.any(String), paidAt: expect.any(String) }),
    ]);
  });

  it('void stops the poll plan, including a check already queued; one final check after the link expires', async () => {
    h = await createHarness({ now: NOW });
    h.importCsv(csvOf(leaseLine({ lease_ref: 'KW-VOID' })));
    await h.tickAndSettle();
    expect(h.app.db.select().from(paymentLinks).get()?.status).toBe('open');
    await h.app.queues.status('default').pause();
    h.clock.advance(16 * MINUTE);
    expect((await runTick(h.app)).statusJobs).toBe(1);

    expect(() => voidCharge(h.app, 1, '  ')).toThrow('a reason is required to void charge 1');
    voidCharge(h.app, 1, 'tenant moved out');
    await h.app.queues.status('default').resume();
    await h.settle();
    const polls = statusRequests().length;
    for (const step of [DAY, 5 * DAY, 20 * DAY]) {
      h.clock.advance(step);
      await h.tickAndSettle();
    }
    // MyFatoorah cannot close the invoice: it stays payable until it expires, so it is looked at once
    // more after that (a payment on it would be a double payment to refund), and then never again.
    expect(statusRequests()).toHaveLength(polls + 1);
    expect(sendRequests()).toHaveLength(1);
    expect(chargeOf('KW-VOID')).toMatchObject({ status: 'void', statusReason: 'tenant moved out' });
    expect(h.app.db.select().from(paymentLinks).get()).toMatchObject({ status: 'canceled', nextCheckAt: null });
    expect(adminEvents('charge.voided')).toEqual([
      expect.objectContaining({
        actor: 'admin',
        chargeId: 1,
        details: expect.objectContaining({ reason: 'tenant moved out', previousStatus: 'invoiced' }),
      }),
    ]);
    expect(() => voidCharge(h.app, 1, 'again')).toThrow('charge 1 is already void');
    await expect(reissueCharge(h.app, 1, 'again')).rejects.toThrow('charge 1 is void; it cannot be reissued');
  });

  it('reissues an expired charge past max_reissues, and an open one by closing its link', async () => {
    h = await createHarness({ now: NOW });
    h.importCsv(
      csvOf(leaseLine({ lease_ref: 'KW-EXP', max_reissues: '0' }), leaseLine({ lease_ref: 'KW-OPEN', due_day: '2' })),
    );
    await h.tickAndSettle();
    h.clock.set('2026-12-13T06:00:00Z');
    await h.tickAndSettle();
    const expired = chargeOf('KW-EXP');
    expect(expired).toMatchObject({ status: 'expired', reissueCount: 0 });
    expect(chargesNeedingAttention(h.app.db, h.clock.now()).map((c) => c.leaseRef)).toContain('KW-EXP');

    expect(await reissueCharge(h.app, expired!.id, 'tenant promised to pay this week')).toEqual({
      attempt: 2,
      canceledLinkId: null,
    });
    await h.settle();
    expect(chargeOf('KW-EXP')).toMatchObject({ status: 'invoiced', reissueCount: 1, statusReason: null });
    expect(
      h.app.db
        .select()
        .from(paymentLinks)
        .where(eq(paymentLinks.chargeId, expired!.id))
        .all()
        .map((l) => [l.attempt, l.status]),
    ).toEqual([
      [1, 'expired'],
      [2, 'open'],
    ]);

    // KW-OPEN's first link expired too and got its automatic reminder (max_reissues 2): close that one.
    const open = chargeOf('KW-OPEN')!;
    const current = h.app.db
      .select()
      .from(paymentLinks)
      .where(and(eq(paymentLinks.chargeId, open.id), inArray(paymentLinks.status, ['open'])))
      .get()!;
    const out = await reissueCharge(h.app, open.id, 'new phone number');
    expect(out).toEqual({ attempt: open.reissueCount + 2, canceledLinkId: current.id });
    await h.settle();
    const links = h.app.db.select().from(paymentLinks).where(eq(paymentLinks.chargeId, open.id)).all();
    expect(links.find((l) => l.id === current.id)).toMatchObject({
      status: 'canceled',
      lastError: 'superseded by operator reissue',
    });
    expect(links.filter((l) => l.status === 'open').map((l) => l.attempt)).toEqual([out.attempt]);
    expect(h.sandbox.invoicesByReference(`KW-OPEN-2026-12-${out.attempt}`)).toHaveLength(1);

    expect(adminEvents('charge.reissued').map((e) => [e.actor, e.details['reason']])).toEqual([
      ['admin', 'tenant promised to pay this week'],
      ['admin', 'new phone number'],
    ]);
    expect(adminEvents('link.superseded').filter((e) => e.actor === 'admin')).toHaveLength(1);
  });
});

describe('leases: pause and resume', () => {
  it('a paused lease gets no charges or sends until resumed; ended leases are refused', async () => {
    h = await createHarness({ now: NOW });
    h.importCsv(csvOf(leaseLine({ lease_ref: 'KW-P' }), leaseLine({ lease_ref: 'KW-END' })));
    setLeaseState(h.app.db, h.clock, 'KW-P', 'paused', 'rent under dispute');
    expect(() => setLeaseState(h.app.db, h.clock, 'KW-P', 'paused', '')).toThrow('lease KW-P is already paused');
    expect(() => setLeaseState(h.app.db, h.clock, 'NOPE', 'paused', '')).toThrow('lease "NOPE" not found');
    h.app.db.update(leases).set({ state: 'ended' }).where(eq(leases.ref, 'KW-END')).run();
    expect(() => setLeaseState(h.app.db, h.clock, 'KW-END', 'paused', '')).toThrow(
      'lease KW-END has ended; it cannot be paused',
    );

    expect((await h.tickAndSettle()).chargesCreated).toBe(0);
    expect(sendRequests()).toHaveLength(0);
    expect(listLeases(h.app.db).map((l) => [l.ref, l.state, l.charges, l.unpaid])).toEqual([
      ['KW-END', 'ended', 0, 0],
      ['KW-P', 'paused', 0, 0],
    ]);

    setLeaseState(h.app.db, h.clock, 'KW-P', 'active', 'dispute settled');
    expect((await h.tickAndSettle()).chargesCreated).toBe(1);
    expect(sendRequests().map((r) => r['CustomerReference'])).toEqual(['KW-P-2026-12-1']);
    const detail = showLease(h.app.db, 'KW-P');
    expect(detail?.lease).toMatchObject({ ref: 'KW-P', state: 'active', amount: '250.500' });
    expect(detail?.ledger.map((c) => [c.period, c.amount, c.status, c.linkStatus])).toEqual([
      ['2026-12', '250.500', 'invoiced', 'open'],
    ]);
    expect(listLeases(h.app.db).find((l) => l.ref === 'KW-P')).toMatchObject({ charges: 1, unpaid: 1 });
    expect(
      [...adminEvents('lease.paused'), ...adminEvents('lease.resumed')].map((e) => [e.actor, e.details['reason']]),
    ).toEqual([
      ['admin', 'rent under dispute'],
      ['admin', 'dispute settled'],
    ]);
  });
});

describe('collection report', () => {
  /** KWD: three paid 3-decimal amounts whose float sum is 1976.2559999999999, one each open/expired/failed/void; SAR: paid + open. */
  const SEED: Array<[ref: string, amount: string, currency: string, status: ChargeStatus]> = [
    ['KW-A', '450.750', 'KWD', 'paid'],
    ['KW-B', '325.505', 'KWD', 'paid'],
    ['KW-C', '1200.001', 'KWD', 'paid'],
    ['KW-D', '99.999', 'KWD', 'invoiced'],
    ['KW-E', '80', 'KWD', 'expired'],
    ['KW-F', '70', 'KWD', 'void'],
    ['KW-G', '60', 'KWD', 'failed'],
    ['SA-1', '5000.50', 'SAR', 'paid'],
    ['SA-2', '3000.25', 'SAR', 'invoiced'],
  ];

  async function seed(): Promise<void> {
    h = await createHarness({ now: NOW });
    h.importCsv(
      csvOf(
        ...SEED.map(([ref, amount, currency]) =>
          leaseLine({
            lease_ref: ref,
            amount,
            currency,
            ...(currency === 'SAR'
              ? { timezone: 'Asia/Riyadh', mobile_country_code: '+966', mobile: '512345678' }
              : {}),
          }),
        ),
      ),
    );
    createDueCharges(h.app, h.clock.now());
    for (const [ref, , , status] of SEED) {
      h.app.db
        .update(charges)
        .set({ status, paidAt: status === 'paid' ? Date.parse('2026-12-02T10:00:00Z') : null })
        .where(eq(charges.id, chargeOf(ref)!.id))
        .run();
    }
    // The next month exists too (all scheduled), so per-period filtering is exercised.
    h.clock.set('2026-12-28T06:00:00Z');
    createDueCharges(h.app, h.clock.now());
  }

  it('sums 3-decimal KWD exactly, per period and currency, matching the charges table', async () => {
    await seed();
    const december = collectionReport(h.app.db, { period: '2026-12' });
    expect(december).toEqual([
      {
        period: '2026-12',
        currency: 'KWD',
        charges: 7,
        paidCount: 3,
        paidAmount: '1976.256',
        paidMinor: 1_976_256,
        totalMinor: 2_216_255,
        totalAmount: '2216.255',
        open: 1,
        openMinor: 99_999,
        expired: 1,
        expiredMinor: 80_000,
        failed: 1,
        failedMinor: 60_000,
        void: 1,
        collectionRate: 0.8917,
      },
      {
        period: '2026-12',
        currency: 'SAR',
        charges: 2,
        paidCount: 1,
        paidAmount: '5000.50',
        paidMinor: 500_050,
        totalMinor: 800_075,
        totalAmount: '8000.75',
        open: 1,
        openMinor: 300_025,
        expired: 0,
        expiredMinor: 0,
        failed: 0,
        failedMinor: 0,
        void: 0,
        collectionRate: 0.625,
      },
    ]);
    expect(450.75 + 325.505 + 1200.001).not.toBe(1976.256);

    // Every row agrees with the charges table summed independently (integers, per period and currency).
    const all = collectionReport(h.app.db);
    expect(all.map((r) => `${r.period} ${r.currency}`)).toEqual([
      '2026-12 KWD',
      '2026-12 SAR',
      '2027-01 KWD',
      '2027-01 SAR',
    ]);
    const rows = h.app.db.select().from(charges).all();
    for (const r of all) {
      const group = rows.filter((c) => c.period === r.period && c.currency === r.currency);
      const sum = (pick: (s: string) => boolean) =>
        group.filter((c) => pick(c.status)).reduce((t, c) => t + c.amountMinor, 0);
      expect(r.charges).toBe(group.length);
      expect(r.paidMinor).toBe(sum((s) => s === 'paid'));
      expect(r.totalMinor).toBe(sum((s) => s !== 'void'));
      expect(r.openMinor).toBe(sum((s) => s === 'scheduled' || s === 'invoiced'));
    }
    expect(all[2]).toMatchObject({ open: 7, openMinor: 2_286_255, paidMinor: 0, collectionRate: 0 });

    const lines = chargeLines(h.app.db, { period: '2026-12' });
    expect(lines).toHaveLength(9);
    expect(lines.find((l) => l.leaseRef === 'KW-C')).toMatchObject({
      amount: '1200.001',
      amountMinor: 1_200_001,
      status: 'paid',
      paidAt: '2026-12-02T10:00:00.000Z',
    });

    const series = periodSeries(h.app.db, { periods: 3, until: '2027-01' });
    expect(series.map((p) => `${p.currency} ${p.period}`)).toEqual([
      'KWD 2026-11',
      'KWD 2026-12',
      'KWD 2027-01',
      'SAR 2026-11',
      'SAR 2026-12',
      'SAR 2027-01',
    ]);
    expect(series[0]).toEqual({
      period: '2026-11',
      currency: 'KWD',
      paidMinor: 0,
      openMinor: 0,
      expiredMinor: 0,
      failedMinor: 0,
    });
    expect(series[1]).toEqual({
      period: '2026-12',
      currency: 'KWD',
      paidMinor: 1_976_256,
      openMinor: 99_999,
      expiredMinor: 80_000,
      failedMinor: 60_000,
    });

    expect(chargesNeedingAttention(h.app.db, h.clock.now()).map((c) => `${c.leaseRef} ${c.status}`)).toEqual([
      'KW-G failed',
      'KW-E expired',
      'KW-D invoiced',
      'SA-2 invoiced',
    ]);
    expect(listCharges(h.app.db, { period: '2026-12', leaseRef: 'KW-A' })).toEqual([
      expect.objectContaining({ leaseRef: 'KW-A', amount: '450.750', status: 'paid' }),
    ]);
    expect(() => listCharges(h.app.db, { status: 'unpaid' })).toThrow(
      'status must be one of scheduled, invoiced, paid, expired, failed, void, double-paid; got "unpaid"',
    );
    expect(() => listCharges(h.app.db, { period: '2026-13' })).toThrow('period must be YYYY-MM');
    expect(() => listCharges(h.app.db, { leaseRef: 'KW-Z' })).toThrow('lease "KW-Z" not found');
  });

  it('the real CLI prints the same report from the SQLite file', async () => {
    await seed();
    const env = { ...process.env, DATABASE_PATH: h.app.config.DATABASE_PATH, LOG_LEVEL: 'silent' };
    const cli = (...args: string[]) =>
      execFileSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
        env,
        encoding: 'utf8',
        stdio: 'pipe',
      });

    expect(JSON.parse(cli('report', '--format', 'json'))).toEqual(collectionReport(h.app.db));
    const csv = cli('report', '--period', '2026-12', '--format', 'csv').trim().split('\n');
    expect(csv).toHaveLength(10);
    expect(csv[0]).toBe(
      'period,leaseRef,tenantName,unit,dueDate,currency,amount,amountMinor,status,statusReason,paidAt,paymentId,reissueCount,chargeId',
    );
    expect(csv.find((l) => l.includes('KW-B'))).toContain(',KWD,325.505,325505,paid,');

    let failure: { status: number; stderr: string } | undefined;
    try {
      cli('charges', 'show', '4242');
    } catch (err) {
      failure = err as { status: number; stderr: string };
    }
    // An unknown id is bad input (exit 2, README), not a failure of the action.
    expect(failure?.status).toBe(2);
    expect(failure?.stderr).toContain('charge 4242 not found [NOT_FOUND]');
  });
});

/** Every row that an admin action could touch, to prove a refused action changed nothing. */
function snapshot() {
  return {
    charges: h.app.db.select().from(charges).all(),
    links: h.app.db.select().from(paymentLinks).all(),
    events: h.app.db.select().from(events).all().length,
  };
}

describe('attention list', () => {
  it('counts a charge as overdue from local midnight after its due date, in the lease time zone', async () => {
    h = await createHarness({ now: NOW });
    h.importCsv(csvOf(leaseLine({ lease_ref: 'KW-DUE' })));
    await h.tickAndSettle();
    const refs = (at: string) => chargesNeedingAttention(h.app.db, Date.parse(at)).map((c) => c.leaseRef);
    // Due 2026-12-01 in Asia/Kuwait (UTC+3): still due "today" at 23:30 local, overdue at 00:30 on the 2nd,
    // although it is 2026-12-01 in UTC at both instants.
    expect(refs('2026-12-01T20:30:00Z')).toEqual([]);
    expect(refs('2026-12-01T21:30:00Z')).toEqual(['KW-DUE']);
  });
});
