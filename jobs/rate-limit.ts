import { Worker, type Job, type Queue } from 'bullmq';
import type { AppContext } from '../src/context.js';
import type { PaymentProvider, ProviderError } from '../src/providers/types.js';

/** Without a Retry-After, wait base × 2^(consecutive rate limits of this job), capped, with jitter. */
const BASE_MS = 1000;
const CAP_MS = 60_000;

function backoffWithJitter(streak: number, random: () => number = Math.random): number {
  const ceiling = Math.min(CAP_MS, BASE_MS * 2 ** Math.min(streak, 16));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * A provider said "slow down" (429/503). Pause this account's queue — every worker in every process —
 * for the advised time, and hand the job back without using an attempt (BullMQ's RateLimitError).
 * Other accounts' queues keep going. `maxStartedAttempts` on the Worker keeps a job from bouncing forever.
 */
export async function handleRateLimit(
  ctx: AppContext,
  queue: Queue,
  kind: 'send' | 'status',
  provider: PaymentProvider,
  job: Job,
  err: ProviderError,
): Promise<never> {
  const streak = Math.max(0, (job.attemptsStarted ?? 1) - (job.attemptsMade ?? 0) - 1);
  const waitMs = err.retryAfterMs ?? backoffWithJitter(streak);
  ctx.metrics.rateLimited.inc({ queue: kind, provider: provider.id, account: provider.account });
  ctx.logger.warn(
    { queue: queue.name, account: provider.account, jobId: job.id, waitMs, httpStatus: err.httpStatus },
    'provider rate limit: pausing this account’s queue',
  );
  await queue.rateLimit(Math.max(1, waitMs));
  throw Worker.RateLimitError();
}
