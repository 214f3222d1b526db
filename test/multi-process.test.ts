import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { charges, events, paymentLinks } from '../src/db/schema.js';
import { createHarness, csvOf, leaseLine, type Harness } from './helpers/harness.js';

/**
 * Three real worker processes (test/helpers/worker-process.ts, run with `npx tsx`) on one SQLite file
 * and one Redis, ticking and working both queues at the same time, against the sandbox over HTTP with
 * some creates whose answer is lost. However the work interleaves: one link per charge, one invoice
 * per reference at the provider, no job failed, no SQLITE_BUSY.
 */
const NOW = '2026-11-27T06:00:00Z';
const LEASES = 60;
let h: Harness;

interface Child {
  next(): Promise<Record<string, unknown>>;
  send(line: string): void;
  stderr(): string;
  exited: Promise<number | null>;
}

function startWorkerProcess(): Child {
  const config = h.app.config;
  const child = spawn('npx', ['tsx', 'test/helpers/worker-process.ts', NOW], {
    env: {
      PATH: process.env['PATH'] ?? '',
      DATABASE_PATH: config.DATABASE_PATH,
      REDIS_URL: config.REDIS_URL ?? '',
      QUEUE_PREFIX: config.QUEUE_PREFIX,
      MYFATOORAH_TOKEN: 'sandbox-token',
      MYFATOORAH_BASE_URL: config.MYFATOORAH_BASE_URL,
      PROVIDER_TIMEOUT_MS: '2000',
      RETRY_BASE_DELAY_MS: '20',
      SEND_CONCURRENCY: '4',
      POLL_JITTER: '0',
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let errors = '';
  child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const lines: string[] = [];
  const waiting: Array<(line: string) => void> = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    const waiter = waiting.shift();
    if (waiter) waiter(line);
    else lines.push(line);
  });
  return {
    next: async () =>
      JSON.parse(lines.shift() ?? (await new Promise<string>((resolve) => waiting.push(resolve)))) as Record<
        string,
        unknown
      >,
    send: (line) => void child.stdin.write(`${line}\n`),
    stderr: () => errors,
    exited: new Promise((resolve) => child.on('exit', resolve)),
  };
}

beforeAll(async () => {
  h = await createHarness({ now: NOW });
  h.importCsv(csvOf(...Array.from({ length: LEASES }, (_, i) => leaseLine({ lease_ref: `MP-${i}` }))));
  // Some creates are done at the provider but their answer never arrives: the retry, in whichever
  // process takes it, must look the reference up and adopt the invoice instead of making a second.
  h.sandbox.injectFault('SendPayment', { kind: 'lost' }, 6);
});
afterAll(async () => h?.close());

describe('three worker processes on one database and one Redis', () => {
  it('make exactly one link per charge and one invoice per reference', async () => {
    const children = [startWorkerProcess(), startWorkerProcess(), startWorkerProcess()];
    for (const child of children) expect(await child.next()).toMatchObject({ ready: true });
    for (const child of children) child.send('go');
    const reports = await Promise.all(children.map((child) => child.next()));
    for (const child of children) child.send('stop');
    const codes = await Promise.all(children.map((child) => child.exited));

    expect(codes).toEqual([0, 0, 0]);
    for (const report of reports) expect(report).toMatchObject({ done: true, idle: true });
    for (const child of children) {
      expect(child.stderr()).not.toContain('SQLITE_BUSY');
      expect(child.stderr()).not.toMatch(/"level":50/); // no error logged: no job failed for good
    }
    expect(await h.app.queues.send('default').getFailedCount()).toBe(0);

    const allCharges = h.app.db.select().from(charges).all();
    const links = h.app.db.select().from(paymentLinks).all();
    expect(allCharges).toHaveLength(LEASES);
    expect(allCharges.every((c) => c.status === 'invoiced')).toBe(true);
    expect(links).toHaveLength(LEASES);
    expect(new Set(links.map((l) => l.chargeId)).size).toBe(LEASES);
    expect(links.every((l) => l.status === 'open' && l.providerLinkId !== null)).toBe(true);
    for (const link of links) expect(h.sandbox.invoicesByReference(link.reference)).toHaveLength(1);
    expect(h.sandbox.invoices()).toHaveLength(LEASES);
    // The six lost answers were retried and adopted, not created again.
    expect(links.filter((l) => l.createCalls !== 1)).toEqual([]);
    expect(h.app.db.select().from(events).where(eq(events.type, 'link.adopted')).all()).toHaveLength(6);
  });
});
