import type { Hono } from 'hono';
import type { App } from '../app.js';
import { CHARGE_STATUSES } from '../db/schema.js';
import { chargeCountsByStatus, doublePaymentCounts } from '../operations/charges.js';

/** BullMQ 6 has no separate `paused` state: a paused queue's jobs stay `waiting`. */
const JOB_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'failed', 'completed'] as const;
/** A scrape must not hang on a Redis that is down: job gauges are skipped after this long. */
const REDIS_TIMEOUT_MS = 2000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function jobCounts(
  app: App,
): Promise<Array<{ queue: string; account: string; counts: Record<string, number> }> | null> {
  const all = Promise.all(
    app.queues.all().map(async ({ kind, account, queue }) => ({
      queue: kind,
      account,
      counts: await queue.getJobCounts(...JOB_STATES),
    })),
  );
  return withTimeout(all, REDIS_TIMEOUT_MS).catch(() => null);
}

/**
 * Sets the point-in-time gauges from their sources of truth (queues in Redis, charges in SQLite).
 * Everything is read first and written after, so a concurrent scrape never sees half-reset gauges.
 */
export async function fillGauges(app: App): Promise<void> {
  const jobs = await jobCounts(app);
  const byStatus = chargeCountsByStatus(app.db);
  const doubles = doublePaymentCounts(app.db);
  app.metrics.jobs.reset();
  for (const { queue, account, counts } of jobs ?? []) {
    for (const state of JOB_STATES) app.metrics.jobs.set({ queue, account, state }, counts[state] ?? 0);
  }
  // Every status is always present (0 included) so dashboards and alerts never see a series vanish.
  for (const status of CHARGE_STATUSES) app.metrics.charges.set({ status }, byStatus[status] ?? 0);
  app.metrics.doublePayments.set({ state: 'to_review' }, doubles.toReview);
  app.metrics.doublePayments.set({ state: 'reviewed' }, doubles.reviewed);
}

/**
 * `GET /metrics` in Prometheus text format. Deliberately NOT behind ADMIN_TOKEN: scrapers rarely carry
 * bearer tokens, the numbers hold no tenant data, and the server binds 127.0.0.1 unless HTTP_HOST
 * says otherwise; expose it beyond the host only through a proxy that restricts who may scrape.
 */
export function registerMetricsRoute(http: Hono, app: App): void {
  http.get('/metrics', async (c) => {
    await fillGauges(app);
    const text = await app.metrics.registry.metrics();
    return c.body(text, 200, { 'Content-Type': app.metrics.registry.contentType, 'Cache-Control': 'no-store' });
  });
}
