import type { AppContext } from '../context.js';
import { forgetQueuedSends, insertCharges, type NewCharge } from '../db/charges.js';
import { forgetQueuedChecks, linksDueForCheck, markChecksQueued } from '../db/checks.js';
import { leasesDueForCharges, setNextSendAt } from '../db/leases.js';
import { QUEUE_INCARNATION, readSetting, writeSetting } from '../db/settings.js';
import { statusJobId, statusJobOptions } from '../queues.js';
import { duePeriods, nextSendInstant } from '../time/periods.js';
import { SendQueuer } from './queue-sends.js';
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

/**
 * Leases (or links) per SQLite transaction and per `addBulk`: bounded memory, and write locks of tens of
 * milliseconds at any size, so other processes' jobs never wait long for SQLite.
 */
const BATCH = 1000;

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
    const { chargesCreated, sendJobs } = await createChargesAndQueueSends(ctx, now);
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

/**
 * Steps 1 and 2 for sends, overlapped: each batch of new charges is handed to Redis while the next
 * batch is created, so SQLite (here) and Redis (on the other core) work at the same time.
 */
async function createChargesAndQueueSends(ctx: AppContext, now: number) {
  const sends = new SendQueuer(ctx, now);
  let chargesCreated = 0;
  for (;;) {
    const batch = createChargesBatch(ctx, now);
    chargesCreated += batch.created;
    await sends.drain();
    if (batch.done) return { chargesCreated, sendJobs: await sends.finish() };
  }
}

/** Creates the charges that have become due, for the leases whose next send instant has come. */
export function createDueCharges(ctx: Pick<AppContext, 'db' | 'config'>, now: number): number {
  let created = 0;
  for (;;) {
    const batch = createChargesBatch(ctx, now);
    created += batch.created;
    if (batch.done) return created;
  }
}

/**
 * One batch of step 1: BATCH due leases in one short IMMEDIATE transaction (the write lock is taken up
 * front and held for milliseconds, so other processes' jobs are not kept waiting), prepared statements
 * and events in bulk. A lease's next instant moves past `now` in the same transaction, so the next batch
 * starts where this one ended. `done` when no due lease is left.
 */
function createChargesBatch(ctx: Pick<AppContext, 'db' | 'config'>, now: number): { created: number; done: boolean } {
  const { db } = ctx;
  const due = leasesDueForCharges(db, now, BATCH);
  if (due.length === 0) return { created: 0, done: true };
  const created = db.$client
    .transaction(() => {
      const wanted: NewCharge[] = [];
      for (const lease of due) {
        for (const period of duePeriods(lease, now, ctx.config.CATCH_UP_PERIODS)) wanted.push({ lease, due: period });
      }
      const inBatch = insertCharges(db, wanted, now);
      for (const lease of due) setNextSendAt(db, lease.id, nextSendInstant(lease, now));
      return inBatch;
    })
    .immediate();
  return { created, done: due.length < BATCH };
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
