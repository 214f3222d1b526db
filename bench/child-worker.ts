/**
 * A bench child that is one rentlink worker process: its send and status workers (startWorkers), on
 * the database and Redis its environment names (argv[2], JSON). It prints `{ ready }` once its workers
 * are connected and runs until stdin says `done`.
 */
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/logger.js';
import { startWorkers } from '../src/runtime.js';
import { ManualClock } from '../src/time/clock.js';
import { commands, NOW } from './lib.js';

const app = await createApp({
  config: loadConfig(JSON.parse(process.argv[2] ?? '{}') as Record<string, string>),
  clock: new ManualClock(NOW),
  logger: silentLogger,
});
const workers = startWorkers(app);
await Promise.all([...workers.send, ...workers.status].map((w) => w.waitUntilReady()));
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
for await (const command of commands()) if (command === 'done') break;
await workers.close(5000);
await app.close();
process.exit(0);
