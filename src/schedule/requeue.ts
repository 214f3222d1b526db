import type { Job, Queue } from 'bullmq';
import type { AppContext } from '../context.js';
import { sendRequeued, sendsQueuedBefore, sendStillQueued } from '../db/charges.js';
import { checkRequeued, checksQueuedBefore, checksStillQueued } from '../db/checks.js';
import { recordEvent } from '../db/events.js';
import { requeuedJobId, sendJobOptions, statusJobOptions } from '../queues.js';

/**
 * The safety net under "no job state in Redis can block the next send or check of an open item".
 * Work noted as queued more than REQUEUE_AFTER ago and still due has its job looked at. Alive
 * (waiting, delayed, prioritized, active) → look again later. Dead — failed without the processor
 * settling the item (BullMQ fails a job that stalled twice without running it), completed without
 * settling, or gone (evicted, removed by hand) — → queued again under a new deterministic id, with an
 * event saying why. At most SWEEP_LIMIT items of each kind per tick, oldest first, so the cost of a
 * tick stays bounded however much is queued.
 */
const SWEEP_LIMIT = 500;
const ALIVE = new Set(['waiting', 'delayed', 'prioritized', 'active', 'waiting-children']);

export async function requeueDeadWork(ctx: AppContext, now: number): Promise<number> {
  const before = now - ctx.config.REQUEUE_AFTER;
  return (await requeueSends(ctx, before, now)) + (await requeueChecks(ctx, before, now));
}

async function requeueSends(ctx: AppContext, before: number, now: number): Promise<number> {
  const stale = sendsQueuedBefore(ctx.db, before, SWEEP_LIMIT);
  if (stale.length === 0) return 0;
  const alive: number[] = [];
  let requeued = 0;
  for (const item of stale) {
    const account = sendAccount(ctx, item.chargeId);
    if (!account) {
      alive.push(item.chargeId);
      continue;
    }
    const queue = ctx.queues.send(account);
    const state = await jobState(queue, item.jobId);
    if (ALIVE.has(state.name)) {
      alive.push(item.chargeId);
      continue;
    }
    const jobId = requeuedJobId(item.jobId);
    await removeDead(queue, item.jobId, state);
    await queue.add(
      'send',
      { chargeId: item.chargeId, attempt: item.attempt },
      { ...sendJobOptions(ctx.config), jobId },
    );
    if (sendRequeued(ctx.db, item.chargeId, item.jobId, jobId, now)) {
      requeued++;
      noteRequeue(ctx, { chargeId: item.chargeId }, item.jobId, jobId, state, now);
    }
  }
  sendStillQueued(ctx.db, alive, now);
  return requeued;
}

async function requeueChecks(ctx: AppContext, before: number, now: number): Promise<number> {
  const stale = checksQueuedBefore(ctx.db, before, SWEEP_LIMIT);
  if (stale.length === 0) return 0;
  const alive: number[] = [];
  let requeued = 0;
  for (const item of stale) {
    if (!ctx.registry.has(item.account)) {
      alive.push(item.linkId);
      continue;
    }
    const queue = ctx.queues.status(item.account);
    const state = await jobState(queue, item.jobId);
    if (ALIVE.has(state.name)) {
      alive.push(item.linkId);
      continue;
    }
    const jobId = requeuedJobId(item.jobId);
    await removeDead(queue, item.jobId, state);
    await queue.add(
      'status',
      { linkId: item.linkId, reason: 'poll', slot: item.slot },
      { ...statusJobOptions(ctx.config, 'poll'), jobId },
    );
    if (checkRequeued(ctx.db, item.linkId, item.jobId, jobId, now)) {
      requeued++;
      noteRequeue(ctx, { linkId: item.linkId }, item.jobId, jobId, state, now);
    }
  }
  checksStillQueued(ctx.db, alive, now);
  return requeued;
}

interface JobState {
  name: string;
  failedReason: string | null;
}

/** The job's state, and why it failed when it did. A missing job is `unknown`. */
async function jobState(queue: Queue, jobId: string): Promise<JobState> {
  const job = (await queue.getJob(jobId)) as Job | undefined;
  if (!job) return { name: 'unknown', failedReason: null };
  return { name: await job.getState(), failedReason: job.failedReason ?? null };
}

/** A dead job's record goes (its story is in the `job.requeued` event), so `jobs failed` lists only what needs a person. */
async function removeDead(queue: Queue, jobId: string, state: JobState): Promise<void> {
  if (state.name === 'failed' || state.name === 'completed') await queue.remove(jobId).catch(() => 0);
}

/** The account of the send: the pre-made link row's, else the lease's, else the default (null: not configured). */
function sendAccount(ctx: AppContext, chargeId: number): string | null {
  const row = ctx.db.$client
    .prepare(
      `SELECT COALESCE(pl.account, l.account) AS account FROM charges c JOIN leases l ON l.id = c.lease_id
       LEFT JOIN payment_links pl ON pl.charge_id = c.id AND pl.attempt = c.link_attempt WHERE c.id = ?`,
    )
    .get(chargeId) as { account: string | null } | undefined;
  const account = row?.account ?? ctx.registry.defaultAccount.account;
  return ctx.registry.has(account) ? account : null;
}

function noteRequeue(
  ctx: AppContext,
  ids: { chargeId?: number; linkId?: number },
  previous: string,
  jobId: string,
  state: JobState,
  now: number,
): void {
  recordEvent(ctx.db, {
    at: now,
    type: 'job.requeued',
    actor: 'tick',
    chargeId: ids.chargeId ?? null,
    linkId: ids.linkId ?? null,
    details: { previousJob: previous, previousState: state.name, failedReason: state.failedReason, jobId },
  });
  ctx.logger.warn({ ...ids, previous, jobId, state: state.name }, 'queued work had no live job: queued it again');
}

/**
 * Jobs BullMQ failed without their processor running (they stalled more than allowed: their worker
 * died twice while holding them) whose work was done another way since: a planned check whose link
 * has moved on (checked since, or closed), a send whose charge no longer wants that attempt. Their
 * story goes into a `job.moot` event and the job record goes, so `jobs failed` lists only what an
 * operator can act on; failures the processor recorded itself (a provider's refusal) stay.
 * At most PRUNE_LIMIT per queue and tick.
 */
const PRUNE_LIMIT = 100;
const STALLED = /stalled more than allowable limit/;

export async function pruneMootFailures(ctx: AppContext, now: number): Promise<number> {
  let pruned = 0;
  for (const { kind, queue } of ctx.queues.all()) {
    const failed = ((await queue.getFailed(0, PRUNE_LIMIT - 1)) as Array<Job | undefined>).filter(
      (j): j is Job => j !== undefined && j !== null,
    );
    for (const job of failed.filter((j) => STALLED.test(j.failedReason ?? ''))) {
      const moot = kind === 'status' ? mootCheck(ctx, job) : mootSend(ctx, job);
      if (!moot) continue;
      await queue.remove(String(job.id)).catch(() => 0);
      recordEvent(ctx.db, {
        at: now,
        type: 'job.moot',
        actor: 'tick',
        chargeId: moot.chargeId,
        linkId: moot.linkId,
        details: { jobId: String(job.id), failedReason: job.failedReason ?? null, why: moot.why },
      });
      pruned++;
    }
  }
  return pruned;
}

type Moot = { chargeId: number | null; linkId: number | null; why: string } | null;

function mootCheck(ctx: AppContext, job: Job): Moot {
  const data = job.data as { linkId?: number; reason?: string; slot?: number };
  if (data.reason !== 'poll' || typeof data.linkId !== 'number') return null;
  const link = ctx.db.$client
    .prepare('SELECT charge_id AS chargeId, next_check_at AS nextCheckAt FROM payment_links WHERE id = ?')
    .get(data.linkId) as { chargeId: number; nextCheckAt: number | null } | undefined;
  if (link && link.nextCheckAt === data.slot) return null;
  return {
    chargeId: link?.chargeId ?? null,
    linkId: data.linkId,
    why: 'the link has been checked since, or needs no check',
  };
}

function mootSend(ctx: AppContext, job: Job): Moot {
  const data = job.data as { chargeId?: number; attempt?: number };
  if (typeof data.chargeId !== 'number') return null;
  const charge = ctx.db.$client
    .prepare('SELECT link_attempt AS attempt, next_send_at AS nextSendAt FROM charges WHERE id = ?')
    .get(data.chargeId) as { attempt: number; nextSendAt: number | null } | undefined;
  // Still wanted: the sweep queues it again (and removes this record then).
  if (charge && charge.attempt === data.attempt && charge.nextSendAt !== null) return null;
  return { chargeId: data.chargeId, linkId: null, why: 'the charge no longer needs this attempt sent' };
}
