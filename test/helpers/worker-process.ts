/**
 * One rentlink worker process for test/multi-process.test.ts: the configuration comes from the
 * environment (src/config.ts), time stands at argv[2] (a ManualClock: every process at the same
 * instant). It starts its send and status workers, and on `go` runs ticks while the workers take jobs,
 * until the queues are idle; then it reports and waits for `stop`. Lines on stdout are JSON.
 */
import { createInterface } from 'node:readline';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { startWorkers, waitUntilIdle } from '../../src/runtime.js';
import { runTick } from '../../src/schedule/tick.js';
import { ManualClock } from '../../src/time/clock.js';

const say = (value: object) => process.stdout.write(`${JSON.stringify(value)}\n`);
const config = loadConfig();
// Errors (a failed job, SQLITE_BUSY) go to stderr, where the test looks for them.
const app = await createApp({
  config,
  clock: new ManualClock(process.argv[2] ?? 0),
  logger: createLogger('error', process.stderr),
});
const workers = startWorkers(app);
let failed = 0;
for (const worker of [...workers.send, ...workers.status]) worker.on('failed', () => failed++);
say({ ready: true, pid: process.pid });
for await (const command of createInterface({ input: process.stdin })) {
  if (command === 'go') {
    let ticks = 0;
    let queued = 0;
    // Ticks race each other and the other processes' workers, as cron in three `start` processes would.
    for (let i = 0; i < 5; i++) {
      const tick = await runTick(app);
      ticks++;
      queued += tick.sendJobs + tick.statusJobs;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const idle = await waitUntilIdle(app, { timeoutMs: 60_000, pollMs: 20 });
    say({ done: true, ticks, queued, idle, failed });
  } else break;
}
await workers.close(5000);
await app.close();
process.exit(0);
