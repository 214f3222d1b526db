/**
 * A bench child that runs ticks on a prepared database, in a process of its own so its peak RSS is the
 * tick's (plus the process's start-up floor, reported beside it).
 * - `ours`: rentlink's runTick: the first tick of the month, then the next ticks with nothing new.
 * - `bare`: the essential work with nothing else: read the leases, insert their charges in one
 *   transaction, addBulk the send jobs in chunks of 2,000.
 * Both wait for `go` on stdin after start-up and answer in JSON lines.
 */
import Database from 'better-sqlite3';
import { Queue } from 'bullmq';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/logger.js';
import { connectRedis } from '../src/redis.js';
import { sendJobId, sendJobOptions } from '../src/queues.js';
import { runTick } from '../src/schedule/tick.js';
import { ManualClock } from '../src/time/clock.js';
import { commands, maxRssMb, NOW, round } from './lib.js';

const [mode = 'ours', envJson = '{}'] = process.argv.slice(2);
const env = JSON.parse(envJson) as Record<string, string>;
const answer = (value: object) => process.stdout.write(`${JSON.stringify(value)}\n`);
const rssMb = () => round(process.memoryUsage.rss() / 1048576);
/** Where the memory is after the tick: the V8 heap in use and reserved, in MB. */
const heap = () => {
  const m = process.memoryUsage();
  return {
    usedMb: round(m.heapUsed / 1048576),
    totalMb: round(m.heapTotal / 1048576),
    externalMb: round(m.external / 1048576),
    arrayBuffersMb: round(m.arrayBuffers / 1048576),
  };
};

async function ours(): Promise<void> {
  const clock = new ManualClock(NOW);
  const app = await createApp({ config: loadConfig(env), clock, logger: silentLogger });
  answer({ ready: true, rssMb: rssMb(), maxRssMb: maxRssMb(), heap: heap() });
  for await (const command of commands()) {
    if (command === 'first') {
      const started = performance.now();
      const result = await runTick(app);
      answer({ ms: round(performance.now() - started), ...result, rssMb: rssMb(), maxRssMb: maxRssMb(), heap: heap() });
    } else if (command === 'steady') {
      // What every minute costs once the month is charged: several runs, the slowest and the median.
      const runs: number[] = [];
      let last = null;
      for (let i = 0; i < 9; i++) {
        clock.advance(60_000);
        const started = performance.now();
        last = await runTick(app);
        runs.push(performance.now() - started);
      }
      runs.sort((a, b) => a - b);
      answer({ medianMs: round(runs[4] ?? 0, 2), maxMs: round(runs.at(-1) ?? 0, 2), ...last });
    } else break;
  }
  await app.close();
}

async function bare(): Promise<void> {
  const db = new Database(env['DATABASE_PATH'] as string);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const connection = connectRedis(env['REDIS_URL'] as string);
  const queue = new Queue('send-bare', { connection, prefix: env['QUEUE_PREFIX'] as string });
  const options = sendJobOptions(loadConfig(env));
  answer({ ready: true, rssMb: rssMb(), maxRssMb: maxRssMb() });
  for await (const command of commands()) {
    if (command !== 'first') break;
    const now = Date.parse(NOW);
    const started = performance.now();
    const leases = db.prepare('SELECT id, amount_minor, currency FROM leases').all() as Array<{
      id: number;
      amount_minor: number;
      currency: string;
    }>;
    const insert = db.prepare(
      `INSERT INTO charges (lease_id, period, due_date, send_at, amount_minor, currency, status, next_send_at,
       created_at, updated_at) VALUES (?, '2026-12', '2026-12-01', ?, ?, ?, 'scheduled', ?, ?, ?) RETURNING id`,
    );
    const ids = db.transaction(() =>
      leases.map((l) => (insert.get(l.id, now, l.amount_minor, l.currency, now, now, now) as { id: number }).id),
    )();
    for (let i = 0; i < ids.length; i += 2000) {
      await queue.addBulk(
        ids.slice(i, i + 2000).map((chargeId) => ({
          name: 'send',
          data: { chargeId, attempt: 1 },
          opts: { ...options, jobId: sendJobId(chargeId, 1) },
        })),
      );
    }
    answer({ ms: round(performance.now() - started), charges: ids.length, maxRssMb: maxRssMb() });
  }
  await queue.close();
  connection.disconnect();
  db.close();
}

await (mode === 'bare' ? bare() : ours());
process.exit(0);
