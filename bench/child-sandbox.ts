/**
 * A bench child running the MyFatoorah sandbox in a process of its own, so the worker under test and
 * the bare baselines share neither its event loop nor its CPU accounting. Prints `{ url }`, then serves
 * until stdin closes or says `done`.
 * Arguments: a JSON object with `latencyMs` (every API call waits this long) and `statePath` (keep the
 * invoices in this file, one record per change, like the built-in sandbox does).
 */
import { startSandbox } from '../src/sandbox/server.js';
import { ManualClock } from '../src/time/clock.js';
import { commands, NOW } from './lib.js';

const options = JSON.parse(process.argv[2] ?? '{}') as { latencyMs?: number; statePath?: string };
// Business time stands still at NOW: the worker moves its own clock, expiry checks stay on its side.
const sandbox = await startSandbox({ clock: new ManualClock(NOW), ...options });
process.stdout.write(`${JSON.stringify({ url: sandbox.url })}\n`);
for await (const command of commands()) {
  if (command === 'requests') process.stdout.write(`${JSON.stringify({ requests: sandbox.requests.length })}\n`);
  else break;
}
await sandbox.close();
process.exit(0);
