import { and, asc, eq, isNotNull, lte } from 'drizzle-orm';
import { RentlinkError } from '../errors.js';
import { recordEvent, type DbOrTx } from './events.js';
import type { Db } from './open.js';
import { leases, type Lease } from './schema.js';

/**
 * The `leases` table's changes: its state (active / paused / ended), owned by the operator, and the
 * instant the tick next has to look at it (`next_send_at`).
 */

/** `next_send_at` value that means "look at this lease at the next tick" (after an import or an edit). */
export const LOOK_NOW = 0;

/** Active leases whose next send instant has come, oldest first. */
export function leasesDueForCharges(db: Db, now: number, limit: number): Lease[] {
  return db
    .select()
    .from(leases)
    .where(and(eq(leases.state, 'active'), isNotNull(leases.nextSendAt), lte(leases.nextSendAt, now)))
    .orderBy(asc(leases.nextSendAt), asc(leases.id))
    .limit(limit)
    .all();
}

/** When the tick has to look at the lease next (null: never, it has no period left). */
export function setNextSendAt(tx: DbOrTx, leaseId: number, nextSendAt: number | null): void {
  tx.update(leases).set({ nextSendAt }).where(eq(leases.id, leaseId)).run();
}

/**
 * Pauses or resumes a lease. A paused lease gets no new charges and no sends (the tick selects active
 * leases only); its open links are still polled, so a payment made meanwhile counts. Resuming looks at
 * it at the next tick, which catches up missed periods within CATCH_UP_PERIODS. An ended lease is
 * refused, and so is a lease already in the requested state (nothing would change).
 */
export function changeLeaseState(
  db: Db,
  ref: string,
  state: 'paused' | 'active',
  reason: string | null,
  now: number,
): void {
  db.transaction(
    (tx) => {
      const lease = tx.select().from(leases).where(eq(leases.ref, ref)).get();
      if (!lease) throw new RentlinkError('NOT_FOUND', `lease "${ref}" not found`);
      const verb = state === 'paused' ? 'paused' : 'resumed';
      if (lease.state === 'ended')
        throw new RentlinkError('INVALID_STATE', `lease ${ref} has ended; it cannot be ${verb}`);
      if (lease.state === state) throw new RentlinkError('INVALID_STATE', `lease ${ref} is already ${state}`);
      tx.update(leases)
        .set({ state, updatedAt: now, ...(state === 'active' ? { nextSendAt: LOOK_NOW } : {}) })
        .where(eq(leases.id, lease.id))
        .run();
      recordEvent(tx, {
        at: now,
        type: `lease.${verb}`,
        actor: 'admin',
        leaseId: lease.id,
        details: { reason, ref, from: lease.state, to: state },
      });
    },
    { behavior: 'immediate' },
  );
}
