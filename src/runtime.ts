import type { Worker } from 'bullmq';
import { and, desc, gt, inArray, sql } from 'drizzle-orm';
import { createStatusWorker } from '../jobs/check-status.js';
import { createSendWorker } from '../jobs/send-link.js';
import type { App } from './app.js';
import { events, paymentLinks } from './db/schema.js';
import { reportQueueErrors } from './queue-errors.js';
import { RedisAdaptiveRateLimiter, type AdaptiveRateLimiter } from './ratelimit.js';

export interface Workers {
  send: Worker[];
  status: Worker[];
  /** The adaptive status-rate limiter of each account. */
  limiters: Map<string, AdaptiveRateLimiter>;
  /** True while every worker runs and its Redis connection is up (for /readyz). */
  running(): boolean;
  /** Stops taking jobs and waits for active ones, at most `timeoutMs`; then closes forcibly. */
  close(timeoutMs: number): Promise<void>;
}

/**
 * Starts a send and a status worker per account, on their own Redis connections (workers block), each
 * status worker with its account's own adaptive rate limiter: a 429 storm at one account does not
 * slow another's checks.
 */
export function startWorkers(app: App): Workers {
  // BullMQ does not close connections it was given: keep them to disconnect on close.
  const connections = [app.redis.connect()];
  const connect = () => {
    const connection = app.redis.connect();
    connections.push(connection);
    return connection;
  };
  const limiters = new Map<string, AdaptiveRateLimiter>();
  const send: Worker[] = [];
  const status: Worker[] = [];
  for (const provider of app.registry.all()) {
    const account = provider.account;
    const limiter = new RedisAdaptiveRateLimiter(
      connections[0]!,
      `${app.config.QUEUE_PREFIX}:status-pacer:${account}`,
      {
        maxRate: app.config.STATUS_RATE_LIMIT_PER_SECOND,
        onRate: (rate) => app.metrics.statusRate.set({ account }, rate),
      },
    );
    limiters.set(account, limiter);
    send.push(createSendWorker(app, connect(), account));
    status.push(createStatusWorker(app, connect(), account, limiter));
  }
  for (const worker of [...send, ...status]) logFailures(app, worker);
  const all = [...send, ...status];
  reportQueueErrors(app.logger, Object.fromEntries(all.map((w) => [`${w.name} worker`, w])));
  return {
    send,
    status,
    limiters,
    running: () => all.every((w) => w.isRunning()) && connections.every((c) => c.status === 'ready'),
    close: async (timeoutMs) => {
      const graceful = Promise.all(all.map((w) => w.close()));
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

/** How long a forced close waits for BullMQ once its connections are dropped. */
const FORCED_CLOSE_MS = 2_000;

function logFailures(app: App, worker: Worker): void {
  worker.on('failed', (job, err) => {
    const final = job ? job.attemptsMade >= (job.opts.attempts ?? 1) || err.name === 'UnrecoverableError' : true;
    app.logger[final ? 'error' : 'warn'](
      { queue: worker.name, jobId: job?.id, attemptsMade: job?.attemptsMade, err: err.message },
      final ? 'job failed' : 'job attempt failed; will retry',
    );
  });
}

/** Job counts by state, per kind of queue (every account's queues of that kind added up). */
export type QueueCounts = Record<'send' | 'status', Record<string, number>>;

export interface IdleOptions {
  /** Give up waiting after this long (jobs stay queued for the next run). */
  timeoutMs: number;
  pollMs?: number;
  /** Called with every poll's counts (for a progress line). */
  onProgress?: (counts: QueueCounts) => void;
}

const BUSY_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children'] as const;

/** Unfinished jobs by state, per kind of queue. */
async function queueCounts(app: Pick<App, 'queues'>): Promise<QueueCounts> {
  const queues = app.queues.all();
  const counts = await Promise.all(queues.map(({ queue }) => queue.getJobCounts(...BUSY_STATES)));
  const sums: QueueCounts = { send: {}, status: {} };
  queues.forEach(({ kind }, i) => {
    for (const [state, n] of Object.entries(counts[i] ?? {})) sums[kind][state] = (sums[kind][state] ?? 0) + n;
  });
  return sums;
}

/** Jobs not yet finished, over every queue of every account. */
export async function pendingJobs(app: Pick<App, 'queues'>): Promise<number> {
  const counts = await queueCounts(app);
  return [counts.send, counts.status].reduce((sum, c) => sum + Object.values(c).reduce((a, n) => a + n, 0), 0);
}

/**
 * Waits until no queue has waiting, active, delayed or prioritized jobs. Returns false when
 * `timeoutMs` passed first. Real time on purpose: it waits for real work in flight.
 */
export async function waitUntilIdle(app: Pick<App, 'queues'>, options: IdleOptions): Promise<boolean> {
  const deadline = performance.now() + options.timeoutMs;
  for (;;) {
    const counts = await queueCounts(app);
    options.onProgress?.(counts);
    const busy = [counts.send, counts.status].some((c) => Object.values(c).some((n) => n > 0));
    if (!busy) return true;
    if (performance.now() > deadline) return false;
    // Short: `tick --wait` ends this long after the last job at most (getJobCounts is cheap).
    await delay(options.pollMs ?? 25);
  }
}

export interface RunSummary {
  chargesCreated: number;
  linksCreated: number;
  linksAdopted: number;
  paid: number;
  expired: number;
  failureCount: number;
  /** The first failures, with their reasons (at most SUMMARY_ROWS; failureCount has them all). */
  failures: Array<{ chargeId: number | null; linkId: number | null; type: string; reason: string }>;
  /** The links made in the run (at most SUMMARY_ROWS). */
  links: Array<{ id: number; reference: string; status: string; url: string | null; invoiceId: string | null }>;
}

const SUMMARY_ROWS = 200;
const FAILURE_TYPES = ['link.rejected', 'send.exhausted', 'send.unroutable', 'status.mismatch', 'link.canceled'];

/** What happened since event id `sinceEventId`, from SQL aggregates: for `tick --wait` and the demo. */
export function summarizeSince(app: Pick<App, 'db'>, sinceEventId: number): RunSummary {
  const counts = new Map(
    app.db
      .select({ type: events.type, n: sql<number>`COUNT(*)` })
      .from(events)
      .where(gt(events.id, sinceEventId))
      .groupBy(events.type)
      .all()
      .map((r) => [r.type, r.n]),
  );
  const count = (type: string) => counts.get(type) ?? 0;
  const failures = app.db
    .select()
    .from(events)
    .where(and(gt(events.id, sinceEventId), inArray(events.type, FAILURE_TYPES)))
    .orderBy(events.id)
    .limit(SUMMARY_ROWS)
    .all()
    .map((r) => {
      const details = JSON.parse(r.details) as Record<string, unknown>;
      return {
        chargeId: r.chargeId,
        linkId: r.linkId,
        type: r.type,
        reason: String(details['reason'] ?? details['problem'] ?? ''),
      };
    });
  const linkIds = app.db
    .select({ id: events.linkId })
    .from(events)
    .where(and(gt(events.id, sinceEventId), inArray(events.type, ['link.created', 'link.adopted'])))
    .orderBy(events.id)
    .limit(SUMMARY_ROWS)
    .all()
    .map((r) => r.id as number);
  return {
    chargesCreated: count('charge.created'),
    linksCreated: count('link.created'),
    linksAdopted: count('link.adopted'),
    paid: count('charge.paid'),
    expired: count('link.expired'),
    failureCount: FAILURE_TYPES.reduce((sum, t) => sum + count(t), 0),
    failures,
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
            .where(inArray(paymentLinks.id, linkIds))
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
