import type { AppContext } from '../context.js';
import {
  chargesDueForSend,
  chargeUnroutable,
  forgetQueuedSends,
  insertCharge,
  markSendsQueued,
} from '../db/charges.js';
import { forgetQueuedChecks, linksDueForCheck, markChecksQueued } from '../db/checks.js';
import { leasesDueForCharges, setNextSendAt } from '../db/leases.js';
import { QUEUE_INCARNATION, readSetting, writeSetting } from '../db/settings.js';
import type { Lease } from '../db/schema.js';
import { sendJobId, sendJobOptions, statusJobId, statusJobOptions } from '../queues.js';
import { duePeriods, nextSendInstant } from '../time/periods.js';
import { pruneMootFailures, requeueDeadWork } from './requeue.js';

export interface TickResult {
  at: number;
  chargesCreated: number;
  sendJobs: number;
  statusJobs: number;
  /** Jobs queued again because their previous job was dead or gone. */
  requeued: number;
  /** True when this tick found Redis emptied and queued every open item again. */
  rebuilt: boolean;
}

/** Rows per SQLite transaction and per `addBulk`: bounded memory and short write locks at any size. */
const BATCH = 2000;

/**
 * One tick. It costs what is due, not what exists: every step reads indexed columns.
 * 1. Leases whose next send instant has come get their due charges (catch-up rule included) and their
 *    next instant, in short transactions.
 * 2. Charges that need a link and are not queued get a send job; links whose check time has come and
 *    are not queued get a status job. The job is noted on the row, so later ticks do not queue it again.
 * 3. Work queued a while ago and still due has its job looked at; a job that died (failed without its
 *    processor running, completed without settling, lost) is queued again under a new id.
 * Idempotent: charges are UNIQUE(lease, period) and job ids deterministic, so ticks in several processes
 * add nothing twice. If Redis lost its data (a new incarnation), every open item is queued again.
 */
export async function runTick(ctx: AppContext): Promise<TickResult> {
  const stopTimer = ctx.metrics.tickDuration.startTimer();
  try {
    const now = ctx.clock.now();
    const rebuilt = await noticeLostQueues(ctx, now);
    const chargesCreated = createDueCharges(ctx, now);
    const sendJobs = await queueDueSends(ctx, now);
    const statusJobs = await queueDueChecks(ctx, now);
    const requeued = await requeueDeadWork(ctx, now);
    await pruneMootFailures(ctx, now);
    const result = { at: now, chargesCreated, sendJobs, statusJobs, requeued, rebuilt };
    ctx.logger.debug(result, 'tick');
    return result;
  } finally {
    stopTimer();
  }
}

/**
 * Redis writes a random incarnation id once into an empty database. When it differs from the one the
 * queued markers were written under, Redis lost its data: forget every marker so step 2 queues it all.
 */
async function noticeLostQueues(ctx: AppContext, now: number): Promise<boolean> {
  const incarnation = await ctx.queues.incarnation();
  const known = readSetting(ctx.db, QUEUE_INCARNATION);
  if (known === incarnation) return false;
  const sends = forgetQueuedSends(ctx.db);
  const checks = forgetQueuedChecks(ctx.db);
  writeSetting(ctx.db, QUEUE_INCARNATION, incarnation, now);
  if (known !== null) ctx.logger.warn({ sends, checks }, 'Redis lost its queues: queueing every open item again');
  return known !== null;
}

/** Creates the charges that have become due, for the leases whose next send instant has come. */
export function createDueCharges(ctx: Pick<AppContext, 'db' | 'config'>, now: number): number {
  let created = 0;
  for (;;) {
    const due = leasesDueForCharges(ctx.db, now, BATCH);
    if (due.length === 0) return created;
    created += ctx.db.transaction((tx) => {
      let inBatch = 0;
      for (const lease of due) {
        for (const period of duePeriods(lease, now, ctx.config.CATCH_UP_PERIODS)) {
          if (insertCharge(tx, lease, period, now) !== null) inBatch++;
        }
        setNextSendAt(tx, lease.id, nextSendInstant(lease, now));
      }
      return inBatch;
    });
    if (due.length < BATCH) return created;
  }
}

/** Queues a send for every charge that needs one and has none queued, by its lease's account. */
async function queueDueSends(ctx: AppContext, now: number): Promise<number> {
  let queued = 0;
  for (;;) {
    const due = chargesDueForSend(ctx.db, now, BATCH);
    if (due.length === 0) return queued;
    const accounts = accountsOfCharges(
      ctx,
      due.map((d) => d.chargeId),
    );
    const jobs = due.map((d) => ({
      ...d,
      jobId: sendJobId(d.chargeId, d.attempt),
      account: accounts.get(d.chargeId) ?? ctx.registry.defaultAccount.account,
    }));
    for (const [account, group] of groupBy(jobs, (j) => j.account)) {
      if (!ctx.registry.has(account)) {
        for (const j of group) chargeUnroutable(ctx.db, j.chargeId, account, now);
        continue;
      }
      await ctx.queues.send(account).addBulk(
        group.map((j) => ({
          name: 'send',
          data: { chargeId: j.chargeId, attempt: j.attempt },
          opts: { ...sendJobOptions(ctx.config), jobId: j.jobId },
        })),
      );
    }
    markSendsQueued(ctx.db, jobs, now);
    queued += jobs.length;
    if (due.length < BATCH) return queued;
  }
}

/** Queues a status check for every link whose check time has come, on the link's own account. */
async function queueDueChecks(ctx: AppContext, now: number): Promise<number> {
  let queued = 0;
  for (;;) {
    const due = linksDueForCheck(ctx.db, now, BATCH);
    if (due.length === 0) return queued;
    const jobs = due.map((d) => ({ ...d, jobId: statusJobId(d.linkId, d.slot) }));
    for (const [account, group] of groupBy(jobs, (j) => j.account)) {
      // A link whose account left the configuration cannot be checked: it stays noted (and visible)
      // instead of being selected again every tick; it is checked once the account is back.
      if (!ctx.registry.has(account)) {
        ctx.logger.error(
          { account, links: group.length },
          'links of an account that is not configured cannot be checked',
        );
        continue;
      }
      await ctx.queues.status(account).addBulk(
        group.map((j) => ({
          name: 'status',
          data: { linkId: j.linkId, reason: 'poll' as const, slot: j.slot },
          opts: { ...statusJobOptions(ctx.config, 'poll'), jobId: j.jobId },
        })),
      );
    }
    markChecksQueued(ctx.db, jobs, now);
    queued += jobs.length;
    if (due.length < BATCH) return queued;
  }
}

/**
 * The account each charge's send goes to: the account of its pre-made link row (a reissue or renewal
 * decided when the previous link expired), else its lease's account, else the default.
 */
function accountsOfCharges(ctx: AppContext, chargeIds: number[]): Map<number, string | null> {
  const rows = ctx.db.$client
    .prepare(
      `SELECT c.id AS chargeId, COALESCE(pl.account, l.account) AS account
       FROM charges c JOIN leases l ON l.id = c.lease_id
       LEFT JOIN payment_links pl ON pl.charge_id = c.id AND pl.attempt = c.link_attempt
       WHERE c.id IN (SELECT value FROM json_each(?))`,
    )
    .all(JSON.stringify(chargeIds)) as Array<{ chargeId: number; account: string | null }>;
  return new Map(rows.map((r) => [r.chargeId, r.account]));
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

export type { Lease };
