import { and, asc, eq, inArray, isNotNull, lt, or, sql, type SQL } from 'drizzle-orm';
import type { Clock } from '../time/clock.js';
import type { AppContext } from '../context.js';
import { recordEvent, type DbOrTx } from '../db/events.js';
import type { Db } from '../db/open.js';
import {
  CHARGE_STATUSES,
  charges,
  events,
  leases,
  OPEN_LINK_STATUSES,
  paymentLinks,
  type Charge,
  type PaymentLink,
} from '../db/schema.js';
import { RentlinkError } from '../errors.js';
import { instantToZonedParts } from '../time/periods.js';
import { sendJobId, sendJobOptions } from '../queues.js';
import {
  assertChargeStatus,
  assertPeriod,
  chargeNotFound,
  cleanReason,
  leaseNotFound,
  selectChargeRows,
  type ChargeRow,
} from './rows.js';

/**
 * Operator actions on charges: list, show (links + full history), reissue and void. Every action is
 * one SQLite transaction with its `events` row (actor `admin`, the operator's reason).
 */

export type { ChargeRow } from './rows.js';

export interface ChargeFilter {
  /** `YYYY-MM`. */
  period?: string;
  /** One of CHARGE_STATUSES. */
  status?: string;
  leaseRef?: string;
}

/** Charges matching the filter, newest period first. Throws on a bad period/status or an unknown lease. */
export function listCharges(db: Db, filter: ChargeFilter = {}): ChargeRow[] {
  const conditions: SQL[] = [];
  if (filter.period !== undefined) conditions.push(eq(charges.period, assertPeriod(filter.period)));
  if (filter.status !== undefined) conditions.push(eq(charges.status, assertChargeStatus(filter.status)));
  if (filter.leaseRef !== undefined) {
    // An unknown ref is almost always a typo: say so instead of printing an empty list.
    const lease = db.select({ id: leases.id }).from(leases).where(eq(leases.ref, filter.leaseRef)).get();
    if (!lease) throw leaseNotFound(filter.leaseRef);
    conditions.push(eq(charges.leaseId, lease.id));
  }
  return selectChargeRows(db, and(...conditions));
}

export interface ChargeEvent {
  id: number;
  /** ISO instant. */
  at: string;
  type: string;
  actor: string;
  linkId: number | null;
  details: Record<string, unknown>;
}

export interface ChargeDetail {
  charge: ChargeRow;
  links: PaymentLink[];
  events: ChargeEvent[];
}

/** One charge with all its links (by attempt) and its full event history (oldest first); null when missing. */
export function showCharge(db: Db, id: number): ChargeDetail | null {
  const [charge] = selectChargeRows(db, eq(charges.id, id));
  if (!charge) return null;
  const links = db
    .select()
    .from(paymentLinks)
    .where(eq(paymentLinks.chargeId, id))
    .orderBy(asc(paymentLinks.attempt))
    .all();
  const linkIds = links.map((l) => l.id);
  // Most link events carry the charge id too; the OR catches any that only name the link.
  const where =
    linkIds.length > 0 ? or(eq(events.chargeId, id), inArray(events.linkId, linkIds)) : eq(events.chargeId, id);
  const history = db
    .select()
    .from(events)
    .where(where)
    .orderBy(asc(events.id))
    .all()
    .map((e) => ({
      id: e.id,
      at: new Date(e.at).toISOString(),
      type: e.type,
      actor: e.actor,
      linkId: e.linkId,
      details: parseDetails(e.details),
    }));
  return { charge, links, events: history };
}

function parseDetails(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : { value };
  } catch {
    return { raw: text };
  }
}

/**
 * A new link for the charge now, even past the lease's max_reissues (the operator decides). Refused
 * for a paid or void charge and for a lease that is not active (the send job would skip it). In one
 * transaction: the open link, if any, is closed as `canceled`; reissue_count + 1; the charge becomes
 * `invoiced` when a link of it ever reached the provider, else `scheduled` (so a `failed` or `expired`
 * charge is collectable again). Then the send job for the new attempt is queued; should that fail,
 * the next tick queues the same job from SQLite.
 */
export async function reissueCharge(
  ctx: AppContext,
  id: number,
  reason: string,
): Promise<{ attempt: number; canceledLinkId: number | null }> {
  const now = ctx.clock.now();
  const result = ctx.db.transaction(
    (tx) => {
      const charge = loadForAction(tx, id, 'reissue');
      const lease = tx
        .select({ ref: leases.ref, state: leases.state })
        .from(leases)
        .where(eq(leases.id, charge.leaseId))
        .get();
      if (lease && lease.state !== 'active') {
        throw new RentlinkError(
          'INVALID_STATE',
          `charge ${id} cannot be reissued: lease ${lease.ref} is ${lease.state}${lease.state === 'paused' ? ' (resume it first)' : ''}`,
        );
      }
      const canceled = closeOpenLink(tx, charge, 'superseded by operator reissue', now);
      const reachedProvider = tx
        .select({ id: paymentLinks.id })
        .from(paymentLinks)
        .where(and(eq(paymentLinks.chargeId, id), isNotNull(paymentLinks.providerLinkId)))
        .get();
      const attempt = charge.reissueCount + 2;
      tx.update(charges)
        .set({
          reissueCount: charge.reissueCount + 1,
          status: reachedProvider ? 'invoiced' : 'scheduled',
          statusReason: null,
          updatedAt: now,
        })
        .where(eq(charges.id, id))
        .run();
      recordEvent(tx, {
        at: now,
        type: 'charge.reissued',
        actor: 'admin',
        leaseId: charge.leaseId,
        chargeId: id,
        linkId: canceled?.id ?? null,
        details: {
          reason: cleanReason(reason),
          attempt,
          previousStatus: charge.status,
          canceledLinkId: canceled?.id ?? null,
        },
      });
      return { attempt, canceledLinkId: canceled?.id ?? null };
    },
    { behavior: 'immediate' },
  );
  await ctx.queues.send.add(
    'send',
    { chargeId: id, attempt: result.attempt },
    {
      ...sendJobOptions(ctx.config),
      jobId: sendJobId(id, result.attempt),
    },
  );
  await dropSupersededSendJobs(ctx, id, result.attempt);
  return result;
}

/**
 * The failed send jobs of earlier attempts are settled by the reissue: removing them keeps
 * `jobs failed` to what still needs the operator (their history stays in `events`).
 */
async function dropSupersededSendJobs(ctx: AppContext, chargeId: number, attempt: number): Promise<void> {
  for (let earlier = 1; earlier < attempt; earlier++) {
    const job = await ctx.queues.send.getJob(sendJobId(chargeId, earlier));
    if (job && (await job.getState()) === 'failed') await job.remove().catch(() => undefined);
  }
}

/**
 * Closes the charge for good: status `void` with the reason, its open link `canceled` (the status job
 * skips links that are not open and the tick only sends for scheduled/invoiced charges, so nothing is
 * sent or polled again). Refused for a paid charge; the reason is required.
 */
export function voidCharge(ctx: { db: Db; clock: Clock }, id: number, reason: string): void {
  const why = cleanReason(reason);
  if (!why) throw new RentlinkError('INVALID_INPUT', `a reason is required to void charge ${id}`);
  const now = ctx.clock.now();
  ctx.db.transaction(
    (tx) => {
      const charge = loadForAction(tx, id, 'void');
      const canceled = closeOpenLink(tx, charge, `charge voided by operator: ${why}`, now);
      tx.update(charges).set({ status: 'void', statusReason: why, updatedAt: now }).where(eq(charges.id, id)).run();
      recordEvent(tx, {
        at: now,
        type: 'charge.voided',
        actor: 'admin',
        leaseId: charge.leaseId,
        chargeId: id,
        linkId: canceled?.id ?? null,
        details: { reason: why, previousStatus: charge.status, canceledLinkId: canceled?.id ?? null },
      });
    },
    { behavior: 'immediate' },
  );
}

/** Reads the charge and refuses the action when the charge is missing, paid or void. */
function loadForAction(tx: DbOrTx, id: number, action: 'reissue' | 'void'): Charge {
  const charge = tx.select().from(charges).where(eq(charges.id, id)).get();
  if (!charge) throw chargeNotFound(id);
  // Invariant 3: a paid charge never changes again.
  if (charge.status === 'paid')
    throw new RentlinkError(
      'INVALID_STATE',
      `charge ${id} is paid; it cannot be ${action === 'void' ? 'voided' : 'reissued'}`,
    );
  if (charge.status === 'void') {
    throw new RentlinkError(
      'INVALID_STATE',
      action === 'void' ? `charge ${id} is already void` : `charge ${id} is void; it cannot be reissued`,
    );
  }
  return charge;
}

/** Cancels the charge's link that may still change (at most one exists), with an event; returns it. */
function closeOpenLink(tx: DbOrTx, charge: Charge, why: string, now: number): PaymentLink | null {
  const link = tx
    .update(paymentLinks)
    .set({ status: 'canceled', nextCheckAt: null, lastError: why, updatedAt: now })
    .where(and(eq(paymentLinks.chargeId, charge.id), inArray(paymentLinks.status, OPEN_LINK_STATUSES)))
    .returning()
    .get();
  if (!link) return null;
  recordEvent(tx, {
    at: now,
    type: 'link.canceled',
    actor: 'admin',
    leaseId: charge.leaseId,
    chargeId: charge.id,
    linkId: link.id,
    details: { reason: why, attempt: link.attempt, invoiceId: link.providerLinkId },
  });
  return link;
}

/**
 * What the operator should look at: failed charges (with their reason), expired ones, and charges
 * still scheduled/invoiced after their due date (a local date, compared with today in the lease's zone).
 */
export function chargesNeedingAttention(db: Db, now: number): ChargeRow[] {
  // Due dates are local to each lease: "overdue" means before today in that lease's time zone. SQL
  // narrows by the UTC date + 1 (no zone is more than 14 h ahead), the zone check is per row.
  const tomorrowUtc = new Date(now + 86_400_000).toISOString().slice(0, 10);
  const zones = new Map(
    db
      .select({ ref: leases.ref, timezone: leases.timezone })
      .from(leases)
      .all()
      .map((l) => [l.ref, l.timezone]),
  );
  const isOverdue = (row: ChargeRow) => row.dueDate < instantToZonedParts(now, zones.get(row.leaseRef) ?? 'UTC').date;
  return selectChargeRows(
    db,
    or(
      inArray(charges.status, ['failed', 'expired']),
      and(inArray(charges.status, ['scheduled', 'invoiced']), lt(charges.dueDate, tomorrowUtc)),
    ),
  )
    .filter((row) => row.status === 'failed' || row.status === 'expired' || isOverdue(row))
    .sort((a, b) => attentionRank(a) - attentionRank(b) || a.dueDate.localeCompare(b.dueDate) || a.id - b.id);
}

/** Failed first (something is broken), then expired, then merely overdue. */
function attentionRank(row: ChargeRow): number {
  return row.status === 'failed' ? 0 : row.status === 'expired' ? 1 : 2;
}

/** Charges by status (all statuses, zeros included): for metrics and the dashboard. */
export function chargeCountsByStatus(db: Db): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const status of CHARGE_STATUSES) counts[status] = 0;
  const rows = db
    .select({ status: charges.status, n: sql<number>`COUNT(*)` })
    .from(charges)
    .groupBy(charges.status)
    .all();
  for (const row of rows) counts[row.status] = row.n;
  return counts;
}
