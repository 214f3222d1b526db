import { and, asc, eq, inArray, isNotNull, isNull, lt, lte, sql } from 'drizzle-orm';
import type { Db } from './open.js';
import { paymentLinks } from './schema.js';

/**
 * Planned status checks of links: which are due, and which job the tick queued for each (indexed:
 * payment_links_check_due, payment_links_check_queued). A link with `next_check_at` set wants a check;
 * `check_job`/`check_queued_at` say one is queued, so the tick does not queue it again while it lives.
 */

export interface CheckDue {
  linkId: number;
  slot: number;
  account: string;
}

/** Links whose check time has come and that have no check queued, oldest first. */
export function linksDueForCheck(db: Db, now: number, limit: number): CheckDue[] {
  return db
    .select({ linkId: paymentLinks.id, slot: sql<number>`${paymentLinks.nextCheckAt}`, account: paymentLinks.account })
    .from(paymentLinks)
    .where(and(lte(paymentLinks.nextCheckAt, now), isNull(paymentLinks.checkQueuedAt)))
    .orderBy(asc(paymentLinks.nextCheckAt))
    .limit(limit)
    .all();
}

/** Notes the jobs the tick queued; a link whose check ran (and moved its slot) meanwhile is left alone. */
export function markChecksQueued(db: Db, queued: Array<CheckDue & { jobId: string }>, now: number): void {
  const statement = db.$client.prepare(
    `UPDATE payment_links SET check_job = ?, check_queued_at = ?
     WHERE id = ? AND next_check_at = ? AND check_queued_at IS NULL`,
  );
  db.$client.transaction(() => {
    for (const q of queued) statement.run(q.jobId, now, q.linkId, q.slot);
  })();
}

export interface QueuedCheck extends CheckDue {
  jobId: string;
}

/** Checks queued before `before` that are still wanted: their job is looked at in Redis. */
export function checksQueuedBefore(db: Db, before: number, limit: number): QueuedCheck[] {
  return db
    .select({
      linkId: paymentLinks.id,
      slot: sql<number>`${paymentLinks.nextCheckAt}`,
      account: paymentLinks.account,
      jobId: sql<string>`${paymentLinks.checkJob}`,
    })
    .from(paymentLinks)
    .where(and(isNotNull(paymentLinks.nextCheckAt), lt(paymentLinks.checkQueuedAt, before)))
    .orderBy(asc(paymentLinks.checkQueuedAt))
    .limit(limit)
    .all();
}

/** The jobs are alive (waiting, delayed, active): look again after REQUEUE_AFTER. */
export function checksStillQueued(db: Db, linkIds: number[], now: number): void {
  if (linkIds.length === 0) return;
  db.update(paymentLinks).set({ checkQueuedAt: now }).where(inArray(paymentLinks.id, linkIds)).run();
}

/** The check was queued again under a new id. No-op when the link moved on meanwhile. */
export function checkRequeued(db: Db, linkId: number, previousJob: string, jobId: string, now: number): boolean {
  const done = db
    .update(paymentLinks)
    .set({ checkJob: jobId, checkQueuedAt: now })
    .where(
      and(eq(paymentLinks.id, linkId), eq(paymentLinks.checkJob, previousJob), isNotNull(paymentLinks.nextCheckAt)),
    )
    .run();
  return done.changes > 0;
}

/** Redis lost its queues: nothing is queued any more. */
export function forgetQueuedChecks(db: Db): number {
  return db
    .update(paymentLinks)
    .set({ checkJob: null, checkQueuedAt: null })
    .where(isNotNull(paymentLinks.checkQueuedAt))
    .run().changes;
}
