import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { AppContext } from '../src/context.js';
import { recordEvent } from '../src/db/events.js';
import { getLink, loadChargeContext, type ChargeContext } from '../src/db/links.js';
import type { PaymentLink } from '../src/db/schema.js';
import { markLinkCanceled, markLinkExpired, markLinkPaid, recordPendingCheck } from '../src/db/status-transitions.js';
import { errorMessage } from '../src/errors.js';
import { noteLinkError } from '../src/db/transitions.js';
import { isProviderError, type LinkStatus } from '../src/providers/legacy-types.js';
import { sendJobId, sendJobOptions, type StatusJobData } from '../src/queues.js';
import type { AdaptiveRateLimiter } from '../src/ratelimit.js';
import { nextCheckAt } from '../src/schedule/poll-plan.js';
import { handleRateLimit } from './rate-limit.js';

export type CheckResult =
  | { outcome: 'paid' | 'already-paid' | 'paid-again' | 'pending' | 'canceled' | 'mismatch'; linkId: number }
  | { outcome: 'expired'; linkId: number; reissueAttempt: number | null }
  | { outcome: 'skipped'; linkId: number; reason: string };

/**
 * The status job: asks the provider about one link and applies what it says. Applying a status twice
 * changes nothing, so webhook/redirect races and duplicate hints are harmless. A link past its expiry
 * is only declared expired after this fresh answer says it is unpaid — a payment that landed at the
 * last second still counts.
 */
export function createStatusProcessor(ctx: AppContext, limiter: AdaptiveRateLimiter | null) {
  return async (job: Job<StatusJobData>, token?: string): Promise<CheckResult> => {
    const { linkId } = job.data;
    const link = getLink(ctx.db, linkId);
    if (!link) throw new UnrecoverableError(`link ${linkId} does not exist`);
    // Expired or superseded links are still worth one look when a callback/webhook says someone paid
    // them: a payment that lands on an old link still counts.
    const checkable =
      link.status === 'open' ||
      (job.data.reason === 'hint' && (link.status === 'expired' || link.status === 'canceled'));
    if (!checkable || !link.providerLinkId) return { outcome: 'skipped', linkId, reason: `link is ${link.status}` };
    const found = loadChargeContext(ctx.db, link.chargeId);
    if (!found) throw new UnrecoverableError(`charge ${link.chargeId} does not exist`);

    let status: LinkStatus;
    try {
      await limiter?.acquire();
      status = await ctx.provider.getStatus({
        invoiceId: link.providerLinkId,
        paymentId: job.data.paymentId ?? null,
        currency: found.charge.currency,
      });
      await limiter?.succeeded();
    } catch (err) {
      if (isProviderError(err, 'rate_limited')) {
        await limiter?.rateLimited(err.retryAfterMs);
        return handleRateLimit(ctx, ctx.queues.status, 'status', job, token, err);
      }
      return handleStatusError(ctx, job, link, err);
    }
    return applyStatus(ctx, found, link, status);
  };
}

/**
 * A check that failed for good (rejected, or out of attempts) stays in the failed list for the operator,
 * and the link moves on to its next planned check, so one bad answer never stops polling for good.
 */
function handleStatusError(ctx: AppContext, job: Job<StatusJobData>, link: PaymentLink, err: unknown): never {
  const now = ctx.clock.now();
  const message = errorMessage(err);
  const final = isProviderError(err, 'rejected') || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  if (final && link.status === 'open') recordPendingCheck(ctx.db, link, planNext(ctx, link, now), now, message);
  else noteLinkError(ctx.db, link.id, message, now);
  if (isProviderError(err, 'rejected')) throw new UnrecoverableError(message);
  throw err;
}

async function applyStatus(
  ctx: AppContext,
  found: ChargeContext,
  link: PaymentLink,
  status: LinkStatus,
): Promise<CheckResult> {
  const now = ctx.clock.now();
  const mismatch = findMismatch(found, link, status);
  if (mismatch) {
    recordEvent(ctx.db, {
      at: now,
      type: 'status.mismatch',
      actor: 'worker',
      leaseId: found.lease.id,
      chargeId: found.charge.id,
      linkId: link.id,
      details: {
        problem: mismatch,
        answer: {
          invoiceId: status.invoiceId,
          reference: status.reference,
          amountMinor: status.amountMinor,
          status: status.rawStatus,
        },
      },
    });
    ctx.logger.error({ linkId: link.id, problem: mismatch }, 'status answer does not match the link: ignored');
    if (link.status === 'open') recordPendingCheck(ctx.db, link, planNext(ctx, link, now), now);
    return { outcome: 'mismatch', linkId: link.id };
  }
  const transactions = status.transactions;
  if (status.state === 'paid') {
    const outcome = markLinkPaid(
      ctx.db,
      link.id,
      {
        paymentId: status.payment?.paymentId ?? null,
        gateway: status.payment?.gateway ?? null,
        amountMinor: status.payment?.amountMinor ?? null,
        paidAt: status.payment?.paidAt ?? null,
        rawStatus: status.rawStatus,
        duplicatePayment: status.duplicatePayment,
        transactions,
      },
      now,
    );
    if (outcome === 'paid') ctx.logger.debug({ chargeId: found.charge.id, linkId: link.id }, 'charge paid');
    return { outcome, linkId: link.id };
  }
  if (link.status !== 'open')
    return { outcome: 'skipped', linkId: link.id, reason: `link is ${link.status} and still unpaid` };
  if (status.state === 'canceled') {
    markLinkCanceled(ctx.db, link.id, status.rawStatus, now);
    return { outcome: 'canceled', linkId: link.id };
  }
  const expiresAt = status.expiresAt ?? link.expiresAt;
  if (now >= expiresAt) return expire(ctx, found, link, status, now);
  recordPendingCheck(ctx.db, link, planNext(ctx, link, now), now);
  return { outcome: 'pending', linkId: link.id };
}

async function expire(
  ctx: AppContext,
  found: ChargeContext,
  link: PaymentLink,
  status: LinkStatus,
  now: number,
): Promise<CheckResult> {
  const result = markLinkExpired(
    ctx.db,
    link.id,
    { rawStatus: status.rawStatus, transactions: status.transactions },
    now,
  );
  if (result.outcome !== 'reissue') return { outcome: 'expired', linkId: link.id, reissueAttempt: null };
  // The tick would queue it too; queueing now makes the reminder go out without waiting a minute.
  await ctx.queues.send.add(
    'send',
    { chargeId: found.charge.id, attempt: result.attempt },
    {
      ...sendJobOptions(ctx.config),
      jobId: sendJobId(found.charge.id, result.attempt),
    },
  );
  ctx.logger.debug({ chargeId: found.charge.id, attempt: result.attempt }, 'link expired unpaid: reissuing');
  return { outcome: 'expired', linkId: link.id, reissueAttempt: result.attempt };
}

/** Before trusting an answer: is it about our invoice, our reference and our amount? */
function findMismatch(found: ChargeContext, link: PaymentLink, status: LinkStatus): string | null {
  if (link.providerLinkId && status.invoiceId !== link.providerLinkId) {
    return `answer is for invoice ${status.invoiceId}, link has invoice ${link.providerLinkId}`;
  }
  if (status.reference !== null && status.reference !== link.reference) {
    return `answer has CustomerReference ${status.reference}, link has ${link.reference}`;
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
  });
}

/**
 * The status Worker: BullMQ's limiter is the hard global ceiling (STATUS_RATE_LIMIT_PER_SECOND across
 * all processes); the adaptive limiter keeps the actual pace just under what the provider accepts.
 */
export function createStatusWorker(
  ctx: AppContext,
  connection: Redis,
  limiter: AdaptiveRateLimiter | null,
): Worker<StatusJobData, CheckResult> {
  const perSecond = ctx.config.STATUS_RATE_LIMIT_PER_SECOND;
  return new Worker<StatusJobData, CheckResult>(ctx.queues.status.name, createStatusProcessor(ctx, limiter), {
    connection,
    prefix: ctx.config.QUEUE_PREFIX,
    concurrency: ctx.config.STATUS_CONCURRENCY,
    limiter: {
      max: Math.max(1, Math.floor(perSecond)),
      duration: Math.round((1000 * Math.max(1, Math.floor(perSecond))) / perSecond),
    },
    maxStartedAttempts: ctx.config.MAX_STARTED_ATTEMPTS,
  });
}
