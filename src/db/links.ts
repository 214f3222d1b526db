import { and, eq, inArray, ne } from 'drizzle-orm';
import {
  chargeDoublePaid,
  chargeExpired,
  chargeFailed,
  chargeInvoiced,
  chargeNextLink,
  chargePaid,
  chargeReopened,
  type LinkIds,
} from './charges.js';
import { recordEvent, recordEvents, type DbOrTx, type NewEvent } from './events.js';
import type { Db } from './open.js';
import { prepared } from './prepared.js';
import { getLinkByAttempt, getOpenLink } from './queries.js';
import { selectList } from './raw.js';
import {
  charges,
  leases,
  OPEN_LINK_STATUSES,
  paymentLinks,
  type Actor,
  type Channel,
  type LinkKind,
  type PaymentLink,
} from './schema.js';

/**
 * The `payment_links` table: each attempt to collect a charge. Every status change of a link lives
 * here, in one transaction with its events (and the charge change it implies, through charges.ts).
 * Each is safe to run twice: it checks the state it expects and changes nothing when that is gone.
 */

/** Deterministic, unique and readable: a retry of the same attempt reuses it, a new attempt gets a new one. */
export function linkReference(leaseRef: string, period: string, attempt: number): string {
  return `${leaseRef}-${period}-${attempt}`;
}

export interface NewLink {
  chargeId: number;
  leaseId: number;
  attempt: number;
  kind: LinkKind;
  reference: string;
  provider: string;
  account: string;
  channel: Channel;
  expiresAt: number;
  windowEndsAt: number;
}

/** The `link.creating` event of a new link row. */
function creatingEvent(link: NewLink, linkId: number, actor: Actor, now: number): NewEvent {
  return {
    at: now,
    type: 'link.creating',
    actor,
    leaseId: link.leaseId,
    chargeId: link.chargeId,
    linkId,
    details: {
      attempt: link.attempt,
      kind: link.kind,
      reference: link.reference,
      account: link.account,
      channel: link.channel,
      expiresAt: new Date(link.expiresAt).toISOString(),
    },
  };
}

/** Inserts the link row as `creating`, before any provider call. */
export function insertLinkRow(tx: DbOrTx, link: NewLink, actor: Actor, now: number): PaymentLink {
  const row = tx
    .insert(paymentLinks)
    .values({ ...link, status: 'creating', createdAt: now, updatedAt: now })
    .returning()
    .get();
  recordEvent(tx, creatingEvent(link, row.id, actor, now));
  return row;
}

const INSERT_LINK = `INSERT INTO payment_links (charge_id, attempt, kind, reference, provider, account, channel, status,
  expires_at, window_ends_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'creating', ?, ?, ?, ?)
  RETURNING ${selectList(paymentLinks, '')}`;

/**
 * Returns the link row for (charge, attempt), inserting it as `creating` if it does not exist yet.
 * Returns null when another link of the charge may still change (invariant: one at a time). Every send
 * job runs it: prepared statements in one IMMEDIATE transaction (the write lock up front, so a process
 * never reads, then fails to upgrade to a writer).
 */
export function ensureLinkRow(db: Db, link: NewLink, now: number): PaymentLink | null {
  return db.$client
    .transaction((): PaymentLink | null => {
      const existing = getLinkByAttempt(db, link.chargeId, link.attempt);
      if (existing) return existing;
      if (getOpenLink(db, link.chargeId)) return null;
      const row = prepared(db.$client, INSERT_LINK).get(
        link.chargeId,
        link.attempt,
        link.kind,
        link.reference,
        link.provider,
        link.account,
        link.channel,
        link.expiresAt,
        link.windowEndsAt,
        now,
        now,
      ) as PaymentLink;
      recordEvents(db.$client, [creatingEvent(link, row.id, 'worker', now)]);
      return row;
    })
    .immediate();
}

/** Counts a createLink call before it is made, so a retry knows the outcome may be uncertain. */
export function noteCreateCall(db: Db, linkId: number, now: number): void {
  prepared(db.$client, 'UPDATE payment_links SET create_calls = create_calls + 1, updated_at = ? WHERE id = ?').run(
    now,
    linkId,
  );
}

export interface OpenedLink {
  linkId: number;
  leaseId: number;
  providerLinkId: string;
  url: string | null;
  /** The expiry the provider applied, when it capped what was asked. */
  expiresAt: number | null;
  nextCheckAt: number;
  /** `created` by this call, or `adopted` after a lookup found the link of an uncertain earlier call. */
  how: 'created' | 'adopted';
  details?: Record<string, unknown>;
}

const OPEN_LINK = `UPDATE payment_links SET status = 'open', provider_invoice_id = ?, url = ?,
  expires_at = COALESCE(?, expires_at), next_check_at = ?, check_job = NULL, check_queued_at = NULL,
  last_error = NULL, updated_at = ? WHERE id = ? AND status = 'creating' RETURNING charge_id AS chargeId`;

/** creating → open, and the charge → invoiced (no more sends). No-op when the link is no longer `creating`. */
export function markLinkOpen(db: Db, opened: OpenedLink, now: number): boolean {
  return db.$client
    .transaction((): boolean => {
      const updated = prepared(db.$client, OPEN_LINK).get(
        opened.providerLinkId,
        opened.url,
        opened.expiresAt,
        opened.nextCheckAt,
        now,
        opened.linkId,
      ) as { chargeId: number } | undefined;
      if (!updated) return false;
      chargeInvoiced(db, updated.chargeId, now);
      recordEvents(db.$client, [
        {
          at: now,
          type: opened.how === 'created' ? 'link.created' : 'link.adopted',
          actor: 'worker',
          leaseId: opened.leaseId,
          chargeId: updated.chargeId,
          linkId: opened.linkId,
          details: { invoiceId: opened.providerLinkId, url: opened.url, ...opened.details },
        },
      ]);
      return true;
    })
    .immediate();
}

/** The provider refused the request for good: link and charge `failed` with the provider's message. */
export function markLinkRejected(db: Db, ids: LinkIds, reason: string, now: number): void {
  db.transaction((tx) => {
    const updated = tx
      .update(paymentLinks)
      .set({ status: 'failed', lastError: reason, updatedAt: now })
      .where(and(eq(paymentLinks.id, ids.linkId), eq(paymentLinks.status, 'creating')))
      .run();
    if (updated.changes === 0) return;
    chargeFailed(tx, ids.chargeId, reason, now);
    recordEvent(tx, { at: now, type: 'link.rejected', actor: 'worker', ...ids, details: { reason } });
  });
}

/**
 * A send gave up after its last attempt on transient errors. The link stays `creating` (its invoice may
 * exist: a re-run looks it up first) and the charge becomes `failed` so the operator sees it.
 */
export function markSendExhausted(db: Db, ids: LinkIds, reason: string, now: number): void {
  db.transaction((tx) => {
    if (!chargeFailed(tx, ids.chargeId, reason, now)) return;
    recordEvent(tx, { at: now, type: 'send.exhausted', actor: 'worker', ...ids, details: { reason } });
  });
}

/**
 * An operator re-runs a failed send: the charge goes back in line for its current attempt and a link
 * the provider refused is `creating` again, so the send re-reads lease and tenant (fixed meanwhile) and
 * looks its reference up before creating. Returns false when the charge is not failed.
 */
export function reopenFailedSend(db: Db, chargeId: number, actor: Actor, reason: string, now: number): boolean {
  return db.transaction((tx) => {
    const charge = tx.select().from(charges).where(eq(charges.id, chargeId)).get();
    if (!charge || !chargeReopened(tx, charge, actor, reason, now)) return false;
    tx.update(paymentLinks)
      .set({ status: 'creating', lastError: null, updatedAt: now })
      .where(
        and(
          eq(paymentLinks.chargeId, chargeId),
          eq(paymentLinks.attempt, charge.linkAttempt),
          eq(paymentLinks.status, 'failed'),
        ),
      )
      .run();
    return true;
  });
}

/** Records a transient failure on the link, for the operator; the job will be retried. */
export function noteLinkError(db: Db, linkId: number, message: string, now: number): void {
  prepared(db.$client, 'UPDATE payment_links SET last_error = ?, updated_at = ? WHERE id = ?').run(
    message,
    now,
    linkId,
  );
}

// ------------------------------------------------------------------------------------------------
// What a status check may change.
// ------------------------------------------------------------------------------------------------

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
