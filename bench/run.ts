/**
 * `npm run bench`: measures rentlink's hot paths and prints one JSON line per figure, each next to a
 * baseline measured in the same run on the same machine:
 * - tick: charges created per second vs. a bare better-sqlite3 insert of the same rows;
 * - send: links created per second through queue + SQLite + provider vs. calling the provider directly;
 * - status: per-check latency (p50/p95) through the queue vs. direct GetPaymentStatus calls;
 * - memory: RSS and heap after the run.
 * Everything runs locally: a private redis-server, a temp SQLite file, the sandbox on loopback.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createApp } from '../src/app.js';
import { ManualClock, MINUTE } from '../src/time/clock.js';
import { loadConfig } from '../src/config.js';
import { charges, paymentLinks } from '../src/db/schema.js';
import { contactRulesOf, importLeases } from '../src/operations/import-leases.js';
import { silentLogger } from '../src/logger.js';
import { MyFatoorahProvider } from '../src/providers/myfatoorah/client.js';
import { startEmbeddedRedis } from '../src/redis.js';
import { startWorkers, waitUntilIdle } from '../src/runtime.js';
import { startSandbox } from '../src/sandbox/server.js';
import { createDueCharges, runTick } from '../src/schedule/tick.js';

const LEASES = Number(process.env['BENCH_LEASES'] ?? 2000);
const LINKS = Number(process.env['BENCH_LINKS'] ?? 400);
const NOW = '2026-11-27T06:00:00Z';

const emit = (figure: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(figure)}\n`);
const perSecond = (n: number, ms: number) => Number(((n * 1000) / ms).toFixed(1));
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return Number((sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0).toFixed(2));
};

function csv(count: number): string {
  const header =
    'lease_ref,tenant_name,email,mobile,mobile_country_code,language,unit,amount,currency,due_day,lead_days,valid_days,timezone,channel,starts_on,ends_on,max_reissues';
  const rows = Array.from(
    { length: count },
    (_, i) =>
      `B-${i},Tenant ${i},t${i}@example.com,5${String(1000000 + i).padStart(7, '0')},+965,en,Unit ${i},${250 + (i % 50)}.500,KWD,1,${5 + (i % 3)},10,Asia/Kuwait,LNK,2026-12-01,,2`,
  );
  return [header, ...rows].join('\n');
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rentlink-bench-'));
  const redis = await startEmbeddedRedis({ dataDir: join(dir, 'redis'), appendOnly: false });
  const clock = new ManualClock(NOW);
  const sandbox = await startSandbox({ clock });
  try {
    await benchTick(dir, redis.url, sandbox.url, clock);
    await benchSendAndStatus(dir, redis.url, sandbox.url, clock);
    const memory = process.memoryUsage();
    emit({
      bench: 'memory',
      rssMb: Math.round(memory.rss / 1048576),
      heapUsedMb: Math.round(memory.heapUsed / 1048576),
    });
  } finally {
    await sandbox.close();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function config(dir: string, name: string, redisUrl: string, sandboxUrl: string) {
  return loadConfig({
    DATABASE_PATH: join(dir, `${name}.db`),
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: name,
    MYFATOORAH_TOKEN: 'sandbox-token',
    MYFATOORAH_BASE_URL: sandboxUrl,
    SEND_CONCURRENCY: '8',
    STATUS_CONCURRENCY: '8',
    STATUS_RATE_LIMIT_PER_SECOND: '100000',
    POLL_JITTER: '0',
  });
}

async function benchTick(dir: string, redisUrl: string, sandboxUrl: string, clock: ManualClock): Promise<void> {
  const app = await createApp({ config: config(dir, 'tick', redisUrl, sandboxUrl), clock, logger: silentLogger });
  try {
    importLeases(app.db, clock, csv(LEASES), contactRulesOf(app.registry));
    const started = performance.now();
    const created = createDueCharges(app, clock.now());
    const ms = performance.now() - started;
    const baselineMs = bareInsertBaseline(dir, created);
    emit({
      bench: 'tick.create-charges',
      leases: LEASES,
      charges: created,
      ms: Math.round(ms),
      perSecond: perSecond(created, ms),
      baseline: {
        what: 'bare better-sqlite3 insert, one transaction',
        ms: Math.round(baselineMs),
        perSecond: perSecond(created, baselineMs),
      },
    });
    const queueStarted = performance.now();
    const tick = await runTick(app);
    emit({
      bench: 'tick.queue-sends',
      jobs: tick.sendJobs,
      ms: Math.round(performance.now() - queueStarted),
      perSecond: perSecond(tick.sendJobs, performance.now() - queueStarted),
    });
    // What every minute costs once the month's charges exist: nothing new, every job id already queued.
    const steadyStarted = performance.now();
    const again = createDueCharges(app, clock.now());
    emit({
      bench: 'tick.steady-state-charges',
      leases: LEASES,
      chargesCreated: again,
      ms: Math.round(performance.now() - steadyStarted),
      note: 'every minute once the month is charged: due-date math for every active lease, nothing new',
    });
  } finally {
    for (const { queue } of app.queues.all()) await queue.obliterate({ force: true });
    await app.close();
  }
}

function bareInsertBaseline(dir: string, rows: number): number {
  const db = new Database(join(dir, 'baseline.db'));
  db.pragma('journal_mode = WAL');
  db.exec(
    'CREATE TABLE c (id INTEGER PRIMARY KEY, lease_id INT, period TEXT, due_date TEXT, amount INT, UNIQUE(lease_id, period))',
  );
  const insert = db.prepare('INSERT OR IGNORE INTO c (lease_id, period, due_date, amount) VALUES (?, ?, ?, ?)');
  const started = performance.now();
  db.transaction(() => {
    for (let i = 0; i < rows; i++) insert.run(i, '2026-12', '2026-12-01', 250500);
  })();
  const ms = performance.now() - started;
  db.close();
  return ms;
}

async function benchSendAndStatus(
  dir: string,
  redisUrl: string,
  sandboxUrl: string,
  clock: ManualClock,
): Promise<void> {
  const app = await createApp({ config: config(dir, 'send', redisUrl, sandboxUrl), clock, logger: silentLogger });
  const workers = startWorkers(app);
  try {
    importLeases(app.db, clock, csv(LINKS), contactRulesOf(app.registry));
    const started = performance.now();
    await runTick(app);
    await waitUntilIdle(app, { timeoutMs: 300_000, pollMs: 20 });
    const ms = performance.now() - started;
    const open = app.db
      .select()
      .from(paymentLinks)
      .all()
      .filter((l) => l.status === 'open').length;
    const baseline = await directCreateBaseline(sandboxUrl, clock, LINKS);
    emit({
      bench: 'send.links',
      links: open,
      ms: Math.round(ms),
      perSecond: perSecond(open, ms),
      concurrency: 8,
      baseline: {
        what: 'direct SendPayment calls, 8 at a time, no queue/DB',
        ms: Math.round(baseline.ms),
        perSecond: perSecond(LINKS, baseline.ms),
      },
    });

    const latencies: number[] = [];
    for (const worker of workers.status)
      worker.on('completed', (job) => latencies.push((job.finishedOn ?? 0) - (job.processedOn ?? 0)));
    clock.advance(16 * MINUTE);
    const statusStarted = performance.now();
    await runTick(app);
    await waitUntilIdle(app, { timeoutMs: 300_000, pollMs: 20 });
    const statusMs = performance.now() - statusStarted;
    const direct = await directStatusBaseline(
      sandboxUrl,
      clock,
      app.db
        .select()
        .from(paymentLinks)
        .all()
        .map((l) => String(l.providerLinkId)),
    );
    emit({
      bench: 'status.checks',
      checks: latencies.length,
      perSecond: perSecond(latencies.length, statusMs),
      p50Ms: percentile(latencies, 50),
      p95Ms: percentile(latencies, 95),
      baseline: {
        what: 'direct GetPaymentStatus calls, sequential',
        p50Ms: percentile(direct, 50),
        p95Ms: percentile(direct, 95),
      },
    });
    emit({
      bench: 'send.charges-invoiced',
      charges: app.db
        .select()
        .from(charges)
        .all()
        .filter((c) => c.status === 'invoiced').length,
    });
  } finally {
    await workers.close(5000);
    for (const { queue } of app.queues.all()) await queue.obliterate({ force: true });
    await app.close();
  }
}

function directProvider(sandboxUrl: string, clock: ManualClock) {
  return new MyFatoorahProvider(
    {
      name: 'baseline',
      provider: 'myfatoorah',
      baseUrl: sandboxUrl,
      token: 'sandbox-token',
      timeZone: 'Asia/Kuwait',
      currency: 'KWD',
    },
    { timeoutMs: 15_000, clock, sandbox: true },
  );
}

async function directCreateBaseline(sandboxUrl: string, clock: ManualClock, count: number): Promise<{ ms: number }> {
  const provider = directProvider(sandboxUrl, clock);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < count) {
        const i = next++;
        await provider.createLink({
          reference: `BASE-${i}`,
          orderReference: `BASE-${i}`,
          customer: { name: 'Baseline', email: null, mobile: null, mobileCountryCode: null, language: 'en' },
          channel: 'link',
          amountMinor: 250500,
          currency: 'KWD',
          expiresAt: clock.now() + 10 * 86_400_000,
          description: 'baseline',
          metadata: {},
        });
      }
    }),
  );
  return { ms: performance.now() - started };
}

async function directStatusBaseline(sandboxUrl: string, clock: ManualClock, invoiceIds: string[]): Promise<number[]> {
  const provider = directProvider(sandboxUrl, clock);
  const latencies: number[] = [];
  for (const invoiceId of invoiceIds.slice(0, 200)) {
    const started = performance.now();
    await provider.getStatus({ providerLinkId: invoiceId, reference: '', currency: 'KWD' });
    latencies.push(performance.now() - started);
  }
  return latencies;
}

await main();
process.exit(0);
