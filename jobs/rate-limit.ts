import { Worker, type Job, type Queue } from 'bullmq';
import type { AppContext } from '../src/context.js';
import type { ProviderError } from '../src/providers/legacy-types.js';

/** Without a Retry-After, wait base × 2^(consecutive rate limits of this job), capped, with jitter. */
const BASE_MS = 1000;
const CAP_MS = 60_000;

export function backoffWithJitter(streak: number, random: () => number = Math.random): number {
  const ceiling = Math.min(CAP_MS, BASE_MS * 2 ** Math.min(streak, 16));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * A provider said "slow down" (429/503). Pause the whole queue — every worker in every process — for
 * the advised time, and hand the job back without using an attempt (BullMQ's RateLimitError).
 * `maxStartedAttempts` on the Worker keeps a job from bouncing forever.
 */
export async function handleRateLimit(
  ctx: AppContext,
  queue: Queue,
  queueName: string,
  job: Job,
  _token: string | undefined,
  err: ProviderError,
): Promise<never> {
  const streak = Math.max(0, (job.attemptsStarted ?? 1) - (job.attemptsMade ?? 0) - 1);
  const waitMs = err.retryAfterMs ?? backoffWithJitter(streak);
  ctx.metrics.rateLimited.inc({ queue: queueName });
  ctx.logger.warn(
    { queue: queueName, jobId: job.id, waitMs, httpStatus: err.httpStatus },
    'provider rate limit: pausing queue',
  );
  await queue.rateLimit(Math.max(1, waitMs));
  throw Worker.RateLimitError();
}
