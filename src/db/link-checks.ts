import { and, eq, inArray, ne } from 'drizzle-orm';
import { chargeDoublePaid, chargeExpired, chargeFailed, chargeNextLink, chargePaid, type LinkIds } from './charges.js';
import { recordEvent, type DbOrTx } from './events.js';
import { insertLinkRow, linkReference, type NewLink } from './links.js';
import type { Db } from './open.js';
import { prepared } from './prepared.js';
import { charges, leases, OPEN_LINK_STATUSES, paymentLinks, type Actor, type PaymentLink } from './schema.js';

/**
 * The `payment_links` table, second half: what a status check may change (paid, expired, superseded,
 * canceled by the provider, still pending). links.ts has the creation side. Same rules: every status
 * change in one transaction with its events, each safe to run twice.
 */

/** What the provider said about a payment, for the link row and the events. */
export interface PaymentFacts {
  paymentId: string | null;
  method: string | null;
  amountMinor: number | null;
  paidAt: number | null;
  rawStatus: string;
  paidMoreThanOnce: boolean;
  details: Record<string, unknown>;
}

/** When a superseded link is looked at next (now, to cancel it at the provider; or after its own expiry). */
export type SupersedePlan = (link: PaymentLink) => number | null;

export type PaidOutcome = 'paid' | 'double-paid' | 'already-paid';

/**
 * The link was paid. If its charge is still collectable the charge is paid too, and any other link of
 * the charge that may still change is superseded. If the charge was already paid through another link,
 * or voided, the money is a double payment: the link is paid, the charge counts an extra payment for
 * the operator, and nothing else changes (a paid charge never changes again).
 */
export function markLinkPaid(
  db: Db,
  linkId: number,
  facts: PaymentFacts,
  supersede: SupersedePlan,
  now: number,
): PaidOutcome {
  return db.transaction((tx) => {
    const link = tx.select().from(paymentLinks).where(eq(paymentLinks.id, linkId)).get();
    if (!link) return 'already-paid';
    const charge = tx.select().from(charges).where(eq(charges.id, link.chargeId)).get();
    if (!charge) return 'already-paid';
    const ids = { leaseId: charge.leaseId, chargeId: charge.id, linkId };
    const amount = facts.amountMinor ?? charge.amountMinor;
    const details = {
      paymentId: facts.paymentId,
      method: facts.method,
      amountMinor: facts.amountMinor,
      providerStatus: facts.rawStatus,
      wasLinkStatus: link.status,
      ...facts.details,
    };
    if (link.status === 'paid') {
      // Seen again: only news when the provider now reports a second payment on the same link.
      if (facts.paidMoreThanOnce) recordDuplicateOnLink(tx, ids, amount, details, now);
      return 'already-paid';
    }
    tx.update(paymentLinks)
      .set({
        status: 'paid',
        paymentId: facts.paymentId,
        gateway: facts.method,
        paidAmountMinor: facts.amountMinor,
        paidAt: facts.paidAt ?? now,
        nextCheckAt: null,
        checkJob: null,
        checkQueuedAt: null,
        lastError: null,
        updatedAt: now,
      })
      .where(eq(paymentLinks.id, linkId))
      .run();
    recordEvent(tx, { at: now, type: 'link.paid', actor: 'worker', ...ids, details });
    if (facts.paidMoreThanOnce) recordDuplicateOnLink(tx, ids, amount, details, now);
    if (!chargePaid(tx, ids, facts.paidAt ?? now, { paymentId: facts.paymentId, viaAttempt: link.attempt }, now)) {
      const why =
        charge.status === 'void' ? 'payment on a voided charge' : 'charge was already paid through another link';
      chargeDoublePaid(tx, ids, amount, { reason: why, ...details }, now);
      return 'double-paid';
    }
    for (const other of openLinksOf(tx, charge.id, linkId)) {
      closeSupersededLink(
        tx,
        other,
        { leaseId: charge.leaseId, reason: `charge paid through attempt ${link.attempt}` },
        supersede,
        'worker',
        now,
      );
    }
    return 'paid';
  });
}

function recordDuplicateOnLink(tx: DbOrTx, ids: LinkIds, amount: number, details: object, now: number) {
  const fresh = recordEvent(tx, {
    at: now,
    type: 'payment.duplicate_seen',
    actor: 'worker',
    ...ids,
    dedupeKey: `duplicate-on-link:${ids.linkId}`,
    details: { reason: 'the provider reports more than one payment on this link' },
  });
  if (fresh) chargeDoublePaid(tx, ids, amount, { reason: 'the tenant paid this link more than once', ...details }, now);
}

function openLinksOf(tx: DbOrTx, chargeId: number, exceptLinkId: number): PaymentLink[] {
  return tx
    .select()
    .from(paymentLinks)
    .where(
      and(
        eq(paymentLinks.chargeId, chargeId),
        ne(paymentLinks.id, exceptLinkId),
        inArray(paymentLinks.status, OPEN_LINK_STATUSES),
      ),
    )
    .all();
}

/**
 * Closes a link that may still change because another link (or the operator) took over: `canceled`,
 * with the check its provider needs next (cancel it there now, or one look after its own expiry, since
 * a MyFatoorah invoice stays payable until then).
 */
export function closeSupersededLink(
  tx: DbOrTx,
  link: PaymentLink,
  why: { leaseId: number; reason: string },
  supersede: SupersedePlan,
  actor: Actor,
  now: number,
): void {
  tx.update(paymentLinks)
    .set({
      status: 'canceled',
      nextCheckAt: supersede(link),
      checkJob: null,
      checkQueuedAt: null,
      lastError: why.reason,
      updatedAt: now,
    })
    .where(eq(paymentLinks.id, link.id))
    .run();
  recordEvent(tx, {
    at: now,
    type: 'link.superseded',
    actor,
    leaseId: why.leaseId,
    chargeId: link.chargeId,
    linkId: link.id,
    details: { reason: why.reason, attempt: link.attempt, invoiceId: link.providerLinkId, wasStatus: link.status },
  });
}

/** The link that replaces an expired one, decided by the status job before the transaction. */
export interface NextLinkPlan {
  kind: 'reissue' | 'renewal';
  link: Omit<NewLink, 'attempt' | 'reference' | 'kind' | 'chargeId' | 'leaseId'>;
}

export type ExpiredOutcome =
  | { outcome: 'next-link'; kind: 'reissue' | 'renewal'; attempt: number; account: string }
  | { outcome: 'charge-expired' }
  | { outcome: 'noop' };

/**
 * The link's expiry passed unpaid (confirmed by a check past expiry + grace). The link becomes
 * `expired`, with one final check planned for a late payment. The charge gets its next link — a renewal
 * (provider-capped validity, not counted) or a reissue while the lease's reissues last — created here as
 * `creating` for the send job; otherwise the charge becomes `expired` too.
 */
export function markLinkExpired(
  db: Db,
  linkId: number,
  facts: { rawStatus: string; finalCheckAt: number | null; plan: (reissuesLeft: boolean) => NextLinkPlan | null },
  now: number,
): ExpiredOutcome {
  return db.transaction((tx): ExpiredOutcome => {
    const link = tx.select().from(paymentLinks).where(eq(paymentLinks.id, linkId)).get();
    if (!link || link.status !== 'open') return { outcome: 'noop' };
    const row = tx
      .select({ charge: charges, lease: leases })
      .from(charges)
      .innerJoin(leases, eq(leases.id, charges.leaseId))
      .where(eq(charges.id, link.chargeId))
      .get();
    if (!row) return { outcome: 'noop' };
    const { charge, lease } = row;
    const ids = { leaseId: charge.leaseId, chargeId: charge.id, linkId };
    tx.update(paymentLinks)
      .set({ status: 'expired', nextCheckAt: facts.finalCheckAt, checkJob: null, checkQueuedAt: null, updatedAt: now })
      .where(eq(paymentLinks.id, linkId))
      .run();
    recordEvent(tx, {
      at: now,
      type: 'link.expired',
      actor: 'worker',
      ...ids,
      details: { providerStatus: facts.rawStatus, expiresAt: new Date(link.expiresAt).toISOString() },
    });
    const current =
      link.attempt === charge.linkAttempt && (charge.status === 'invoiced' || charge.status === 'scheduled');
    if (!current) return { outcome: 'noop' };
    const next = facts.plan(charge.reissueCount < lease.maxReissues);
    if (!next) {
      chargeExpired(tx, ids, charge.linkAttempt, lease.maxReissues, now);
      return { outcome: 'charge-expired' };
    }
    const attempt = chargeNextLink(tx, charge, next.kind, 'invoiced', now);
    insertLinkRow(
      tx,
      {
        ...next.link,
        chargeId: charge.id,
        leaseId: lease.id,
        attempt,
        kind: next.kind,
        reference: linkReference(lease.ref, charge.period, attempt),
      },
      'worker',
      now,
    );
    recordEvent(tx, {
      at: now,
      type: next.kind === 'renewal' ? 'charge.renewal' : 'charge.reissue',
      actor: 'worker',
      ...ids,
      details: {
        nextAttempt: attempt,
        reissuesUsed: charge.reissueCount + (next.kind === 'reissue' ? 1 : 0),
        maxReissues: lease.maxReissues,
      },
    });
    return { outcome: 'next-link', kind: next.kind, attempt, account: next.link.account };
  });
}

/** The provider canceled the link on its own: closed, and the charge waits for the operator. */
export function markLinkCanceledByProvider(db: Db, linkId: number, rawStatus: string, now: number): boolean {
  return db.transaction((tx) => {
    const link = tx
      .update(paymentLinks)
      .set({
        status: 'canceled',
        canceledAtProvider: now,
        nextCheckAt: null,
        checkJob: null,
        checkQueuedAt: null,
        updatedAt: now,
      })
      .where(and(eq(paymentLinks.id, linkId), eq(paymentLinks.status, 'open')))
      .returning()
      .get();
    if (!link) return false;
    const reason = 'the link was canceled at the provider; reissue or void the charge';
    chargeFailed(tx, link.chargeId, reason, now);
    const leaseId = tx.select({ leaseId: charges.leaseId }).from(charges).where(eq(charges.id, link.chargeId)).get();
    recordEvent(tx, {
      at: now,
      type: 'link.canceled',
      actor: 'worker',
      leaseId: leaseId?.leaseId ?? null,
      chargeId: link.chargeId,
      linkId,
      details: { providerStatus: rawStatus, reason },
    });
    return true;
  });
}

const PENDING_CHECK = `UPDATE payment_links SET poll_count = poll_count + 1, next_check_at = ?, check_job = NULL,
  check_queued_at = NULL, last_error = ?, updated_at = ? WHERE id = ? AND status = 'open'`;

/** An open link is still pending: count the check and plan the next one. */
export function recordPendingCheck(
  db: Db,
  link: PaymentLink,
  nextCheckAt: number,
  now: number,
  lastError: string | null = null,
): void {
  prepared(db.$client, PENDING_CHECK).run(nextCheckAt, lastError, now, link.id);
}

const CLOSED_CHECK = `UPDATE payment_links SET poll_count = poll_count + 1, next_check_at = ?, check_job = NULL,
  check_queued_at = NULL, updated_at = ? WHERE id = ? AND status IN ('expired', 'canceled')`;

/** A closed (expired or superseded) link was checked and is unpaid: its next check, or none. */
export function recordClosedCheck(db: Db, link: PaymentLink, nextCheckAt: number | null, now: number): void {
  prepared(db.$client, CLOSED_CHECK).run(nextCheckAt, now, link.id);
}

/** The provider confirmed it closed a superseded link. */
export function noteCanceledAtProvider(db: Db, linkId: number, now: number): void {
  db.update(paymentLinks).set({ canceledAtProvider: now, updatedAt: now }).where(eq(paymentLinks.id, linkId)).run();
}

/**
 * A superseded link that was still `creating` (its create outcome uncertain) turned out to exist at the
 * provider: record its id, so it is checked — and canceled where possible — like any other.
 */
export function adoptSupersededLink(
  db: Db,
  linkId: number,
  providerLinkId: string,
  url: string | null,
  now: number,
): void {
  db.transaction((tx) => {
    const link = tx
      .update(paymentLinks)
      .set({ providerLinkId, url, updatedAt: now })
      .where(and(eq(paymentLinks.id, linkId), eq(paymentLinks.status, 'canceled')))
      .returning()
      .get();
    if (!link) return;
    recordEvent(tx, {
      at: now,
      type: 'link.adopted',
      actor: 'worker',
      chargeId: link.chargeId,
      linkId,
      details: { invoiceId: providerLinkId, note: 'a superseded link was found at the provider by its reference' },
    });
  });
}
