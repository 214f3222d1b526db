import { and, eq, inArray, sql } from 'drizzle-orm';
import { recordEvent } from './events.js';
import type { Db } from './open.js';
import { charges, paymentLinks, type Actor, type Channel, type PaymentLink } from './schema.js';

/**
 * State changes of charges and links. Each runs in one synchronous SQLite transaction together with
 * its events row, and each is written to be safe when a job runs twice: it checks the current state
 * and changes nothing when the work was already done.
 */

/** Deterministic, unique and readable: a retry of the same attempt reuses it, a reissue gets a new one. */
export function linkReference(leaseRef: string, period: string, attempt: number): string {
  return `${leaseRef}-${period}-${attempt}`;
}

export interface NewLink {
  chargeId: number;
  leaseId: number;
  attempt: number;
  reference: string;
  provider: string;
  channel: Channel;
  expiresAt: number;
}

/**
 * Returns the link row for (charge, attempt), inserting it as `creating` if it does not exist yet.
 * Returns null when another link of the charge may still change (invariant: one at a time).
 */
export function ensureLinkRow(db: Db, link: NewLink, now: number): PaymentLink | null {
  return db.transaction((tx) => {
    const existing = tx
      .select()
      .from(paymentLinks)
      .where(and(eq(paymentLinks.chargeId, link.chargeId), eq(paymentLinks.attempt, link.attempt)))
      .get();
    if (existing) return existing;
    const other = tx
      .select({ id: paymentLinks.id })
      .from(paymentLinks)
      .where(and(eq(paymentLinks.chargeId, link.chargeId), inArray(paymentLinks.status, ['creating', 'open'])))
      .get();
    if (other) return null;
    const row = tx
      .insert(paymentLinks)
      .values({
        chargeId: link.chargeId,
        attempt: link.attempt,
        reference: link.reference,
        provider: link.provider,
        channel: link.channel,
        status: 'creating',
        expiresAt: link.expiresAt,
        createdAt: now,
        updatedAt: now,
      })
      .returning()
      .get();
    recordEvent(tx, {
      at: now,
      type: 'link.creating',
      actor: 'worker',
      leaseId: link.leaseId,
      chargeId: link.chargeId,
      linkId: row.id,
      details: {
        attempt: link.attempt,
        reference: link.reference,
        channel: link.channel,
        expiresAt: new Date(link.expiresAt).toISOString(),
      },
    });
    return row;
  });
}

/** Counts a createLink call before it is made, so a retry knows the outcome may be uncertain. */
export function noteCreateCall(db: Db, linkId: number, now: number): void {
  db.update(paymentLinks)
    .set({ createCalls: sql`${paymentLinks.createCalls} + 1`, updatedAt: now })
    .where(eq(paymentLinks.id, linkId))
    .run();
}

export interface OpenedLink {
  linkId: number;
  leaseId: number;
  invoiceId: string;
  url: string | null;
  nextCheckAt: number;
  /** `created` by this call, or `adopted` after a lookup found the invoice of an uncertain earlier call. */
  how: 'created' | 'adopted';
  details?: Record<string, unknown>;
}

/** creating → open, and the charge → invoiced. No-op when the link is no longer `creating`. */
export function markLinkOpen(db: Db, opened: OpenedLink, now: number): boolean {
  return db.transaction((tx) => {
    const updated = tx
      .update(paymentLinks)
      .set({
        status: 'open',
        providerLinkId: opened.invoiceId,
        url: opened.url,
        nextCheckAt: opened.nextCheckAt,
        lastError: null,
        updatedAt: now,
      })
      .where(and(eq(paymentLinks.id, opened.linkId), eq(paymentLinks.status, 'creating')))
      .returning({ chargeId: paymentLinks.chargeId })
      .get();
    if (!updated) return false;
    tx.update(charges)
      .set({ status: 'invoiced', statusReason: null, updatedAt: now })
      .where(and(eq(charges.id, updated.chargeId), inArray(charges.status, ['scheduled', 'invoiced', 'failed'])))
      .run();
    recordEvent(tx, {
      at: now,
      type: opened.how === 'created' ? 'link.created' : 'link.adopted',
      actor: 'worker',
      leaseId: opened.leaseId,
      chargeId: updated.chargeId,
      linkId: opened.linkId,
      details: { invoiceId: opened.invoiceId, url: opened.url, ...opened.details },
    });
    return true;
  });
}

/** The provider refused the request for good: link and charge `failed` with the provider's message. */
export function markLinkRejected(
  db: Db,
  link: { linkId: number; chargeId: number; leaseId: number },
  reason: string,
  now: number,
): void {
  db.transaction((tx) => {
    const updated = tx
      .update(paymentLinks)
      .set({ status: 'failed', lastError: reason, updatedAt: now })
      .where(and(eq(paymentLinks.id, link.linkId), eq(paymentLinks.status, 'creating')))
      .run();
    if (updated.changes === 0) return;
    tx.update(charges)
      .set({ status: 'failed', statusReason: reason, updatedAt: now })
      .where(and(eq(charges.id, link.chargeId), inArray(charges.status, ['scheduled', 'invoiced'])))
      .run();
    recordEvent(tx, {
      at: now,
      type: 'link.rejected',
      actor: 'worker',
      leaseId: link.leaseId,
      chargeId: link.chargeId,
      linkId: link.linkId,
      details: { reason },
    });
  });
}

/** Records a transient failure on the link, for the operator; the job will be retried. */
export function noteLinkError(db: Db, linkId: number, message: string, now: number): void {
  db.update(paymentLinks).set({ lastError: message, updatedAt: now }).where(eq(paymentLinks.id, linkId)).run();
}

/**
 * A send gave up after its last attempt on transient errors. The link stays `creating` (its invoice may
 * exist: a re-run looks it up first) and the charge becomes `failed` so the operator sees it.
 */
export function markSendExhausted(
  db: Db,
  link: { linkId: number; chargeId: number; leaseId: number },
  reason: string,
  now: number,
): void {
  db.transaction((tx) => {
    const updated = tx
      .update(charges)
      .set({ status: 'failed', statusReason: reason, updatedAt: now })
      .where(and(eq(charges.id, link.chargeId), inArray(charges.status, ['scheduled', 'invoiced'])))
      .run();
    if (updated.changes === 0) return;
    recordEvent(tx, {
      at: now,
      type: 'send.exhausted',
      actor: 'worker',
      leaseId: link.leaseId,
      chargeId: link.chargeId,
      linkId: link.linkId,
      details: { reason },
    });
  });
}

/** Puts a failed charge back in line for its current attempt (operator re-run); the next send adopts or creates. */
export function reopenFailedCharge(db: Db, chargeId: number, actor: Actor, reason: string, now: number): boolean {
  return db.transaction((tx) => {
    const charge = tx.select().from(charges).where(eq(charges.id, chargeId)).get();
    if (!charge || charge.status !== 'failed') return false;
    const attempt = charge.reissueCount + 1;
    tx.update(paymentLinks)
      .set({ status: 'creating', lastError: null, updatedAt: now })
      .where(
        and(eq(paymentLinks.chargeId, chargeId), eq(paymentLinks.attempt, attempt), eq(paymentLinks.status, 'failed')),
      )
      .run();
    tx.update(charges)
      .set({ status: attempt === 1 ? 'scheduled' : 'invoiced', statusReason: null, updatedAt: now })
      .where(eq(charges.id, chargeId))
      .run();
    recordEvent(tx, {
      at: now,
      type: 'charge.reopened',
      actor,
      leaseId: charge.leaseId,
      chargeId,
      details: { reason, attempt },
    });
    return true;
  });
}
