import { join } from 'node:path';
import { sendHttp } from '../src/providers/http.js';
import { emit, perSecond, round, spawnJsonChild } from './lib.js';

/**
 * The sandbox under load: SendPayment calls per second on a fresh sandbox and again once it holds
 * BENCH_SANDBOX_INVOICES invoices (default 50,000), with its records in a file (one record per change,
 * as the built-in sandbox keeps them). Flat means every change costs the same however much is stored.
 */
const INVOICES = Number(process.env['BENCH_SANDBOX_INVOICES'] ?? 50_000);
const SAMPLE = 2000;
const WARM_UP = 5000;
const CONCURRENCY = 16;

export async function benchSandboxLoad(dir: string): Promise<void> {
  const child = spawnJsonChild('child-sandbox.ts', [JSON.stringify({ statePath: join(dir, 'sandbox-state.db') })]);
  try {
    const { url } = await child.next<{ url: string }>();
    let next = 0;
    const send = async (count: number) => {
      const started = performance.now();
      let done = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (done < count) {
            done++;
            const i = next++;
            const answer = await sendHttp(`${url}/v2/SendPayment`, {
              method: 'POST',
              headers: { authorization: 'Bearer sandbox-token', accept: 'application/json' },
              json: {
                NotificationOption: 'LNK',
                CustomerName: `Tenant ${i}`,
                InvoiceValue: 250.5,
                DisplayCurrencyIso: 'KWD',
                CustomerReference: `LOAD-${i}`,
                ExpiryDate: '2026-12-11T23:59:59',
              },
              timeoutMs: 15_000,
            });
            if (answer.status !== 200) throw new Error(`SendPayment answered ${answer.status}: ${answer.text}`);
          }
        }),
      );
      return performance.now() - started;
    };
    await send(WARM_UP); // JIT and connections warm, so the first sample measures the store, not start-up
    const startMs = await send(SAMPLE);
    const fillStarted = performance.now();
    await send(Math.max(0, INVOICES - 2 * SAMPLE - WARM_UP));
    const fillMs = performance.now() - fillStarted;
    const endMs = await send(SAMPLE);
    emit({
      bench: 'sandbox.under-load',
      invoices: next,
      store: 'file (one record per change)',
      startLinksPerSecond: perSecond(SAMPLE, startMs),
      fillLinksPerSecond: perSecond(Math.max(0, INVOICES - 2 * SAMPLE - WARM_UP), fillMs),
      endLinksPerSecond: perSecond(SAMPLE, endMs),
      endToStart: round(startMs / endMs, 2),
      samples: `${SAMPLE} calls after a warm-up of ${WARM_UP}, and ${SAMPLE} more once ${next - SAMPLE} invoices are stored`,
      concurrency: CONCURRENCY,
      goal: 'flat (end/start about 1)',
    });
  } finally {
    child.send('done');
    await child.exited;
  }
}
