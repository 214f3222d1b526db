import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { AppContext } from '../src/context.js';
import { batchedWrite } from '../src/db/batch.js';
import { markSendsQueued } from '../src/db/charges.js';
import { recordEvent } from '../src/db/events.js';
import {
  adoptSupersededLink,
  markLinkCanceledByProvider,
  markLinkPaid,
  noteCanceledAtProvider,
  recordClosedCheck,
  recordPendingCheck,
} from '../src/db/link-checks.js';
import { noteLinkError } from '../src/db/links.js';
import { getLink, loadChargeContext, type ChargeContext } from '../src/db/queries.js';
import type { PaymentLink } from '../src/db/schema.js';
import { errorMessage } from '../src/errors.js';
import { isProviderError, type LinkKey, type LinkStatus, type PaymentProvider } from '../src/providers/types.js';
import { queueName, sendJobId, sendJobOptions, type StatusJobData } from '../src/queues.js';
import type { AdaptiveRateLimiter } from '../src/ratelimit.js';
import { checkTimings, nextCheckAt, nextClosedCheck, supersededCheckAt } from '../src/schedule/poll-plan.js';
import { expireLink } from './expire.js';
import { handleRateLimit } from './rate-limit.js';

export type CheckResult =
  | {
      outcome: 'paid' | 'double-paid' | 'already-paid' | 'pending' | 'canceled' | 'mismatch' | 'closed';
      linkId: number;
    }
  | { outcome: 'expired'; linkId: number; next: string }
  | { outcome: 'skipped'; linkId: number; reason: string };

/**
 * The status job: asks the link's own account about one link and applies the answer. Applying a status
 * twice changes nothing, so webhook/redirect races and duplicate hints are harmless.
 * - An open link is declared expired only by a check that runs past expiry + EXPIRY_GRACE.
 * - A closed link (expired, or superseded by a reissue, a void or another link's payment) still gets
 *   its planned final checks, and any hint: a payment on it is found and recorded (paid, or a double
 *   payment when the charge was settled another way). Where the provider can, a superseded link is
 *   canceled there first.
 * - A poll job whose slot is no longer the link's next check is stale and does nothing.
 */
function createStatusProcessor(ctx: AppContext, limiterFor: (account: string) => AdaptiveRateLimiter | null) {
  return async (job: Job<StatusJobData>): Promise<CheckResult> => {
    const { linkId, reason } = job.data;
    let link = getLink(ctx.db, linkId);
    if (!link) throw new UnrecoverableError(`link ${linkId} does not exist`);
    const skip = reasonToSkip(link, job.data);
    if (skip) return { outcome: 'skipped', linkId, reason: skip };
    const found = loadChargeContext(ctx.db, link.chargeId);
    if (!found) throw new UnrecoverableError(`charge ${link.chargeId} does not exist`);
    if (!ctx.registry.has(link.account)) throw new UnrecoverableError(`account "${link.account}" is not configured`);
    const provider = ctx.registry.get(link.account);
    const limiter = limiterFor(link.account);
    let status: LinkStatus | null;
    try {
      await limiter?.acquire();
      status = await askProvider(ctx, provider, link, found);
      await limiter?.succeeded();
    } catch (err) {
      if (isProviderError(err, 'rate_limited')) {
        await limiter?.rateLimited(err.retryAfterMs);
        return handleRateLimit(ctx, ctx.queues.status(link.account), 'status', provider, job, err);
      }
      return handleStatusError(ctx, job, link, err);
    }
    link = getLink(ctx.db, linkId) ?? link;
    if (!status) {
      recordClosedCheck(ctx.db, link, null, ctx.clock.now());
      return { outcome: 'closed', linkId };
    }
    return applyStatus(ctx, provider, found, link, status, reason);
  };
}

function reasonToSkip(link: PaymentLink, data: StatusJobData): string | null {
  if (data.reason === 'poll' && link.nextCheckAt !== data.slot) return 'a newer check is planned';
  if (link.status === 'creating' || link.status === 'failed') return `link is ${link.status}`;
  // A paid link is looked at again only on a hint: it may report a second payment.
  if (link.status === 'paid' && data.reason === 'poll') return 'link is paid';
  return null;
}

/**
 * The provider calls of one check: for a superseded link that never learned its provider id, look it
 * up by reference (null: nothing was created); for a superseded link the provider can close, cancel it
 * there; then ask for the status.
 */
async function askProvider(
  ctx: AppContext,
  provider: PaymentProvider,
  link: PaymentLink,
  found: ChargeContext,
): Promise<LinkStatus | null> {
  const currency = found.charge.currency;
  let providerLinkId = link.providerLinkId;
  if (!providerLinkId) {
    const existing = await provider.findLink(link.reference, currency);
    if (!existing) return null;
    providerLinkId = existing.providerLinkId;
    adoptSupersededLink(ctx.db, link.id, providerLinkId, existing.url, ctx.clock.now());
  }
  const key: LinkKey = { providerLinkId, reference: link.reference, currency };
  if (link.status === 'canceled' && link.canceledAtProvider === null && provider.canCancel && provider.cancelLink) {
    await cancelAtProvider(ctx, provider, link, key);
  }
  return provider.getStatus(key);
}

/** A refusal to cancel (typically: it was paid meanwhile) is not an error: the status that follows tells. */
async function cancelAtProvider(ctx: AppContext, provider: PaymentProvider, link: PaymentLink, key: LinkKey) {
  try {
    await provider.cancelLink?.(key);
    noteCanceledAtProvider(ctx.db, link.id, ctx.clock.now());
  } catch (err) {
    if (!isProviderError(err, 'rejected')) throw err;
    noteLinkError(ctx.db, link.id, `cancel refused: ${errorMessage(err)}`, ctx.clock.now());
  }
}

/**
 * A check that failed for good (rejected, or out of attempts) stays in the failed list for the operator,
 * and the link moves on to its next planned check, so one bad answer never stops polling for good.
 */
function handleStatusError(ctx: AppContext, job: Job<StatusJobData>, link: PaymentLink, err: unknown): never {
  const now = ctx.clock.now();
  const message = errorMessage(err);
  const final = isProviderError(err, 'rejected') || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  if (final && job.data.reason === 'poll') {
    if (link.status === 'open') recordPendingCheck(ctx.db, link, planNext(ctx, link, now), now, message);
    else recordClosedCheck(ctx.db, link, nextClosedCheck(link, now, checkTimings(ctx.config)), now);
  } else noteLinkError(ctx.db, link.id, message, now);
  if (isProviderError(err, 'rejected')) throw new UnrecoverableError(message);
  throw err;
}

async function applyStatus(
  ctx: AppContext,
  provider: PaymentProvider,
  found: ChargeContext,
  link: PaymentLink,
  status: LinkStatus,
  reason: StatusJobData['reason'],
): Promise<CheckResult> {
  const now = ctx.clock.now();
  const mismatch = findMismatch(found, link, status);
  if (mismatch) return recordMismatch(ctx, found, link, status, mismatch, reason);
  if (status.state === 'paid') return paid(ctx, link, status);
  if (link.status === 'paid') return { outcome: 'already-paid', linkId: link.id };
  if (link.status !== 'open') {
    if (reason === 'poll') recordClosedCheck(ctx.db, link, nextClosedCheck(link, now, checkTimings(ctx.config)), now);
    return { outcome: 'closed', linkId: link.id };
  }
  if (status.state === 'canceled') {
    markLinkCanceledByProvider(ctx.db, link.id, status.rawStatus, now);
    return { outcome: 'canceled', linkId: link.id };
  }
  // Whatever the provider says (even `expired`), the deciding check runs past expiry + grace, so a
  // payment made in the link's last second and visible a little later is still found.
  if (now >= link.expiresAt + ctx.config.EXPIRY_GRACE) {
    const next = await expireLink(ctx, provider, found, link, status, now);
    if (next) await queueNextSend(ctx, found.charge.id, next);
    return { outcome: 'expired', linkId: link.id, next: next ? `${next.kind} ${next.attempt}` : 'none' };
  }
  if (reason === 'poll') {
    const next = planNext(ctx, link, now);
    // Group commit (src/db/batch.ts): most checks end here, and they finish many at a time.
    await batchedWrite(ctx.db, () => recordPendingCheck(ctx.db, link, next, now));
  }
  return { outcome: 'pending', linkId: link.id };
}

function paid(ctx: AppContext, link: PaymentLink, status: LinkStatus): CheckResult {
  const now = ctx.clock.now();
  const outcome = markLinkPaid(
    ctx.db,
    link.id,
    {
      paymentId: status.payment?.paymentId ?? null,
      method: status.payment?.method ?? null,
      amountMinor: status.payment?.amountMinor ?? null,
      paidAt: status.payment?.paidAt ?? null,
      rawStatus: status.rawStatus,
      paidMoreThanOnce: status.paidMoreThanOnce,
      details: { ...status.details, ...(status.refunded ? { refunded: true } : {}) },
    },
    supersededCheckAt(ctx.registry, checkTimings(ctx.config), now),
    now,
  );
  if (outcome === 'paid') ctx.logger.debug({ chargeId: link.chargeId, linkId: link.id }, 'charge paid');
  if (outcome === 'double-paid')
    ctx.logger.warn({ chargeId: link.chargeId, linkId: link.id }, 'double payment: the charge was already settled');
  return { outcome, linkId: link.id };
}

/** The reissue or renewal goes out at once, without waiting for the next tick. */
async function queueNextSend(ctx: AppContext, chargeId: number, next: { attempt: number; account: string }) {
  const jobId = sendJobId(chargeId, next.attempt);
  await ctx.queues
    .send(next.account)
    .add('send', { chargeId, attempt: next.attempt }, { ...sendJobOptions(ctx.config), jobId });
  markSendsQueued(ctx.db, [{ chargeId, attempt: next.attempt, jobId }], ctx.clock.now());
}

function recordMismatch(
  ctx: AppContext,
  found: ChargeContext,
  link: PaymentLink,
  status: LinkStatus,
  problem: string,
  reason: StatusJobData['reason'],
): CheckResult {
  const now = ctx.clock.now();
  recordEvent(ctx.db, {
    at: now,
    type: 'status.mismatch',
    actor: 'worker',
    leaseId: found.lease.id,
    chargeId: found.charge.id,
    linkId: link.id,
    details: {
      problem,
      answer: {
        linkId: status.providerLinkId,
        reference: status.reference,
        amountMinor: status.amountMinor,
        status: status.rawStatus,
      },
    },
  });
  ctx.logger.error({ linkId: link.id, problem }, 'status answer does not match the link: ignored');
  if (reason === 'poll') {
    if (link.status === 'open') recordPendingCheck(ctx.db, link, planNext(ctx, link, now), now);
    else recordClosedCheck(ctx.db, link, nextClosedCheck(link, now, checkTimings(ctx.config)), now);
  }
  return { outcome: 'mismatch', linkId: link.id };
}

/** Before trusting an answer: is it about our link, our reference and our amount? */
function findMismatch(found: ChargeContext, link: PaymentLink, status: LinkStatus): string | null {
  if (link.providerLinkId && status.providerLinkId !== link.providerLinkId) {
    return `answer is for link ${status.providerLinkId}, ours is ${link.providerLinkId}`;
  }
  if (status.reference !== null && status.reference !== link.reference) {
    return `answer has reference ${status.reference}, link has ${link.reference}`;
  }
  if (status.amountMinor !== null && status.amountMinor !== found.charge.amountMinor) {
    return `answer has value ${status.amountMinor}, charge is ${found.charge.amountMinor} (minor units)`;
  }
  return null;
}

function planNext(ctx: AppContext, link: PaymentLink, now: number): number {
  return nextCheckAt({
    createdAt: link.createdAt,
    expiresAt: link.expiresAt,
    pollCount: link.pollCount + 1,
    now,
    plan: ctx.config.POLL_PLAN,
    jitter: ctx.config.POLL_JITTER,
    graceMs: ctx.config.EXPIRY_GRACE,
  });
}

/**
 * The status Worker of one account: BullMQ's limiter is the hard ceiling for that account
 * (STATUS_RATE_LIMIT_PER_SECOND across all processes); the adaptive limiter keeps the pace just under
 * what the provider accepts.
 */
export function createStatusWorker(
  ctx: AppContext,
  connection: Redis,
  account: string,
  limiter: AdaptiveRateLimiter | null,
): Worker<StatusJobData, CheckResult> {
  const perSecond = ctx.config.STATUS_RATE_LIMIT_PER_SECOND;
  const max = Math.max(1, Math.floor(perSecond));
  return new Worker<StatusJobData, CheckResult>(
    queueName('status', account),
    createStatusProcessor(ctx, () => limiter),
    {
      connection,
      prefix: ctx.config.QUEUE_PREFIX,
      concurrency: ctx.config.STATUS_CONCURRENCY,
      limiter: { max, duration: Math.round((1000 * max) / perSecond) },
      maxStartedAttempts: ctx.config.MAX_STARTED_ATTEMPTS,
      lockDuration: ctx.config.JOB_LOCK_MS,
      stalledInterval: ctx.config.JOB_LOCK_MS,
    },
  );
}
