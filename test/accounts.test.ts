import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { charges, events, paymentLinks } from '../src/db/schema.js';
import { showCharge } from '../src/operations/charges.js';
import { fillGauges } from '../src/http/metrics.js';
import { DAY, MINUTE } from '../src/time/clock.js';
import { ACCOUNTS_CSV_HEADER, accountLease, createAccountsHarness, type AccountsHarness } from './helpers/accounts.js';

let h: AccountsHarness;
afterEach(async () => h?.close());

const NOW = '2026-11-27T06:00:00Z';
const csv = (...lines: string[]) => [ACCOUNTS_CSV_HEADER, ...lines].join('\n');
const links = () => h.app.db.select().from(paymentLinks).orderBy(paymentLinks.id).all();
const linkOf = (ref: string) => links().filter((l) => l.reference.startsWith(`${ref}-`));
const chargeOf = (id: number) => h.app.db.select().from(charges).where(eq(charges.id, id)).get();
const eventsOf = (type: string) => h.app.db.select().from(events).where(eq(events.type, type)).all();

describe('one file, three providers', () => {
  it('each lease gets its link from its own account, and charges show names provider and account', async () => {
    h = await createAccountsHarness({ now: NOW });
    h.importCsv(csv(accountLease('KW-1', ''), accountLease('AE-1', 'aps'), accountLease('AE-2', 'paymennt')));
    expect(await h.tickAndSettle()).toMatchObject({ chargesCreated: 3, sendJobs: 3 });
    expect(h.mf.invoicesByReference('KW-1-2026-12-1')).toHaveLength(1);
    expect(h.aps.linksByReference('AE-1-2026-12-1')).toHaveLength(1);
    expect(h.paymennt.checkoutsByRequestId('AE-2-2026-12-1')).toHaveLength(1);
    expect(h.mf2.invoices()).toHaveLength(0);
    const byRef = Object.fromEntries(links().map((l) => [l.reference, [l.provider, l.account, l.status]]));
    expect(byRef).toEqual({
      'KW-1-2026-12-1': ['myfatoorah', 'default', 'open'],
      'AE-1-2026-12-1': ['aps', 'aps', 'open'],
      'AE-2-2026-12-1': ['paymennt', 'paymennt', 'open'],
    });
    const detail = showCharge(h.app.db, linkOf('AE-1')[0]?.chargeId ?? 0);
    expect(detail?.charge).toMatchObject({ provider: 'aps', account: 'aps' });
    // APS got the amount in minor units and the channel as its notification type.
    expect(h.aps.links()[0]?.request).toMatchObject({
      amount: 125000,
      notification_type: 'EMAIL',
      merchant_reference: 'AE-1-2026-12-1',
    });
  });

  it('contact fields are checked by the account the lease names: APS needs an email even for an SMS lease', async () => {
    h = await createAccountsHarness({ now: NOW });
    expect(() => h.importCsv(csv(accountLease('AE-1', 'aps', { email: '', channel: 'sms' })))).toThrow(
      /line 2, field email/,
    );
    expect(() => h.importCsv(csv(accountLease('AE-1', 'nope')))).toThrow(/account "nope" is not configured/);
  });
});

describe.each([
  { account: 'default', pay: (h: AccountsHarness, id: string) => h.mf.pay(id) },
  { account: 'aps', pay: (h: AccountsHarness, id: string) => h.aps.pay(id) },
  { account: 'paymennt', pay: (h: AccountsHarness, id: string) => h.paymennt.pay(id) },
])('through $account', ({ account, pay }) => {
  const linksAtProvider = (ref: string) =>
    account === 'default'
      ? h.mf.invoicesByReference(ref).length
      : account === 'aps'
        ? h.aps.linksByReference(ref).length
        : h.paymennt.checkoutsByRequestId(ref).length;
  const injectLost = () =>
    account === 'default'
      ? h.mf.injectFault('SendPayment', { kind: 'lost' })
      : account === 'aps'
        ? h.aps.injectFault('PAYMENT_LINK', { kind: 'lost' })
        : h.paymennt.injectFault('create', { kind: 'lost' });

  it('a lost create ends with exactly one link at the provider; paying it (webhook) pays the charge', async () => {
    h = await createAccountsHarness({ now: NOW });
    h.importCsv(csv(accountLease('L-1', account)));
    injectLost();
    await h.tickAndSettle();
    expect(linksAtProvider('L-1-2026-12-1')).toBe(1);
    const [link] = links();
    expect(link).toMatchObject({ status: 'open', createCalls: 1, account });
    expect(eventsOf('link.adopted')).toHaveLength(1);
    pay(h, String(link?.providerLinkId));
    await Promise.all([h.mf.webhooksIdle(), h.aps.webhooksIdle(), h.paymennt.webhooksIdle()]);
    await h.settle();
    expect(chargeOf(Number(link?.chargeId))?.status).toBe('paid');
    expect(eventsOf('webhook.received')).toHaveLength(1);
  });

  it('expiry (past the grace) reissues through the same account; a forged webhook is refused', async () => {
    h = await createAccountsHarness({ now: NOW });
    // 2 valid days: within paymennt's 7-day cap, so the next link is a reissue, not a renewal.
    h.importCsv(csv(accountLease('L-1', account, { valid_days: '2' })));
    await h.tickAndSettle();
    const [first] = links();
    h.clock.set(Number(first?.expiresAt) + 2 * MINUTE);
    await h.tickAndSettle();
    const after = linkOf('L-1');
    expect(after.map((l) => l.status)).toEqual(['expired', 'open']);
    expect(after[1]).toMatchObject({ account, kind: 'reissue', attempt: 2 });
    expect(linksAtProvider('L-1-2026-12-2')).toBe(1);
    const forged = await fetch(`${h.http.url}/webhooks/${after[1]?.provider}/${account}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-paymennt-signature': 'bad', 'MyFatoorah-Signature': 'bad' },
      body: JSON.stringify({ id: after[1]?.providerLinkId, requestId: after[1]?.reference, signature: 'bad' }),
    });
    expect(forged.status).toBe(401);
    expect(eventsOf('webhook.received')).toHaveLength(0);
  });
});

describe('accounts are independent', () => {
  it('a 429 storm at one account pauses only its checks; the other account is checked on time', async () => {
    h = await createAccountsHarness({ now: NOW });
    h.importCsv(csv(accountLease('KW-A', ''), accountLease('KW-B', 'mf2')));
    await h.tickAndSettle();
    h.mf.injectFault('GetPaymentStatus', { kind: 'rate-limit', retryAfter: '30' }, 50);
    h.clock.advance(16 * MINUTE);
    const workers = h.startWorkers();
    const mf2Checked = new Promise((resolve) =>
      workers.status.find((w) => w.name === 'status-mf2')?.once('completed', resolve),
    );
    const { runTick } = await import('../src/schedule/tick.js');
    await runTick(h.app);
    // mf2's check completes while default's queue is paused for 30 s by the 429.
    await mf2Checked;
    expect(h.mf2.requests.filter((r) => r.endpoint === 'GetPaymentStatus')).toHaveLength(1);
    expect(await h.app.queues.status('default').getJobCounts('wait', 'prioritized', 'delayed', 'active')).not.toEqual({
      wait: 0,
      prioritized: 0,
      delayed: 0,
      active: 0,
    });
    expect(h.mf.requests.filter((r) => r.endpoint === 'GetPaymentStatus' && r.fault !== 'rate-limit')).toHaveLength(0);
  });

  it("a link is always polled through the account that made it, whatever the lease's and the default account are now", async () => {
    h = await createAccountsHarness({ now: NOW });
    h.importCsv(csv(accountLease('KW-M', 'mf2')));
    await h.tickAndSettle();
    expect(h.mf2.invoicesByReference('KW-M-2026-12-1')).toHaveLength(1);
    // The operator moves the lease to the default account and makes mf2 no longer the default either.
    h.importCsv(csv(accountLease('KW-M', 'default')));
    await h.reconfigure((file) => ({ ...file, default: 'default' }));
    h.clock.advance(16 * MINUTE);
    await h.tickAndSettle();
    expect(h.mf2.requests.filter((r) => r.endpoint === 'GetPaymentStatus')).toHaveLength(1);
    expect(h.mf.requests.filter((r) => r.endpoint === 'GetPaymentStatus')).toHaveLength(0);
    expect(links()[0]).toMatchObject({ account: 'mf2', pollCount: 1 });
  });
});

describe('superseded links', () => {
  it('paymennt renews a checkout every 7 days inside a 15-day validity; renewals do not count as reissues', async () => {
    h = await createAccountsHarness({ now: NOW });
    h.importCsv(csv(accountLease('AE-R', 'paymennt', { valid_days: '15', lead_days: '0' })));
    h.clock.set('2026-12-01T00:00:00Z');
    await h.tickAndSettle();
    const [first] = links();
    expect(Number(first?.expiresAt) - Date.parse('2026-12-01T00:00:00Z')).toBeLessThanOrEqual(7 * DAY);
    expect(Number(first?.windowEndsAt)).toBeGreaterThan(Number(first?.expiresAt) + DAY);
    h.clock.set(Number(first?.expiresAt) + 2 * MINUTE);
    await h.tickAndSettle();
    const [, second] = linkOf('AE-R');
    expect(second).toMatchObject({ kind: 'renewal', status: 'open', attempt: 2, windowEndsAt: first?.windowEndsAt });
    expect(chargeOf(Number(first?.chargeId))).toMatchObject({ reissueCount: 0, linkAttempt: 2, status: 'invoiced' });
    expect(h.paymennt.checkoutsByRequestId('AE-R-2026-12-2')).toHaveLength(1);
  });

  it('an operator reissue cancels the old paymennt checkout at the provider', async () => {
    h = await createAccountsHarness({ now: NOW });
    h.importCsv(csv(accountLease('AE-C', 'paymennt')));
    await h.tickAndSettle();
    const [old] = links();
    const { reissueCharge } = await import('../src/operations/charges.js');
    await reissueCharge(h.app, Number(old?.chargeId), 'new email address');
    await h.tickAndSettle();
    expect(h.paymennt.checkout(String(old?.providerLinkId))?.status).toBe('CANCELLED');
    expect(links().find((l) => l.id === old?.id)).toMatchObject({
      status: 'canceled',
      canceledAtProvider: expect.any(Number),
      nextCheckAt: null,
    });
  });

  it('a MyFatoorah link paid after a reissue settled the charge is a double payment the operator sees', async () => {
    h = await createAccountsHarness({ now: NOW });
    h.importCsv(csv(accountLease('KW-D', '')));
    await h.tickAndSettle();
    const [old] = links();
    const { reissueCharge, chargesNeedingAttention, listCharges } = await import('../src/operations/charges.js');
    await reissueCharge(h.app, Number(old?.chargeId), 'tenant asked for a new link');
    await h.tickAndSettle();
    const fresh = links().find((l) => l.attempt === 2);
    h.mf.pay(String(fresh?.providerLinkId));
    await h.mf.webhooksIdle();
    await h.settle();
    expect(chargeOf(Number(old?.chargeId))?.status).toBe('paid');
    // MyFatoorah cannot cancel the old invoice: the tenant pays it too.
    h.mf.pay(String(old?.providerLinkId));
    await h.mf.webhooksIdle();
    await h.settle();
    expect(chargeOf(Number(old?.chargeId))).toMatchObject({ status: 'paid', extraPayments: 1, extraPaidMinor: 250500 });
    expect(listCharges(h.app.db, { status: 'double-paid' }).map((c) => c.id)).toEqual([old?.chargeId]);
    expect(chargesNeedingAttention(h.app.db, h.clock.now())[0]).toMatchObject({ id: old?.chargeId, extraPayments: 1 });
    await fillGauges(h.app);
    const metrics = await h.app.metrics.registry.metrics();
    expect(metrics).toMatch(/^rentlink_double_payments\{state="to_review"\} 1$/m);
    // Without a webhook, the final check after the old invoice's expiry would have found it as well.
    expect(links().find((l) => l.id === old?.id)).toMatchObject({ status: 'paid' });
  });
});
