import { and, eq, inArray, ne, sql } from 'drizzle-orm';
import { recordEvent } from './events.js';
import type { Db } from './open.js';
import { charges, leases, paymentLinks, type PaymentLink } from './schema.js';

/**
 * What a status check may change. Each function is one transaction with its events and is a no-op
 * when the state it expects is gone (a second run, or a webhook and a poll racing each other).
 */

export interface PaymentFacts {
  paymentId: string | null;
  gateway: string | null;
  amountMinor: number | null;
  paidAt: number | null;
  rawStatus: string;
  duplicatePayment: boolean;
  transactions: unknown[];
}

export type PaidOutcome = 'paid' | 'already-paid' | 'paid-again';

/**
 * The link was paid: link and charge become `paid` (never to change again). A payment on an expired
 * link still counts; any newer open link of the charge is closed as superseded. A second payment on a
 * charge that was already paid is recorded for a refund review, not applied.
 */
export function markLinkPaid(db: Db, linkId: number, facts: PaymentFacts, now: number): PaidOutcome {
  return db.transaction((tx) => {
    const link = tx.select().from(paymentLinks).where(eq(paymentLinks.id, linkId)).get();
    if (!link || link.status === 'paid') return 'already-paid';
    const charge = tx.select().from(charges).where(eq(charges.id, link.chargeId)).get();
    if (!charge) return 'already-paid';
    const ids = { leaseId: charge.leaseId, chargeId: charge.id, linkId };
    tx.update(paymentLinks)
      .set({
        status: 'paid',
        paymentId: facts.paymentId,
        gateway: facts.gateway,
        paidAmountMinor: facts.amountMinor,
        paidAt: facts.paidAt ?? now,
        nextCheckAt: null,
        lastError: null,
        updatedAt: now,
      })
      .where(eq(paymentLinks.id, linkId))
      .run();
    const details = {
      paymentId: facts.paymentId,
      gateway: facts.gateway,
      amountMinor: facts.amountMinor,
      providerStatus: facts.rawStatus,
      wasLinkStatus: link.status,
      transactions: facts.transactions,
    };
    if (facts.duplicatePayment)
      recordEvent(tx, {
        at: now,
        type: 'payment.refund_review',
        actor: 'worker',
        ...ids,
        details: { reason: 'provider reports DuplicatePayment: the tenant paid this link more than once', ...details },
      });
    if (charge.status === 'void') {
      // Money came in on a charge the operator had voided: it counts, and someone should look at it.
      recordEvent(tx, {
        at: now,
        type: 'payment.refund_review',
        actor: 'worker',
        ...ids,
        details: { reason: 'payment on a voided charge', ...details },
      });
    }
    if (charge.status === 'paid') {
      recordEvent(tx, {
        at: now,
        type: 'payment.refund_review',
        actor: 'worker',
        ...ids,
        details: { reason: 'charge was already paid through another link', ...details },
      });
      return 'paid-again';
    }
    tx.update(charges)
      .set({ status: 'paid', paidAt: facts.paidAt ?? now, statusReason: null, updatedAt: now })
      .where(eq(charges.id, charge.id))
      .run();
    recordEvent(tx, { at: now, type: 'link.paid', actor: 'worker', ...ids, details });
    recordEvent(tx, {
      at: now,
      type: 'charge.paid',
      actor: 'worker',
      ...ids,
      details: { paymentId: facts.paymentId, viaAttempt: link.attempt },
    });
    const superseded = tx
      .update(paymentLinks)
      .set({
        status: 'canceled',
        nextCheckAt: null,
        lastError: `superseded: charge paid through attempt ${link.attempt}`,
        updatedAt: now,
      })
      .where(
        and(
          eq(paymentLinks.chargeId, charge.id),
          ne(paymentLinks.id, linkId),
          inArray(paymentLinks.status, ['creating', 'open']),
        ),
      )
      .returning({ id: paymentLinks.id })
      .all();
    for (const s of superseded)
      recordEvent(tx, {
        at: now,
        type: 'link.superseded',
        actor: 'worker',
        ...ids,
        linkId: s.id,
        details: { paidThroughLink: linkId },
      });
    return 'paid';
  });
}

export type ExpiredOutcome =
  { outcome: 'reissue'; attempt: number } | { outcome: 'charge-expired' } | { outcome: 'noop' };

/**
 * The link's expiry passed unpaid (just confirmed with the provider). The link becomes `expired`; the
 * charge gets another attempt while the lease's reissues last, else it becomes `expired` too.
 */
export function markLinkExpired(
  db: Db,
  linkId: number,
  facts: { rawStatus: string; transactions: unknown[] },
  now: number,
): ExpiredOutcome {
  return db.transaction((tx): ExpiredOutcome => {
    const link = tx.select().from(paymentLinks).where(eq(paymentLinks.id, linkId)).get();
    if (!link || link.status !== 'open') return { outcome: 'noop' };
    const row = tx
      .select({ charge: charges, maxReissues: leases.maxReissues })
      .from(charges)
      .innerJoin(leases, eq(leases.id, charges.leaseId))
      .where(eq(charges.id, link.chargeId))
      .get();
    if (!row) return { outcome: 'noop' };
    const { charge, maxReissues } = row;
    const ids = { leaseId: charge.leaseId, chargeId: charge.id, linkId };
    tx.update(paymentLinks)
      .set({ status: 'expired', nextCheckAt: null, updatedAt: now })
      .where(eq(paymentLinks.id, linkId))
      .run();
    recordEvent(tx, {
      at: now,
      type: 'link.expired',
      actor: 'worker',
      ...ids,
      details: {
        providerStatus: facts.rawStatus,
        expiresAt: new Date(link.expiresAt).toISOString(),
        transactions: facts.transactions,
      },
    });
    if (charge.status !== 'invoiced' && charge.status !== 'scheduled') return { outcome: 'noop' };
    if (charge.reissueCount < maxReissues && link.attempt === charge.reissueCount + 1) {
      tx.update(charges)
        .set({ reissueCount: sql`${charges.reissueCount} + 1`, updatedAt: now })
        .where(eq(charges.id, charge.id))
        .run();
      recordEvent(tx, {
        at: now,
        type: 'charge.reissue',
        actor: 'worker',
        ...ids,
        details: { nextAttempt: link.attempt + 1, reissuesUsed: charge.reissueCount + 1, maxReissues },
      });
      return { outcome: 'reissue', attempt: link.attempt + 1 };
    }
    tx.update(charges)
      .set({ status: 'expired', statusReason: `unpaid after ${charge.reissueCount + 1} link(s)`, updatedAt: now })
      .where(eq(charges.id, charge.id))
      .run();
    recordEvent(tx, {
      at: now,
      type: 'charge.expired',
      actor: 'worker',
      ...ids,
      details: { links: charge.reissueCount + 1, maxReissues },
    });
    return { outcome: 'charge-expired' };
  });
}

/** The provider canceled the invoice: the link is closed and the charge waits for the operator. */
export function markLinkCanceled(db: Db, linkId: number, rawStatus: string, now: number): boolean {
  return db.transaction((tx) => {
    const link = tx
      .update(paymentLinks)
      .set({ status: 'canceled', nextCheckAt: null, updatedAt: now })
      .where(and(eq(paymentLinks.id, linkId), eq(paymentLinks.status, 'open')))
      .returning()
      .get();
    if (!link) return false;
    const reason = 'invoice was canceled at the provider; reissue or void the charge';
    const charge = tx
      .update(charges)
      .set({ status: 'failed', statusReason: reason, updatedAt: now })
      .where(and(eq(charges.id, link.chargeId), inArray(charges.status, ['scheduled', 'invoiced'])))
      .returning()
      .get();
    recordEvent(tx, {
      at: now,
      type: 'link.canceled',
      actor: 'worker',
      leaseId: charge?.leaseId ?? null,
      chargeId: link.chargeId,
      linkId,
      details: { providerStatus: rawStatus, reason },
    });
    return true;
  });
}

/** Still pending (or the check failed): count it and set the next one from the poll plan. */
export function recordPendingCheck(
  db: Db,
  link: PaymentLink,
  nextCheckAt: number,
  now: number,
  lastError: string | null = null,
): void {
  db.update(paymentLinks)
    .set({ pollCount: sql`${paymentLinks.pollCount} + 1`, nextCheckAt, lastError, updatedAt: now })
    .where(and(eq(paymentLinks.id, link.id), eq(paymentLinks.status, 'open')))
    .run();
}
