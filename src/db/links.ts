import { and, eq } from 'drizzle-orm';
import { chargeFailed, chargeInvoiced, chargeReopened, type LinkIds } from './charges.js';
import { recordEvent, recordEvents, type DbOrTx, type NewEvent } from './events.js';
import type { Db } from './open.js';
import { prepared } from './prepared.js';
import { getLinkByAttempt, getOpenLink } from './queries.js';
import { selectList } from './raw.js';
import { charges, paymentLinks, type Actor, type Channel, type LinkKind, type PaymentLink } from './schema.js';

/**
 * The `payment_links` table: each attempt to collect a charge. Every status change of a link lives
 * here (creation and sending) or in link-checks.ts (what a status check finds), in one transaction with
 * its events (and the charge change it implies, through charges.ts).
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
