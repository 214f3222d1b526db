import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { createApp, type App } from '../src/app.js';
import { tickAndWait } from '../src/cli/core.js';
import { silentLogger } from '../src/logger.js';
import { contactRulesOf, importLeases } from '../src/operations/import-leases.js';
import { connectRedis } from '../src/redis.js';
import { startWorkers, waitUntilIdle } from '../src/runtime.js';
import { runTick } from '../src/schedule/tick.js';
import { ManualClock, MINUTE } from '../src/time/clock.js';
import { emit, leaseCsv, LINKS, NOW, percentile, perSecond, ratio, round, workerConfig } from './lib.js';

/**
 * The send and status pipelines against the sandbox (its own process, no latency), each beside bare
 * code doing the essential work at the same concurrency: a BullMQ worker, one `fetch` to the provider
 * and one SQLite statement per job.
 */
const CONCURRENCY = 8;

export async function benchPipelines(dir: string, redisUrl: string, sandboxUrl: string, redis: Redis): Promise<void> {
  const clock = new ManualClock(NOW);
  const config = workerConfig({ dir, db: join(dir, 'send.db'), redisUrl, sandboxUrl, prefix: 'send' });
  const app = await createApp({ config, clock, logger: silentLogger });
  try {
    importLeases(app.db, clock, leaseCsv(LINKS, 'S'), contactRulesOf(app.registry));
    const started = performance.now();
    const run = await tickAndWait(app, 600_000);
    const ms = performance.now() - started;
    const bare = await bareSends(dir, redisUrl, sandboxUrl, LINKS);
    emit({
      bench: 'send.links-tick-wait',
      links: run.linksCreated,
      failures: run.failureCount,
      ms: round(ms),
      perSecond: perSecond(run.linksCreated, ms),
      concurrency: CONCURRENCY,
      baseline: {
        what: 'BullMQ worker + fetch SendPayment + one SQLite insert, same concurrency (addBulk included)',
        ms: round(bare.ms),
        perSecond: perSecond(LINKS, bare.ms),
      },
      ratioToBare: ratio(bare.ms, ms),
      goal: '>= 0.8x bare',
    });
    await redis.flushall();
    await benchStatus(app, clock, dir, redisUrl, sandboxUrl);
  } finally {
    await app.close();
  }
}

async function benchStatus(app: App, clock: ManualClock, dir: string, redisUrl: string, sandboxUrl: string) {
  const invoiceIds = (
    app.db.$client.prepare("SELECT provider_invoice_id AS id FROM payment_links WHERE status = 'open'").all() as Array<{
      id: string;
    }>
  ).map((r) => r.id);
  // Redis was flushed: the first tick notices and forgets the queued markers; then every link is due.
  await runTick(app);
  clock.advance(16 * MINUTE);
  const workers = startWorkers(app);
  const started = performance.now();
  const tick = await runTick(app);
  await waitUntilIdle(app, { timeoutMs: 600_000, pollMs: 20 });
  const ms = performance.now() - started;
  const latencies = (await app.queues.status(app.registry.defaultAccount.account).getCompleted(0, -1)).map(
    (j) => (j.finishedOn ?? 0) - (j.processedOn ?? 0),
  );
  await workers.close(5000);
  const bare = await bareChecks(dir, redisUrl, sandboxUrl, invoiceIds);
  emit({
    bench: 'status.checks',
    checks: tick.statusJobs,
    ms: round(ms),
    perSecond: perSecond(tick.statusJobs, ms),
    p50Ms: percentile(latencies, 50),
    p95Ms: percentile(latencies, 95),
    rateLimit: 'ceiling 100000/s (off)',
    baseline: {
      what: 'BullMQ worker + fetch GetPaymentStatus + one SQLite update, same concurrency (addBulk included)',
      ms: round(bare.ms),
      perSecond: perSecond(invoiceIds.length, bare.ms),
      p50Ms: percentile(bare.latencies, 50),
      p95Ms: percentile(bare.latencies, 95),
    },
    ratioToBare: ratio(bare.ms, ms),
    goal: '>= 0.8x bare',
  });
}

interface BareRun {
  ms: number;
  latencies: number[];
}

/** Adds `count` jobs and works them with a plain BullMQ worker running `work`, until all are done. */
async function bareQueue<T>(
  redisUrl: string,
  name: string,
  items: T[],
  work: (item: T) => Promise<void>,
): Promise<BareRun> {
  const connection = connectRedis(redisUrl);
  const workerConnection = connectRedis(redisUrl);
  const queue = new Queue(name, { connection, prefix: 'bare' });
  let done = 0;
  const latencies: number[] = [];
  const finished = new Promise<void>((resolve) => {
    const worker = new Worker(name, async (job: Job<{ item: T }>) => work(job.data.item), {
      connection: workerConnection,
      prefix: 'bare',
      concurrency: CONCURRENCY,
    });
    worker.on('completed', (job) => {
      latencies.push((job.finishedOn ?? 0) - (job.processedOn ?? 0));
      if (++done === items.length) void worker.close().then(resolve);
    });
  });
  const started = performance.now();
  for (let i = 0; i < items.length; i += 1000) {
    await queue.addBulk(
      items.slice(i, i + 1000).map((item) => ({ name, data: { item }, opts: { removeOnComplete: true } })),
    );
  }
  await finished;
  const ms = performance.now() - started;
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  workerConnection.disconnect();
  return { ms, latencies };
}

const post = (sandboxUrl: string, endpoint: string, body: unknown) =>
  fetch(`${sandboxUrl}/v2/${endpoint}`, {
    method: 'POST',
    headers: { authorization: 'Bearer sandbox-token', 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
  }).then((r) => r.json() as Promise<{ IsSuccess: boolean; Data: Record<string, unknown> }>);

async function bareSends(dir: string, redisUrl: string, sandboxUrl: string, count: number): Promise<BareRun> {
  const db = new Database(join(dir, 'bare-send.db'));
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE links (id INTEGER PRIMARY KEY, reference TEXT UNIQUE, invoice_id TEXT, url TEXT)');
  const insert = db.prepare('INSERT INTO links (reference, invoice_id, url) VALUES (?, ?, ?)');
  const run = await bareQueue(
    redisUrl,
    'bare-send',
    Array.from({ length: count }, (_, i) => i),
    async (i) => {
      const answer = await post(sandboxUrl, 'SendPayment', {
        NotificationOption: 'LNK',
        CustomerName: `Tenant ${i}`,
        InvoiceValue: 250.5,
        DisplayCurrencyIso: 'KWD',
        Language: 'en',
        CustomerReference: `BARE-${i}`,
        ExpiryDate: '2026-12-11T23:59:59',
      });
      if (!answer.IsSuccess) throw new Error('SendPayment failed');
      insert.run(`BARE-${i}`, String(answer.Data['InvoiceId']), String(answer.Data['InvoiceURL']));
    },
  );
  db.close();
  return run;
}

async function bareChecks(dir: string, redisUrl: string, sandboxUrl: string, invoiceIds: string[]): Promise<BareRun> {
  const db = new Database(join(dir, 'bare-status.db'));
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE checks (invoice_id TEXT PRIMARY KEY, status TEXT, polls INTEGER NOT NULL DEFAULT 0)');
  const add = db.prepare('INSERT INTO checks (invoice_id) VALUES (?)');
  db.transaction(() => invoiceIds.forEach((id) => add.run(id)))();
  const update = db.prepare('UPDATE checks SET status = ?, polls = polls + 1 WHERE invoice_id = ?');
  const run = await bareQueue(redisUrl, 'bare-status', invoiceIds, async (invoiceId) => {
    const answer = await post(sandboxUrl, 'GetPaymentStatus', { Key: invoiceId, KeyType: 'InvoiceId' });
    if (!answer.IsSuccess) throw new Error('GetPaymentStatus failed');
    update.run(String(answer.Data['InvoiceStatus']), invoiceId);
  });
  db.close();
  return run;
}
