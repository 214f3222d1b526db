import { afterAll, describe, expect, it } from 'vitest';
import { MINUTE } from '../src/time/clock.js';
import { paymentLinks } from '../src/db/schema.js';
import { waitUntilIdle } from '../src/runtime.js';
import { runTick } from '../src/schedule/tick.js';
import { createHarness, csvOf, leaseLine, type Harness } from './helpers/harness.js';

let h: Harness;
afterAll(async () => h?.close());

/**
 * MyFatoorah does not publish its GetPaymentStatus limit. Here the provider allows 2 requests/s while
 * the worker is configured for 5/s: the adaptive limiter must find the real rate, get every status,
 * fail no job, and keep 429s rare. This runs on real time by nature (it is about request rates).
 */
describe('adaptive status rate limit', () => {
  it('200 open links against a 2/s provider with the worker set to 5/s: all checked, ≥ 90 % answered 200, ≥ 80 % of 2/s', async () => {
    h = await createHarness({
      now: '2026-11-27T06:00:00Z',
      env: { STATUS_RATE_LIMIT_PER_SECOND: '5', STATUS_CONCURRENCY: '4' },
    });
    const lines = Array.from({ length: 200 }, (_, i) => leaseLine({ lease_ref: `RL-${i}` }));
    h.importCsv(csvOf(...lines));
    await h.tickAndSettle();
    expect(
      h.app.db
        .select()
        .from(paymentLinks)
        .all()
        .filter((l) => l.status === 'open'),
    ).toHaveLength(200);

    h.sandbox.setRateLimit(2);
    h.clock.advance(16 * MINUTE);
    const started = performance.now();
    const tick = await runTick(h.app);
    expect(tick.statusJobs).toBe(200);
    expect(await waitUntilIdle(h.app, { timeoutMs: 240_000, pollMs: 100 })).toBe(true);
    const seconds = (performance.now() - started) / 1000;

    const calls = h.sandbox.requests.filter((r) => r.endpoint === 'GetPaymentStatus');
    const ok = calls.filter((r) => r.status === 200).length;
    const links = h.app.db.select().from(paymentLinks).all();
    const counts = await h.app.queues.status('default').getJobCounts('failed', 'completed');
    const figures = {
      seconds: Number(seconds.toFixed(1)),
      calls: calls.length,
      ok,
      throttled: h.sandbox.throttledCount,
      okPerSecond: Number((ok / seconds).toFixed(2)),
      finalRate: Number(((await h.app.metrics.statusRate.get()).values[0]?.value ?? 0).toFixed(2)),
    };
    console.log(JSON.stringify({ test: 'adaptive-rate-limit', ...figures }));

    expect(links.every((l) => l.pollCount === 1)).toBe(true);
    expect(counts.failed).toBe(0);
    expect(counts.completed).toBe(200);
    expect(ok).toBe(200);
    expect(ok / calls.length).toBeGreaterThanOrEqual(0.9);
    expect(ok / seconds).toBeGreaterThanOrEqual(0.8 * 2);
  }, 300_000);
});
