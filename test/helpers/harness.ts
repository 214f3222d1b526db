import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { ManualClock } from '../../src/time/clock.js';
import { loadConfig } from '../../src/config.js';
import { createHttpApp, listenHttp, type HttpServer, type RouteRegistrar } from '../../src/http/server.js';
import { contactRulesOf, importLeases } from '../../src/operations/import-leases.js';
import { silentLogger } from '../../src/logger.js';
import { freePort } from '../../src/redis.js';
import { startWorkers, waitUntilIdle, type Workers } from '../../src/runtime.js';
import { startSandbox, type SandboxHandle, type SandboxOptions } from '../../src/sandbox/server.js';
import { runTick, type TickResult } from '../../src/schedule/tick.js';

export const WEBHOOK_SECRET = 'test-webhook-secret';

export interface HarnessOptions {
  /** The instant the shared clock starts at. */
  now: string;
  /** Extra environment for loadConfig (e.g. POLL_PLAN, REISSUE_CHANNEL, ADMIN_TOKEN). */
  env?: Record<string, string>;
  sandbox?: Omit<SandboxOptions, 'clock' | 'webhookUrl' | 'webhookSecret'>;
  /** Start the worker's HTTP server (callbacks, webhooks, extras); the sandbox then sends webhooks to it. */
  http?: boolean;
  extraRoutes?: RouteRegistrar[];
}

/**
 * The real system for one test: a fresh SQLite file, the run's real redis-server with a unique queue
 * prefix, the sandbox over real HTTP with the production MyFatoorah client pointed at it, and one
 * ManualClock shared by worker and sandbox so tests move time instead of sleeping.
 */
export interface Harness {
  app: App;
  clock: ManualClock;
  sandbox: SandboxHandle;
  http: HttpServer | null;
  dir: string;
  /** Starts the send and status workers (once). */
  startWorkers(): Workers;
  /** Runs one tick, then waits until both queues are idle. */
  tickAndSettle(): Promise<TickResult>;
  /** Waits until both queues are idle (fails the test after 30 s). */
  settle(): Promise<void>;
  importCsv(csv: string): void;
  /** What a Redis restarted empty looks like to this test's queues: every job and the incarnation gone. */
  wipeRedis(): Promise<void>;
  /** Runs `fn` with no worker taking jobs (they are stopped, and started again by the next tickAndSettle). */
  workersPaused(fn: () => Promise<void>): Promise<void>;
  close(): Promise<void>;
}

export async function createHarness(options: HarnessOptions): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'rentlink-test-'));
  const clock = new ManualClock(options.now);
  const httpPort = options.http ? await freePort() : 0;
  const sandbox = await startSandbox({
    clock,
    ...options.sandbox,
    ...(options.http
      ? {
          webhookUrl: `http://127.0.0.1:${httpPort}/webhooks/myfatoorah`,
          webhookSecret: WEBHOOK_SECRET,
          webhookRetryDelayMs: 50,
        }
      : {}),
  });
  const config = loadConfig({
    DATABASE_PATH: join(dir, 'rentlink.db'),
    REDIS_URL: inject('redisUrl'),
    QUEUE_PREFIX: `t${randomUUID().slice(0, 8)}`,
    MYFATOORAH_TOKEN: 'sandbox-token',
    MYFATOORAH_BASE_URL: sandbox.url,
    MYFATOORAH_WEBHOOK_SECRET: WEBHOOK_SECRET,
    PROVIDER_TIMEOUT_MS: '2000',
    RETRY_BASE_DELAY_MS: '20',
    POLL_JITTER: '0',
    SHUTDOWN_TIMEOUT_MS: '5000',
    ...(options.http ? { PUBLIC_BASE_URL: `http://127.0.0.1:${httpPort}`, HTTP_PORT: String(httpPort) } : {}),
    ...options.env,
  });
  const app = await createApp({ config, clock, logger: silentLogger });
  const http = options.http ? await listenHttp(createHttpApp(app, options.extraRoutes), httpPort, '127.0.0.1') : null;
  let workers: Workers | null = null;
  const harness: Harness = {
    app,
    clock,
    sandbox,
    http,
    dir,
    startWorkers: () => (workers ??= startWorkers(app)),
    settle: async () => {
      if (!(await waitUntilIdle(app, { timeoutMs: 30_000, pollMs: 20 })))
        throw new Error('queues did not become idle within 30 s');
    },
    tickAndSettle: async () => {
      harness.startWorkers();
      const result = await runTick(app);
      await harness.settle();
      return result;
    },
    importCsv: (csv) => void importLeases(app.db, clock, csv, contactRulesOf(app.registry)),
    workersPaused: async (fn) => {
      await workers?.close(5000);
      workers = null;
      await fn();
    },
    wipeRedis: async () => {
      for (const { queue } of app.queues.all()) await queue.obliterate({ force: true });
      await app.connection.del(`${config.QUEUE_PREFIX}:incarnation`);
    },
    close: async () => {
      await workers?.close(5000);
      await http?.close();
      await sandbox.close();
      for (const { queue } of app.queues.all()) await queue.obliterate({ force: true }).catch(() => {});
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return harness;
}

export const CSV_HEADER =
  'lease_ref,tenant_name,email,mobile,mobile_country_code,language,unit,amount,currency,due_day,lead_days,valid_days,timezone,channel,starts_on,ends_on,max_reissues';

/** One CSV lease line with sensible defaults (KWD, Asia/Kuwait, due on the 1st, 5 lead days). */
export function leaseLine(overrides: Partial<Record<string, string>> = {}): string {
  const row: Record<string, string> = {
    lease_ref: 'L-1',
    tenant_name: 'Test Tenant',
    email: 'tenant@example.com',
    mobile: '51234567',
    mobile_country_code: '+965',
    language: 'en',
    unit: 'Unit 1',
    amount: '250.500',
    currency: 'KWD',
    due_day: '1',
    lead_days: '5',
    valid_days: '10',
    timezone: 'Asia/Kuwait',
    channel: 'ALL',
    starts_on: '2026-12-01',
    ends_on: '',
    max_reissues: '2',
    ...overrides,
  };
  return CSV_HEADER.split(',')
    .map((c) => row[c] ?? '')
    .join(',');
}

export function csvOf(...lines: string[]): string {
  return [CSV_HEADER, ...lines].join('\n');
}
