import { and, asc, desc, eq, gt, inArray, or, sql } from 'drizzle-orm';
import type { AppContext } from '../context.js';
import { chargeNextLink, chargeVoided, markSendsQueued, reviewDoublePayment } from '../db/charges.js';
import { recordEvent, type DbOrTx } from '../db/events.js';
import { closeSupersededLink } from '../db/link-checks.js';
import { insertLinkRow, linkReference } from '../db/links.js';
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
import { sendJobId, sendJobOptions } from '../queues.js';
import { reissuePlan } from '../schedule/link-plan.js';
import { checkTimings, supersededCheckAt } from '../schedule/poll-plan.js';
import { chargeNotFound, cleanReason, selectChargeRows, type ChargeRow } from './rows.js';

/**
 * Operator actions on charges: list, show (links + full history), reissue and void. Every action is
 * one SQLite transaction with its `events` row (actor `admin`, the operator's reason).
 */

export type { ChargeRow } from './rows.js';
export {
  attentionPage,
  chargesNeedingAttention,
  chargesPage,
  listCharges,
  type AttentionCounts,
  type ChargeFilter,
} from './listings.js';

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

/** What the charge operations need: the database, the time, and the accounts (for superseded links). */
export type ActionContext = Pick<AppContext, 'db' | 'clock' | 'registry' | 'config'>;

/**
 * A new link for the charge now, even past the lease's max_reissues (the operator decides). Refused
 * for a paid or void charge and for a lease that is not active (the send job would skip it). In one
 * transaction: the link that may still change, if any, is superseded (canceled at its provider where
 * possible, otherwise checked once after its own expiry, since it stays payable there); the new
 * attempt's link row is written (the lease's account now, REISSUE_CHANNEL, valid from today); the
 * charge counts a reissue and is collectable again. Then the send is queued; should that fail, the
 * next tick queues it from SQLite.
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
      const lease = tx.select().from(leases).where(eq(leases.id, charge.leaseId)).get();
      if (!lease) throw chargeNotFound(id);
      if (lease.state !== 'active') {
        throw new RentlinkError(
          'INVALID_STATE',
          `charge ${id} cannot be reissued: lease ${lease.ref} is ${lease.state}${lease.state === 'paused' ? ' (resume it first)' : ''}`,
        );
      }
      const canceled = supersedeOpenLink(ctx, tx, charge, 'superseded by operator reissue', now);
      const previous = tx
        .select()
        .from(paymentLinks)
        .where(eq(paymentLinks.chargeId, id))
        .orderBy(desc(paymentLinks.attempt))
        .limit(1)
        .get();
      const plan = reissuePlan(ctx.registry, ctx.config, lease, previous ?? null, now);
      const attempt = chargeNextLink(tx, charge, 'reissue', previous?.providerLinkId ? 'invoiced' : 'scheduled', now);
      insertLinkRow(
        tx,
        {
          ...plan.link,
          chargeId: id,
          leaseId: lease.id,
          attempt,
          kind: 'reissue',
          reference: linkReference(lease.ref, charge.period, attempt),
        },
        'admin',
        now,
      );
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
      return { attempt, account: plan.link.account, canceledLinkId: canceled?.id ?? null, earlier: previous };
    },
    { behavior: 'immediate' },
  );
  const jobId = sendJobId(id, result.attempt);
  await ctx.queues
    .send(result.account)
    .add('send', { chargeId: id, attempt: result.attempt }, { ...sendJobOptions(ctx.config), jobId });
  markSendsQueued(ctx.db, [{ chargeId: id, attempt: result.attempt, jobId }], now);
  await dropSupersededSendJobs(ctx, id, result.attempt);
  return { attempt: result.attempt, canceledLinkId: result.canceledLinkId };
}

/**
 * The failed send jobs of earlier attempts are settled by the reissue: removing them keeps
 * `jobs failed` to what still needs the operator (their history stays in `events`).
 */
async function dropSupersededSendJobs(ctx: AppContext, chargeId: number, attempt: number): Promise<void> {
  for (const { kind, queue } of ctx.queues.all()) {
    if (kind !== 'send') continue;
    for (let earlier = 1; earlier < attempt; earlier++) {
      const job = await queue.getJob(sendJobId(chargeId, earlier));
      if (job && (await job.getState()) === 'failed') await job.remove().catch(() => undefined);
    }
  }
}

/**
 * Closes the charge for good: status `void` with the reason, and its link that may still change is
 * superseded (canceled at its provider where possible; where not, checked once after its expiry: a
 * payment made on it anyway is recorded as a double payment). Refused for a paid charge; the reason
 * is required.
 */
export function voidCharge(ctx: ActionContext, id: number, reason: string): void {
  const why = cleanReason(reason);
  if (!why) throw new RentlinkError('INVALID_INPUT', `a reason is required to void charge ${id}`);
  const now = ctx.clock.now();
  ctx.db.transaction(
    (tx) => {
      const charge = loadForAction(tx, id, 'void');
      const canceled = supersedeOpenLink(ctx, tx, charge, `charge voided by operator: ${why}`, now);
      chargeVoided(tx, id, why, now);
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

/**
 * The operator settled a charge's double payment (refunded the tenant, or kept it as credit): it
 * leaves the attention list; the report keeps counting it as money received twice.
 */
export function reviewDoublePaymentOf(ctx: Pick<AppContext, 'db' | 'clock'>, id: number, reason: string): void {
  const why = cleanReason(reason);
  if (!why)
    throw new RentlinkError('INVALID_INPUT', `a reason is required to settle the double payment of charge ${id}`);
  const charge = ctx.db.select().from(charges).where(eq(charges.id, id)).get();
  if (!charge) throw chargeNotFound(id);
  if (!reviewDoublePayment(ctx.db, id, why, ctx.clock.now())) {
    throw new RentlinkError(
      'INVALID_STATE',
      charge.extraPayments === 0
        ? `charge ${id} was not paid twice`
        : `the double payment of charge ${id} is already settled`,
    );
  }
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

/** Supersedes the charge's link that may still change (at most one exists); returns it. */
function supersedeOpenLink(
  ctx: ActionContext,
  tx: DbOrTx,
  charge: Charge,
  why: string,
  now: number,
): PaymentLink | null {
  const link = tx
    .select()
    .from(paymentLinks)
    .where(and(eq(paymentLinks.chargeId, charge.id), inArray(paymentLinks.status, OPEN_LINK_STATUSES)))
    .get();
  if (!link) return null;
  const plan = supersededCheckAt(ctx.registry, checkTimings(ctx.config), now);
  closeSupersededLink(tx, link, { leaseId: charge.leaseId, reason: why }, plan, 'admin', now);
  return link;
}

/** Charges paid more than once: still to review, and settled by an operator. */
export function doublePaymentCounts(db: Db): { toReview: number; reviewed: number } {
  const row = db
    .select({
      toReview: sql<number>`COALESCE(SUM(CASE WHEN ${charges.extraReviewedAt} IS NULL THEN 1 ELSE 0 END), 0)`,
      reviewed: sql<number>`COALESCE(SUM(CASE WHEN ${charges.extraReviewedAt} IS NOT NULL THEN 1 ELSE 0 END), 0)`,
    })
    .from(charges)
    .where(gt(charges.extraPayments, 0))
    .get();
  return { toReview: row?.toReview ?? 0, reviewed: row?.reviewed ?? 0 };
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
