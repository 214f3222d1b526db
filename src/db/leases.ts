import { eq } from 'drizzle-orm';
import { RentlinkError } from '../errors.js';
import { recordEvent } from './events.js';
import type { Db } from './open.js';
import { prepared } from './prepared.js';
import { leases } from './schema.js';

/**
 * The `leases` table's changes: its state (active / paused / ended), owned by the operator, and the
 * instant the tick next has to look at it (`next_send_at`).
 */

/** `next_send_at` value that means "look at this lease at the next tick" (after an import or an edit). */
export const LOOK_NOW = 0;

/** What the tick needs of a lease to create its charges: the schedule and the rent. */
export interface DueLease {
  id: number;
  amountMinor: number;
  currency: string;
  dueDay: number;
  leadDays: number;
  timezone: string;
  startsOn: string;
  endsOn: string | null;
  paidThrough: string | null;
}

const DUE_LEASES = `SELECT id, amount_minor AS amountMinor, currency, due_day AS dueDay, lead_days AS leadDays,
  timezone, starts_on AS startsOn, ends_on AS endsOn, paid_through AS paidThrough
  FROM leases WHERE state = 'active' AND next_send_at IS NOT NULL AND next_send_at <= ?
  ORDER BY next_send_at, id LIMIT ?`;

/** Active leases whose next send instant has come, oldest first (index leases_next_send). */
export function leasesDueForCharges(db: Db, now: number, limit: number): DueLease[] {
  return prepared(db.$client, DUE_LEASES).all(now, limit) as DueLease[];
}

/** When the tick has to look at the lease next (null: never, it has no period left). */
export function setNextSendAt(db: Db, leaseId: number, nextSendAt: number | null): void {
  prepared(db.$client, 'UPDATE leases SET next_send_at = ? WHERE id = ?').run(nextSendAt, leaseId);
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
