import type { Worker } from 'bullmq';
import { and, desc, gt, inArray } from 'drizzle-orm';
import { createStatusWorker } from '../jobs/check-status.js';
import { createSendWorker } from '../jobs/send-link.js';
import type { App } from './app.js';
import { events, paymentLinks } from './db/schema.js';
import { reportQueueErrors } from './queue-errors.js';
import { RedisAdaptiveRateLimiter, type AdaptiveRateLimiter } from './ratelimit.js';

export interface Workers {
  send: Worker;
  status: Worker;
  limiter: AdaptiveRateLimiter;
  /** True while both workers run and their Redis connections are up (for /readyz). */
  running(): boolean;
  /** Stops taking jobs and waits for active ones, at most `timeoutMs`; then closes forcibly. */
  close(timeoutMs: number): Promise<void>;
}

/** How long a forced close waits for BullMQ once its connections are dropped. */
const FORCED_CLOSE_MS = 2_000;

/** Starts both queue workers with their own Redis connections (workers block). */
export function startWorkers(app: App): Workers {
  // BullMQ does not close connections it was given: keep them to disconnect on close.
  const connections = [app.redis.connect(), app.redis.connect(), app.redis.connect()] as const;
  const [limiterConnection, sendConnection, statusConnection] = connections;
  const limiter = new RedisAdaptiveRateLimiter(limiterConnection, `${app.config.QUEUE_PREFIX}:status-pacer`, {
    maxRate: app.config.STATUS_RATE_LIMIT_PER_SECOND,
    onRate: (rate) => app.metrics.statusRate.set(rate),
  });
  const send = createSendWorker(app, sendConnection);
  const status = createStatusWorker(app, statusConnection, limiter);
  for (const [name, worker] of [
    ['send', send],
    ['status', status],
  ] as const) {
    worker.on('failed', (job, err) => {
      const final = job ? job.attemptsMade >= (job.opts.attempts ?? 1) || err.name === 'UnrecoverableError' : true;
      app.logger[final ? 'error' : 'warn'](
        { queue: name, jobId: job?.id, attemptsMade: job?.attemptsMade, err: err.message },
        final ? 'job failed' : 'job attempt failed; will retry',
      );
    });
  }
  reportQueueErrors(app.logger, { 'send worker': send, 'status worker': status });
  return {
    send,
    status,
    limiter,
    running: () => send.isRunning() && status.isRunning() && connections.every((c) => c.status === 'ready'),
    close: async (timeoutMs) => {
      const graceful = Promise.all([send.close(), status.close()]);
      const timedOut = await Promise.race([graceful.then(() => false), delay(timeoutMs).then(() => true)]);
      if (timedOut) {
        app.logger.warn({ timeoutMs }, 'active jobs did not finish in time: closing forcibly (they will be retried)');
        // close(true) would only return the pending close; dropping the connections is what unblocks it.
        for (const c of connections) c.disconnect();
        await Promise.race([graceful, delay(FORCED_CLOSE_MS)]);
      }
      for (const c of connections) c.disconnect();
    },
  };
}

/** Job counts by state, per queue, as BullMQ's getJobCounts gives them. */
export type QueueCounts = Record<'send' | 'status', Record<string, number>>;

export interface IdleOptions {
  /** Give up waiting after this long (jobs stay queued for the next run). */
  timeoutMs: number;
  pollMs?: number;
  /** Called with every poll's counts (for a progress line). */
  onProgress?: (counts: QueueCounts) => void;
}

/**
 * Waits until neither queue has waiting, active, delayed or prioritized jobs. Returns false when
 * `timeoutMs` passed first. Real time on purpose: it waits for real work in flight.
 */
export async function waitUntilIdle(app: App, options: IdleOptions): Promise<boolean> {
  const deadline = performance.now() + options.timeoutMs;
  for (;;) {
    const counts = await Promise.all(
      [app.queues.send, app.queues.status].map((q) =>
        q.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children'),
      ),
    );
    options.onProgress?.({ send: counts[0] ?? {}, status: counts[1] ?? {} });
    const busy = counts.some((c) => Object.values(c).some((n) => n > 0));
    if (!busy) return true;
    if (performance.now() > deadline) return false;
    await delay(options.pollMs ?? 100);
  }
}

export interface RunSummary {
  chargesCreated: number;
  linksCreated: number;
  linksAdopted: number;
  paid: number;
  expired: number;
  failures: Array<{ chargeId: number | null; linkId: number | null; type: string; reason: string }>;
  links: Array<{ id: number; reference: string; status: string; url: string | null; invoiceId: string | null }>;
}

/** What happened since event id `sinceEventId`: for `tick --wait` and the demo. */
export function summarizeSince(app: Pick<App, 'db'>, sinceEventId: number): RunSummary {
  const rows = app.db.select().from(events).where(gt(events.id, sinceEventId)).all();
  const count = (type: string) => rows.filter((r) => r.type === type).length;
  const failureTypes = ['link.rejected', 'send.exhausted', 'status.mismatch', 'link.canceled'];
  const linkIds = [
    ...new Set(
      rows.filter((r) => r.type === 'link.created' || r.type === 'link.adopted').map((r) => r.linkId as number),
    ),
  ];
  return {
    chargesCreated: count('charge.created'),
    linksCreated: count('link.created'),
    linksAdopted: count('link.adopted'),
    paid: count('charge.paid'),
    expired: count('link.expired'),
    failures: rows
      .filter((r) => failureTypes.includes(r.type))
      .map((r) => ({
        chargeId: r.chargeId,
        linkId: r.linkId,
        type: r.type,
        reason: String(
          (JSON.parse(r.details) as Record<string, unknown>)['reason'] ??
            (JSON.parse(r.details) as Record<string, unknown>)['problem'] ??
            '',
        ),
      })),
    links:
      linkIds.length === 0
        ? []
        : app.db
            .select({
              id: paymentLinks.id,
              reference: paymentLinks.reference,
              status: paymentLinks.status,
              url: paymentLinks.url,
              invoiceId: paymentLinks.providerLinkId,
            })
            .from(paymentLinks)
            .where(and(inArray(paymentLinks.id, linkIds)))
            .all(),
  };
}

/** The newest event id, to summarize a run afterwards. */
export function lastEventId(app: Pick<App, 'db'>): number {
  return app.db.select({ id: events.id }).from(events).orderBy(desc(events.id)).limit(1).get()?.id ?? 0;
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
