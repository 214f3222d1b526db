import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { AppContext } from '../src/context.js';
import { getLinkByAttempt, loadChargeContext, type ChargeContext } from '../src/db/links.js';
import type { Channel, PaymentLink } from '../src/db/schema.js';
import {
  ensureLinkRow,
  linkReference,
  markLinkOpen,
  markLinkRejected,
  markSendExhausted,
  noteCreateCall,
  noteLinkError,
} from '../src/db/transitions.js';
import { errorMessage } from '../src/errors.js';
import { isProviderError, type LinkRequest, type LinkStatus } from '../src/providers/legacy-types.js';
import type { SendJobData } from '../src/queues.js';
import { sendsSms } from '../src/providers/types.js';
import { nextCheckAt } from '../src/schedule/poll-plan.js';
import { expiresAtFor } from '../src/time/periods.js';
import { handleRateLimit } from './rate-limit.js';

export type SendResult =
  { outcome: 'created' | 'adopted'; linkId: number; invoiceId: string } | { outcome: 'skipped'; reason: string };

/**
 * The send job: creates the payment link for one attempt of a charge, exactly once.
 *
 * 1. The link row exists before the provider is called (`creating`), and every createLink call is
 *    counted on it first. 2. If an earlier call may have created an invoice (count > 0: timeout, reset,
 *    crash before the result was stored), look the reference up and adopt what exists. 3. Only then
 *    create. A run that finds the work done changes nothing.
 */
export function createSendProcessor(ctx: AppContext) {
  return async (job: Job<SendJobData>, token?: string): Promise<SendResult> => {
    const { chargeId, attempt } = job.data;
    const found = loadChargeContext(ctx.db, chargeId);
    if (!found) throw new UnrecoverableError(`charge ${chargeId} does not exist`);
    const skip = reasonToSkip(found, attempt);
    if (skip) return { outcome: 'skipped', reason: skip };

    const now = ctx.clock.now();
    const link =
      ensureLinkRow(ctx.db, newLinkFor(ctx, found, attempt), now) ?? getLinkByAttempt(ctx.db, chargeId, attempt);
    if (!link || link.attempt !== attempt)
      return { outcome: 'skipped', reason: 'another link of this charge is still open' };
    if (link.status !== 'creating') return { outcome: 'skipped', reason: `link is already ${link.status}` };

    try {
      return await createOrAdopt(ctx, found, link);
    } catch (err) {
      return handleSendError(ctx, job, token, found, link, err);
    }
  };
}

function reasonToSkip({ charge, lease }: ChargeContext, attempt: number): string | null {
  if (charge.status !== 'scheduled' && charge.status !== 'invoiced') return `charge is ${charge.status}`;
  if (attempt !== charge.reissueCount + 1)
    return `attempt ${attempt} is not the charge's current attempt ${charge.reissueCount + 1}`;
  if (lease.state !== 'active') return `lease is ${lease.state}`;
  return null;
}

/** Reissues may escalate the channel (REISSUE_CHANNEL) and run from now, not from the due date. */
function newLinkFor(ctx: AppContext, { charge, lease }: ChargeContext, attempt: number) {
  const channel: Channel = attempt > 1 && ctx.config.REISSUE_CHANNEL ? ctx.config.REISSUE_CHANNEL : lease.channel;
  const fromDueDate = expiresAtFor(charge.dueDate, lease.validDays, lease.timezone);
  const fromToday = expiresAtFor(localToday(ctx.clock.now(), lease.timezone), lease.validDays, lease.timezone);
  return {
    chargeId: charge.id,
    leaseId: lease.id,
    attempt,
    channel,
    provider: ctx.provider.id,
    reference: linkReference(lease.ref, charge.period, attempt),
    // A late first send (catch-up) still gets a full validity window instead of an already-past expiry.
    expiresAt: attempt === 1 ? Math.max(fromDueDate, fromToday) : fromToday,
  };
}

function localToday(now: number, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

async function createOrAdopt(ctx: AppContext, found: ChargeContext, link: PaymentLink): Promise<SendResult> {
  if (link.createCalls > 0) {
    const existing = await ctx.provider.findLink(link.reference, found.charge.currency);
    if (existing) return adopt(ctx, found, link, existing);
  }
  noteCreateCall(ctx.db, link.id, ctx.clock.now());
  const created = await ctx.provider.createLink(buildLinkRequest(ctx, found, link));
  const now = ctx.clock.now();
  markLinkOpen(
    ctx.db,
    {
      linkId: link.id,
      leaseId: found.lease.id,
      invoiceId: created.invoiceId,
      url: created.url,
      how: 'created',
      nextCheckAt: firstCheckAt(ctx, link, now),
    },
    now,
  );
  ctx.logger.debug(
    { chargeId: found.charge.id, linkId: link.id, invoiceId: created.invoiceId },
    'payment link created',
  );
  return { outcome: 'created', linkId: link.id, invoiceId: created.invoiceId };
}

/** An earlier, uncertain call did create the invoice: take it instead of creating a second one. */
function adopt(ctx: AppContext, found: ChargeContext, link: PaymentLink, existing: LinkStatus): SendResult {
  const now = ctx.clock.now();
  if (existing.amountMinor !== null && existing.amountMinor !== found.charge.amountMinor) {
    throw new UnrecoverableError(
      `invoice ${existing.invoiceId} found for ${link.reference} is for ${existing.amountMinor}, not ${found.charge.amountMinor}: not adopting it`,
    );
  }
  markLinkOpen(
    ctx.db,
    {
      linkId: link.id,
      leaseId: found.lease.id,
      invoiceId: existing.invoiceId,
      url: existing.url,
      how: 'adopted',
      // Check at once: the adopted invoice may already be paid.
      nextCheckAt: now,
      details: { providerStatus: existing.rawStatus, note: 'found by CustomerReference after an uncertain create' },
    },
    now,
  );
  ctx.logger.warn(
    { chargeId: found.charge.id, linkId: link.id, invoiceId: existing.invoiceId },
    'adopted invoice from an uncertain earlier create',
  );
  return { outcome: 'adopted', linkId: link.id, invoiceId: existing.invoiceId };
}

function firstCheckAt(ctx: AppContext, link: PaymentLink, now: number): number {
  return nextCheckAt({
    createdAt: now,
    expiresAt: link.expiresAt,
    pollCount: 0,
    now,
    plan: ctx.config.POLL_PLAN,
    jitter: ctx.config.POLL_JITTER,
  });
}

export function buildLinkRequest(
  ctx: AppContext,
  { charge, lease, tenant }: ChargeContext,
  link: PaymentLink,
): LinkRequest {
  const base = ctx.config.PUBLIC_BASE_URL?.replace(/\/+$/, '');
  const wantsMobile = sendsSms(link.channel);
  return {
    reference: link.reference,
    customerName: tenant.name,
    channel: link.channel,
    email: tenant.email,
    mobile: wantsMobile || tenant.mobile ? tenant.mobile : null,
    mobileCountryCode: tenant.mobileCountryCode,
    language: tenant.language,
    amountMinor: charge.amountMinor,
    currency: charge.currency,
    expiresAt: link.expiresAt,
    userDefinedField: JSON.stringify({ charge: charge.id, link: link.id, lease: lease.ref, period: charge.period }),
    // Our reference in the URL lets the callback find the link; MyFatoorah appends &paymentId=….
    ...(base
      ? {
          callbackUrl: `${base}/callback?ref=${encodeURIComponent(link.reference)}`,
          errorUrl: `${base}/callback?ref=${encodeURIComponent(link.reference)}&error=1`,
        }
      : {}),
  };
}

async function handleSendError(
  ctx: AppContext,
  job: Job<SendJobData>,
  token: string | undefined,
  found: ChargeContext,
  link: PaymentLink,
  err: unknown,
): Promise<never> {
  const now = ctx.clock.now();
  const ids = { linkId: link.id, chargeId: found.charge.id, leaseId: found.lease.id };
  const message = errorMessage(err);
  if (isProviderError(err, 'rejected')) {
    markLinkRejected(ctx.db, ids, message, now);
    ctx.logger.warn({ ...ids, err: message }, 'provider rejected the payment link');
    throw new UnrecoverableError(message);
  }
  if (isProviderError(err, 'rate_limited')) {
    noteLinkError(ctx.db, link.id, message, now);
    return handleRateLimit(ctx, ctx.queues.send, 'send', job, token, err);
  }
  noteLinkError(ctx.db, link.id, message, now);
  const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  if (lastAttempt || err instanceof UnrecoverableError) {
    markSendExhausted(ctx.db, ids, `gave up after ${job.attemptsMade + 1} attempts: ${message}`, now);
  }
  ctx.logger.warn({ ...ids, attempt: job.attemptsMade + 1, err: message }, 'payment link not created yet; will retry');
  throw err;
}

/** The send Worker: concurrency from config; retries with exponential backoff and jitter from the job options. */
export function createSendWorker(ctx: AppContext, connection: Redis): Worker<SendJobData, SendResult> {
  return new Worker<SendJobData, SendResult>(ctx.queues.send.name, createSendProcessor(ctx), {
    connection,
    prefix: ctx.config.QUEUE_PREFIX,
    concurrency: ctx.config.SEND_CONCURRENCY,
    maxStartedAttempts: ctx.config.MAX_STARTED_ATTEMPTS,
  });
}
