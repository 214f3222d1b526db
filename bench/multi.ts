import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { createApp } from '../src/app.js';
import { silentLogger } from '../src/logger.js';
import { contactRulesOf, importLeases } from '../src/operations/import-leases.js';
import { runTick } from '../src/schedule/tick.js';
import { ManualClock } from '../src/time/clock.js';
import { emit, leaseCsv, NOW, perSecond, ratio, round, spawnJsonChild, workerConfig, workerEnv } from './lib.js';

/**
 * Send throughput of three worker processes against one, on one Redis and one SQLite file, when the
 * provider takes 50 ms per call (the sandbox's latencyMs, in a process of its own). The sends are
 * queued on a paused queue first; the clock runs from resuming it to the last link open.
 */
const LINKS = Number(process.env['BENCH_MULTI_LINKS'] ?? 600);
const LATENCY_MS = 50;

export async function benchMultiProcess(dir: string, redisUrl: string, redis: Redis): Promise<void> {
  const sandbox = spawnJsonChild('child-sandbox.ts', [JSON.stringify({ latencyMs: LATENCY_MS })]);
  try {
    const { url } = await sandbox.next<{ url: string }>();
    const one = await sendWith(1, dir, redisUrl, url);
    await redis.flushall();
    const three = await sendWith(3, dir, redisUrl, url);
    await redis.flushall();
    emit({
      bench: 'send.three-processes-vs-one',
      links: LINKS,
      providerLatencyMs: LATENCY_MS,
      concurrencyPerProcess: 4,
      oneProcess: { ms: round(one), perSecond: perSecond(LINKS, one) },
      threeProcesses: { ms: round(three), perSecond: perSecond(LINKS, three) },
      speedup: ratio(one, three),
      goal: '>= 1.8x',
    });
  } finally {
    sandbox.send('done');
    await sandbox.exited;
  }
}

async function sendWith(processes: number, dir: string, redisUrl: string, sandboxUrl: string): Promise<number> {
  const settings = {
    dir,
    db: join(dir, `multi-${processes}.db`),
    redisUrl,
    sandboxUrl,
    prefix: `multi${processes}`,
    extra: { SEND_CONCURRENCY: '4', STATUS_CONCURRENCY: '4' },
  };
  const env = workerEnv(settings);
  const clock = new ManualClock(NOW);
  const app = await createApp({ config: workerConfig(settings), clock, logger: silentLogger });
  try {
    importLeases(app.db, clock, leaseCsv(LINKS, `M${processes}`), contactRulesOf(app.registry));
    const queue = app.queues.send(app.registry.defaultAccount.account);
    await queue.pause();
    await runTick(app);
    const children = Array.from({ length: processes }, () => spawnJsonChild('child-worker.ts', [JSON.stringify(env)]));
    for (const child of children) await child.next();
    const open = app.db.$client.prepare("SELECT COUNT(*) FROM payment_links WHERE status = 'open'").pluck();
    const started = performance.now();
    await queue.resume();
    while ((open.get() as number) < LINKS) await new Promise((resolve) => setTimeout(resolve, 10));
    const ms = performance.now() - started;
    for (const child of children) child.send('done');
    await Promise.all(children.map((child) => child.exited));
    return ms;
  } finally {
    await app.close();
  }
}
