import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { callbackUrl } from '../src/callbacks.js';
import type { AppContext } from '../src/context.js';
import { batchedWrite } from '../src/db/batch.js';
import { sendNotQueued } from '../src/db/charges.js';
import {
  ensureLinkRow,
  markLinkOpen,
  markLinkRejected,
  markSendExhausted,
  noteCreateCall,
  noteLinkError,
} from '../src/db/links.js';
import { getLinkByAttempt, loadChargeContext, type ChargeContext } from '../src/db/queries.js';
import type { PaymentLink } from '../src/db/schema.js';
import { callbackKey } from '../src/db/settings.js';
import { errorMessage } from '../src/errors.js';
import { isProviderError, type LinkRequest, type LinkStatus, type PaymentProvider } from '../src/providers/types.js';
import { queueName, type SendJobData } from '../src/queues.js';
import { nextCheckAt } from '../src/schedule/poll-plan.js';
import { firstLinkPlan } from '../src/schedule/link-plan.js';
import { MONTH_NAMES } from '../src/time/periods.js';
import { handleRateLimit } from './rate-limit.js';

export type SendResult =
  { outcome: 'created' | 'adopted'; linkId: number; providerLinkId: string } | { outcome: 'skipped'; reason: string };

/**
 * The send job: creates the payment link for one attempt of a charge, exactly once.
 *
 * 1. The link row exists before the provider is called (`creating`; reissues and renewals get theirs
 *    when the previous link expires), and every createLink call is counted on it first. 2. If an
 *    earlier call may have created the link (count > 0: timeout, reset, crash before the result was
 *    stored), look the reference up and adopt what exists. 3. Only then create. A run that finds the
 *    work done changes nothing. The link is created through the account its row names.
 */
function createSendProcessor(ctx: AppContext) {
  return async (job: Job<SendJobData>): Promise<SendResult> => {
    const { chargeId, attempt } = job.data;
    const found = loadChargeContext(ctx.db, chargeId);
    if (!found) throw new UnrecoverableError(`charge ${chargeId} does not exist`);
    const skip = reasonToSkip(found, attempt);
    if (skip) {
      // Paused: the send is still wanted; the tick queues it again once the lease is resumed.
      if (found.lease.state !== 'active') sendNotQueued(ctx.db, chargeId);
      return { outcome: 'skipped', reason: skip };
    }
    const now = ctx.clock.now();
    const plan = () =>
      firstLinkPlan(ctx.config, leaseProvider(ctx, found.lease.account), found.charge, found.lease, attempt, now);
    // Group commit (src/db/batch.ts): the row, and the count of a first call, are committed before
    // the provider is called. A row never sent needs no lookup, so its call is counted in the same write.
    const { link, counted } = await batchedWrite(ctx.db, () => {
      const row = getLinkByAttempt(ctx.db, chargeId, attempt) ?? ensureLinkRow(ctx.db, plan(), now);
      const first = row?.status === 'creating' && row.createCalls === 0 && ctx.registry.has(row.account);
      if (first) noteCreateCall(ctx.db, row.id, now);
      return { link: row, counted: first };
    });
    if (!link) return { outcome: 'skipped', reason: 'another link of this charge is still open' };
    if (link.status !== 'creating') return { outcome: 'skipped', reason: `link is already ${link.status}` };
    if (!ctx.registry.has(link.account)) {
      const reason = `account "${link.account}" is not configured`;
      markLinkRejected(ctx.db, { linkId: link.id, chargeId, leaseId: found.lease.id }, reason, now);
      throw new UnrecoverableError(reason);
    }
    const provider = ctx.registry.get(link.account);
    try {
      return await createOrAdopt(ctx, provider, found, link, counted);
    } catch (err) {
      return handleSendError(ctx, provider, job, found, link, err);
    }
  };
}

function reasonToSkip({ charge, lease }: ChargeContext, attempt: number): string | null {
  if (charge.status !== 'scheduled' && charge.status !== 'invoiced') return `charge is ${charge.status}`;
  if (attempt !== charge.linkAttempt)
    return `attempt ${attempt} is not the charge's current attempt ${charge.linkAttempt}`;
  if (lease.state !== 'active') return `lease is ${lease.state}`;
  return null;
}

/** The lease's account (a lease naming an account the configuration lost fails the job, visibly). */
function leaseProvider(ctx: AppContext, account: string | null): PaymentProvider {
  try {
    return ctx.registry.forLease(account);
  } catch (err) {
    throw new UnrecoverableError(errorMessage(err));
  }
}

async function createOrAdopt(
  ctx: AppContext,
  provider: PaymentProvider,
  found: ChargeContext,
  link: PaymentLink,
  counted: boolean,
): Promise<SendResult> {
  if (link.createCalls > 0) {
    const existing = await provider.findLink(link.reference, found.charge.currency);
    if (existing) return adopt(ctx, found, link, existing);
  }
  const calledAt = ctx.clock.now();
  if (!counted) await batchedWrite(ctx.db, () => noteCreateCall(ctx.db, link.id, calledAt));
  const created = await provider.createLink(buildLinkRequest(ctx, found, link));
  const now = ctx.clock.now();
  const opened = {
    linkId: link.id,
    leaseId: found.lease.id,
    providerLinkId: created.providerLinkId,
    url: created.url,
    expiresAt: created.expiresAt,
    how: 'created',
    nextCheckAt: firstCheckAt(ctx, link, created.expiresAt ?? link.expiresAt, now),
  } as const;
  await batchedWrite(ctx.db, () => markLinkOpen(ctx.db, opened, now));
  ctx.logger.debug({ chargeId: found.charge.id, linkId: link.id, account: link.account }, 'payment link created');
  return { outcome: 'created', linkId: link.id, providerLinkId: created.providerLinkId };
}

/** An earlier, uncertain call did create the link: take it instead of creating a second one. */
function adopt(ctx: AppContext, found: ChargeContext, link: PaymentLink, existing: LinkStatus): SendResult {
  const now = ctx.clock.now();
  if (existing.amountMinor !== null && existing.amountMinor !== found.charge.amountMinor) {
    throw new UnrecoverableError(
      `link ${existing.providerLinkId} found for ${link.reference} is for ${existing.amountMinor}, not ${found.charge.amountMinor}: not adopting it`,
    );
  }
  markLinkOpen(
    ctx.db,
    {
      linkId: link.id,
      leaseId: found.lease.id,
      providerLinkId: existing.providerLinkId,
      url: existing.url,
      expiresAt: existing.expiresAt,
      how: 'adopted',
      // Check at once: the adopted link may already be paid.
      nextCheckAt: now,
      details: { providerStatus: existing.rawStatus, note: 'found by our reference after an uncertain create' },
    },
    now,
  );
  ctx.logger.warn({ chargeId: found.charge.id, linkId: link.id }, 'adopted a link from an uncertain earlier create');
  return { outcome: 'adopted', linkId: link.id, providerLinkId: existing.providerLinkId };
}

function firstCheckAt(ctx: AppContext, link: PaymentLink, expiresAt: number, now: number): number {
  return nextCheckAt({
    createdAt: now,
    expiresAt,
    pollCount: 0,
    now,
    plan: ctx.config.POLL_PLAN,
    jitter: ctx.config.POLL_JITTER,
    graceMs: ctx.config.EXPIRY_GRACE,
  });
}

/** What the provider is asked to create, in rentlink's words; the provider module translates. */
export function buildLinkRequest(
  ctx: AppContext,
  { charge, lease, tenant }: ChargeContext,
  link: PaymentLink,
): LinkRequest {
  const base = ctx.config.PUBLIC_BASE_URL;
  const key = base ? callbackKey(ctx.db, ctx.clock.now()) : null;
  const month = MONTH_NAMES[Number(charge.period.slice(5, 7)) - 1] ?? charge.period;
  return {
    reference: link.reference,
    orderReference: `${lease.ref}-${charge.period}`,
    customer: {
      name: tenant.name,
      email: tenant.email,
      mobile: tenant.mobile,
      mobileCountryCode: tenant.mobileCountryCode,
      language: tenant.language,
    },
    channel: link.channel,
    amountMinor: charge.amountMinor,
    currency: charge.currency,
    expiresAt: link.expiresAt,
    description: `Rent ${month} ${charge.period.slice(0, 4)} – ${lease.unit}`.slice(0, 150),
    metadata: { charge: String(charge.id), link: String(link.id), lease: lease.ref, period: charge.period },
    // Our reference and a token in the URL let the callback find the link without trusting anything else.
    ...(base && key
      ? { returnUrl: callbackUrl(base, key, link.reference), errorUrl: callbackUrl(base, key, link.reference, true) }
      : {}),
  };
}

async function handleSendError(
  ctx: AppContext,
  provider: PaymentProvider,
  job: Job<SendJobData>,
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
  noteLinkError(ctx.db, link.id, message, now);
  if (isProviderError(err, 'rate_limited')) {
    return handleRateLimit(ctx, ctx.queues.send(link.account), 'send', provider, job, err);
  }
  const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  if (lastAttempt || err instanceof UnrecoverableError) {
    markSendExhausted(ctx.db, ids, `gave up after ${job.attemptsMade + 1} attempts: ${message}`, now);
  }
  ctx.logger.warn({ ...ids, attempt: job.attemptsMade + 1, err: message }, 'payment link not created yet; will retry');
  throw err;
}

/** The send Worker of one account: concurrency from config; retries with backoff and jitter from the job options. */
export function createSendWorker(ctx: AppContext, connection: Redis, account: string): Worker<SendJobData, SendResult> {
  return new Worker<SendJobData, SendResult>(queueName('send', account), createSendProcessor(ctx), {
    connection,
    prefix: ctx.config.QUEUE_PREFIX,
    concurrency: ctx.config.SEND_CONCURRENCY,
    maxStartedAttempts: ctx.config.MAX_STARTED_ATTEMPTS,
    lockDuration: ctx.config.JOB_LOCK_MS,
    stalledInterval: ctx.config.JOB_LOCK_MS,
  });
}
