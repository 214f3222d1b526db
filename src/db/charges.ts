import { and, asc, eq, inArray, isNotNull, lt, sql } from 'drizzle-orm';
import type { Actor } from './schema.js';
import { recordEvent, recordEvents, type DbOrTx, type NewEvent } from './events.js';
import { prepared } from './prepared.js';
import type { Db } from './open.js';
import { charges, OPEN_CHARGE_STATUSES, type Charge } from './schema.js';

/**
 * The `charges` table: what a tenant owes for one period. Every status change of a charge lives here,
 * as a function that takes the caller's transaction and writes its `events` row in it; callers name the
 * change (jobs, the tick, operations) and never write `status` themselves.
 *
 * A charge that needs a link has `next_send_at` set; the tick queues a send for it and notes the job in
 * `send_job`/`send_queued_at`, so it is not queued again while that job lives.
 */

export interface ChargeIds {
  leaseId: number;
  chargeId: number;
  linkId?: number | null;
}

/** The ids of a change that is about one link. */
export interface LinkIds extends ChargeIds {
  linkId: number;
}

/** The fields every "the charge needs no send any more" change clears. */
const NO_SEND = { nextSendAt: null, sendJob: null, sendQueuedAt: null } as const;

/** A charge to create: one period of one lease. */
export interface NewCharge {
  lease: { id: number; amountMinor: number; currency: string };
  due: { period: string; dueDate: string; sendAt: number };
}

const INSERT_CHARGE = `INSERT INTO charges
  (lease_id, period, due_date, send_at, amount_minor, currency, status, next_send_at, created_at, updated_at)
  VALUES (?, ?, ?, ?, ?, ?, 'scheduled', ?, ?, ?)
  ON CONFLICT (lease_id, period) DO NOTHING RETURNING id`;

/**
 * New charges, each for one period of a lease and due to be sent now, with their `charge.created`
 * events (written in bulk). A (lease, period) that already has its charge is skipped: UNIQUE keeps one
 * charge per lease and period however many ticks run at once. Call it inside the caller's transaction.
 * Returns how many were created.
 */
export function insertCharges(db: Db, list: readonly NewCharge[], now: number): number {
  const insert = prepared(db.$client, INSERT_CHARGE);
  const created: NewEvent[] = [];
  for (const { lease, due } of list) {
    const row = insert.get(
      lease.id,
      due.period,
      due.dueDate,
      due.sendAt,
      lease.amountMinor,
      lease.currency,
      now,
      now,
      now,
    ) as { id: number } | undefined;
    if (!row) continue;
    created.push({
      at: now,
      type: 'charge.created',
      actor: 'tick',
      leaseId: lease.id,
      chargeId: row.id,
      details: { period: due.period, dueDate: due.dueDate, amountMinor: lease.amountMinor, currency: lease.currency },
    });
  }
  recordEvents(db.$client, created);
  return created.length;
}

/** A link of the charge is open at the provider: the charge is `invoiced` and needs no send. */
export function chargeInvoiced(db: Db, chargeId: number, now: number): void {
  prepared(
    db.$client,
    `UPDATE charges SET status = 'invoiced', status_reason = NULL, next_send_at = NULL, send_job = NULL,
     send_queued_at = NULL, updated_at = ? WHERE id = ? AND status IN ('scheduled', 'invoiced', 'failed')`,
  ).run(now, chargeId);
}

/** The charge is settled by a payment. Returns false when it was not open (already paid or void). */
export function chargePaid(tx: DbOrTx, ids: ChargeIds, paidAt: number, details: object, now: number): boolean {
  const done = tx
    .update(charges)
    .set({ status: 'paid', paidAt, statusReason: null, ...NO_SEND, updatedAt: now })
    .where(and(eq(charges.id, ids.chargeId), inArray(charges.status, ['scheduled', 'invoiced', 'failed', 'expired'])))
    .run();
  if (done.changes === 0) return false;
  recordEvent(tx, { at: now, type: 'charge.paid', actor: 'worker', ...ids, details: { ...details } });
  return true;
}

/**
 * Money came in that the charge does not need: a superseded link paid after another one settled the
 * charge, a payment on a void charge, or one link paid twice. It counts as an extra payment the
 * operator must look at (refund or credit), listed as double-paid until reviewed.
 */
export function chargeDoublePaid(tx: DbOrTx, ids: ChargeIds, amountMinor: number, details: object, now: number): void {
  tx.update(charges)
    .set({
      extraPayments: sql`${charges.extraPayments} + 1`,
      extraPaidMinor: sql`${charges.extraPaidMinor} + ${amountMinor}`,
      extraReviewedAt: null,
      updatedAt: now,
    })
    .where(eq(charges.id, ids.chargeId))
    .run();
  recordEvent(tx, { at: now, type: 'payment.double', actor: 'worker', ...ids, details: { amountMinor, ...details } });
}

/** The operator settled the charge's extra payments (refunded them, or kept them as credit). */
export function reviewDoublePayment(db: Db, chargeId: number, reason: string, now: number): boolean {
  return db.transaction((tx) => {
    const charge = tx.select().from(charges).where(eq(charges.id, chargeId)).get();
    if (!charge || charge.extraPayments === 0 || charge.extraReviewedAt !== null) return false;
    tx.update(charges).set({ extraReviewedAt: now, updatedAt: now }).where(eq(charges.id, chargeId)).run();
    recordEvent(tx, {
      at: now,
      type: 'payment.double_reviewed',
      actor: 'admin',
      leaseId: charge.leaseId,
      chargeId,
      details: { reason, extraPayments: charge.extraPayments, extraPaidMinor: charge.extraPaidMinor },
    });
    return true;
  });
}

/** The charge cannot be collected without the operator: `failed` with the reason, no more sends. */
export function chargeFailed(tx: DbOrTx, chargeId: number, reason: string, now: number): boolean {
  const done = tx
    .update(charges)
    .set({ status: 'failed', statusReason: reason, ...NO_SEND, updatedAt: now })
    .where(and(eq(charges.id, chargeId), inArray(charges.status, OPEN_CHARGE_STATUSES)))
    .run();
  return done.changes > 0;
}

/** The charge's account is not configured (any more): it fails, naming the account, until the operator acts. */
export function chargeUnroutable(db: Db, chargeId: number, account: string, now: number): void {
  db.transaction((tx) => {
    const reason = `account "${account}" is not configured: add it to the accounts, then retry or reissue`;
    const charge = tx.select({ leaseId: charges.leaseId }).from(charges).where(eq(charges.id, chargeId)).get();
    if (!charge || !chargeFailed(tx, chargeId, reason, now)) return;
    recordEvent(tx, {
      at: now,
      type: 'send.unroutable',
      actor: 'tick',
      leaseId: charge.leaseId,
      chargeId,
      details: { reason },
    });
  });
}

/** Every link expired unpaid and no reissue is left: the charge is `expired`. */
export function chargeExpired(tx: DbOrTx, ids: ChargeIds, links: number, maxReissues: number, now: number): void {
  tx.update(charges)
    .set({ status: 'expired', statusReason: `unpaid after ${links} link(s)`, ...NO_SEND, updatedAt: now })
    .where(eq(charges.id, ids.chargeId))
    .run();
  recordEvent(tx, { at: now, type: 'charge.expired', actor: 'worker', ...ids, details: { links, maxReissues } });
}

/**
 * The charge gets its next link (attempt + 1) now: a reminder after expiry or an operator reissue
 * (counted against max_reissues), or a renewal of a provider-capped validity (not counted). The new
 * link's row is written by the caller in the same transaction.
 */
export function chargeNextLink(
  tx: DbOrTx,
  charge: Pick<Charge, 'id' | 'linkAttempt' | 'reissueCount' | 'status'>,
  kind: 'reissue' | 'renewal',
  status: 'scheduled' | 'invoiced',
  now: number,
): number {
  const attempt = charge.linkAttempt + 1;
  tx.update(charges)
    .set({
      linkAttempt: attempt,
      reissueCount: kind === 'reissue' ? charge.reissueCount + 1 : charge.reissueCount,
      status,
      statusReason: null,
      nextSendAt: now,
      sendJob: null,
      sendQueuedAt: null,
      updatedAt: now,
    })
    .where(eq(charges.id, charge.id))
    .run();
  return attempt;
}

/** The operator closed the charge for good. */
export function chargeVoided(tx: DbOrTx, chargeId: number, reason: string, now: number): void {
  tx.update(charges)
    .set({ status: 'void', statusReason: reason, ...NO_SEND, updatedAt: now })
    .where(eq(charges.id, chargeId))
    .run();
}

/**
 * A failed charge goes back in line for its current attempt (operator re-run of a failed send): the
 * next send adopts or creates the link. Returns false when the charge is not failed.
 */
export function chargeReopened(tx: DbOrTx, charge: Charge, actor: Actor, reason: string, now: number): boolean {
  if (charge.status !== 'failed') return false;
  tx.update(charges)
    .set({
      status: charge.linkAttempt === 1 ? 'scheduled' : 'invoiced',
      statusReason: null,
      nextSendAt: now,
      sendJob: null,
      sendQueuedAt: null,
      updatedAt: now,
    })
    .where(eq(charges.id, charge.id))
    .run();
  recordEvent(tx, {
    at: now,
    type: 'charge.reopened',
    actor,
    leaseId: charge.leaseId,
    chargeId: charge.id,
    details: { reason, attempt: charge.linkAttempt },
  });
  return true;
}

// ------------------------------------------------------------------------------------------------
// Queued sends: what the tick reads and notes (indexed: charges_send_due, charges_send_queued).
// ------------------------------------------------------------------------------------------------

export interface SendDue {
  chargeId: number;
  attempt: number;
}

/** A send that is due and not queued, with the account it goes to (null: the default account). */
export interface DueSend extends SendDue {
  nextSendAt: number;
  account: string | null;
}

/** Where a walk over due sends stands: the last (next_send_at, id) handed out. */
export interface SendCursor {
  nextSendAt: number;
  chargeId: number;
}

export const SEND_CURSOR_START: SendCursor = { nextSendAt: Number.MIN_SAFE_INTEGER, chargeId: 0 };

// Index charges_send_due, walked in (next_send_at, id) order from the cursor. The account is the one of
// the pre-made link row (a reissue or renewal decided when the previous link expired), else the lease's.
const DUE_SENDS = `SELECT c.id AS chargeId, c.link_attempt AS attempt, c.next_send_at AS nextSendAt,
  COALESCE(pl.account, l.account) AS account
  FROM charges c JOIN leases l ON l.id = c.lease_id
  LEFT JOIN payment_links pl ON pl.charge_id = c.id AND pl.attempt = c.link_attempt
  WHERE c.next_send_at <= ? AND c.send_queued_at IS NULL AND (c.next_send_at, c.id) > (?, ?) AND l.state = 'active'
  ORDER BY c.next_send_at, c.id LIMIT ?`;

/**
 * Charges whose send is due and not queued, of active leases, after `cursor` in (next_send_at, id)
 * order. A cursor rather than "the first N": the tick hands a batch to Redis and reads the next one
 * before the first is noted as queued.
 */
export function chargesDueForSend(db: Db, now: number, cursor: SendCursor, limit: number): DueSend[] {
  return prepared(db.$client, DUE_SENDS).all(now, cursor.nextSendAt, cursor.chargeId, limit) as DueSend[];
}

/** Notes the jobs the tick queued; a charge whose send was done meanwhile is left alone. */
export function markSendsQueued(db: Db, queued: Array<SendDue & { jobId: string }>, now: number): void {
  const statement = db.$client.prepare(
    `UPDATE charges SET send_job = ?, send_queued_at = ?
     WHERE id = ? AND link_attempt = ? AND next_send_at IS NOT NULL AND send_queued_at IS NULL`,
  );
  db.$client.transaction(() => {
    for (const q of queued) statement.run(q.jobId, now, q.chargeId, q.attempt);
  })();
}

export interface QueuedSend extends SendDue {
  jobId: string;
}

/** Sends queued before `before` that are still due: their job is looked at in Redis. */
export function sendsQueuedBefore(db: Db, before: number, limit: number): QueuedSend[] {
  return db
    .select({ chargeId: charges.id, attempt: charges.linkAttempt, jobId: sql<string>`${charges.sendJob}` })
    .from(charges)
    .where(and(isNotNull(charges.nextSendAt), lt(charges.sendQueuedAt, before)))
    .orderBy(asc(charges.sendQueuedAt))
    .limit(limit)
    .all();
}

/** The job is alive (waiting, active, delayed): look again after REQUEUE_AFTER. */
export function sendStillQueued(db: Db, chargeIds: number[], now: number): void {
  if (chargeIds.length === 0) return;
  db.update(charges).set({ sendQueuedAt: now }).where(inArray(charges.id, chargeIds)).run();
}

/** The job was queued again under a new id. No-op when the row moved on meanwhile. */
export function sendRequeued(db: Db, chargeId: number, previousJob: string, jobId: string, now: number): boolean {
  const done = db
    .update(charges)
    .set({ sendJob: jobId, sendQueuedAt: now })
    .where(and(eq(charges.id, chargeId), eq(charges.sendJob, previousJob), isNotNull(charges.nextSendAt)))
    .run();
  return done.changes > 0;
}

/** A send job that found nothing to do while the send is still wanted (lease paused): queue it again later. */
export function sendNotQueued(db: Db, chargeId: number): void {
  db.update(charges).set({ sendJob: null, sendQueuedAt: null }).where(eq(charges.id, chargeId)).run();
}

/** Redis lost its queues: nothing is queued any more. */
export function forgetQueuedSends(db: Db): number {
  return db.update(charges).set({ sendJob: null, sendQueuedAt: null }).where(isNotNull(charges.sendQueuedAt)).run()
    .changes;
}
