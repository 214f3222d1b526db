import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createHttpApp, listenHttp, type HttpServer } from '../../src/http/server.js';
import { silentLogger } from '../../src/logger.js';
import { contactRulesOf, importLeases } from '../../src/operations/import-leases.js';
import { freePort } from '../../src/redis.js';
import { startWorkers, waitUntilIdle, type Workers } from '../../src/runtime.js';
import { createApsFake, type ApsSandboxHandle } from '../../src/sandbox/aps/index.js';
import { startFakeHost, type FakeHost } from '../../src/sandbox/host.js';
import { createMyFatoorahFake, type MyFatoorahSandboxHandle } from '../../src/sandbox/myfatoorah/index.js';
import { createPaymenntFake, type PaymenntFakeHandle } from '../../src/sandbox/paymennt/index.js';
import { runTick, type TickResult } from '../../src/schedule/tick.js';
import { ManualClock } from '../../src/time/clock.js';

/**
 * The real system with several accounts: one sandbox host serving the fakes of all three providers
 * (MyFatoorah `default`, APS `aps`, paymennt `paymennt`) and a second host with another MyFatoorah
 * account `mf2`, configured through an ACCOUNTS_FILE exactly as an operator writes it. Worker and
 * fakes share one ManualClock; the worker's HTTP server receives every fake's webhooks.
 */
export interface AccountsHarness {
  app: App;
  clock: ManualClock;
  http: HttpServer;
  /** The fakes, by account. */
  mf: MyFatoorahSandboxHandle;
  mf2: MyFatoorahSandboxHandle;
  aps: ApsSandboxHandle;
  paymennt: PaymenntFakeHandle;
  accountsFile: string;
  dir: string;
  startWorkers(): Workers;
  tickAndSettle(): Promise<TickResult>;
  settle(): Promise<void>;
  importCsv(csv: string): void;
  /** Restarts the app on a changed accounts file (same database, Redis and fakes). */
  reconfigure(edit: (file: AccountsFile) => AccountsFile): Promise<void>;
  close(): Promise<void>;
}

export interface AccountsFile {
  default: string;
  accounts: Array<Record<string, unknown>>;
}

export const CREDENTIALS = {
  mfToken: 'mf-test-token',
  mfWebhookSecret: 'mf-test-webhook-secret',
  aps: {
    accessCode: 'TESTACCESSCODE',
    merchantIdentifier: 'TESTMERCH',
    requestPhrase: 'req-phrase-1',
    responsePhrase: 'res-phrase-1',
  },
  paymennt: { apiKey: 'pm-key', apiSecret: 'pm-secret', webhookHmacKey: 'pm-hmac-key' },
} as const;

export async function createAccountsHarness(options: {
  now: string;
  env?: Record<string, string>;
}): Promise<AccountsHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'rentlink-accounts-'));
  const clock = new ManualClock(options.now);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const fakes = {} as {
    mf: MyFatoorahSandboxHandle;
    mf2: MyFatoorahSandboxHandle;
    aps: ApsSandboxHandle;
    paymennt: PaymenntFakeHandle;
  };
  const webhook = { webhookRetryDelayMs: 50 };
  const host = await startFakeHost(
    (ctx) => {
      const mf = createMyFatoorahFake(
        {
          token: CREDENTIALS.mfToken,
          webhookUrl: `${base}/webhooks/myfatoorah/default`,
          webhookSecret: CREDENTIALS.mfWebhookSecret,
          ...webhook,
        },
        ctx,
      );
      const aps = createApsFake({ ...CREDENTIALS.aps, webhookUrl: `${base}/webhooks/aps/aps`, ...webhook }, ctx);
      const pm = createPaymenntFake(
        { ...CREDENTIALS.paymennt, webhookUrl: `${base}/webhooks/paymennt/paymennt`, ...webhook },
        ctx,
      );
      Object.assign(fakes, { mf: mf.handle, aps: aps.handle, paymennt: pm.handle });
      return [mf.fake, aps.fake, pm.fake];
    },
    { clock },
  );
  const host2 = await startFakeHost(
    (ctx) => {
      const mf2 = createMyFatoorahFake(
        {
          token: CREDENTIALS.mfToken,
          webhookUrl: `${base}/webhooks/myfatoorah/mf2`,
          webhookSecret: CREDENTIALS.mfWebhookSecret,
          ...webhook,
        },
        ctx,
      );
      fakes.mf2 = mf2.handle;
      return [mf2.fake];
    },
    { clock },
  );
  const accountsFile = join(dir, 'accounts.json');
  writeFileSync(accountsFile, JSON.stringify(defaultAccounts(host, host2)));
  const env = {
    DATABASE_PATH: join(dir, 'rentlink.db'),
    REDIS_URL: inject('redisUrl'),
    QUEUE_PREFIX: `t${randomUUID().slice(0, 8)}`,
    ACCOUNTS_FILE: accountsFile,
    MF_TOKEN: CREDENTIALS.mfToken,
    PROVIDER_TIMEOUT_MS: '2000',
    RETRY_BASE_DELAY_MS: '20',
    POLL_JITTER: '0',
    SHUTDOWN_TIMEOUT_MS: '5000',
    PUBLIC_BASE_URL: base,
    ...options.env,
  };
  let app = await createApp({ config: loadConfig(env), clock, logger: silentLogger });
  let http = await listenHttp(createHttpApp(app), port, '127.0.0.1');
  let workers: Workers | null = null;
  const harness: AccountsHarness = {
    get app() {
      return app;
    },
    get http() {
      return http;
    },
    clock,
    ...fakes,
    accountsFile,
    dir,
    startWorkers: () => (workers ??= startWorkers(app)),
    settle: async () => {
      if (!(await waitUntilIdle(app, { timeoutMs: 30_000, pollMs: 20 })))
        throw new Error('queues not idle within 30 s');
    },
    tickAndSettle: async () => {
      harness.startWorkers();
      const result = await runTick(app);
      await harness.settle();
      return result;
    },
    importCsv: (csv) => void importLeases(app.db, clock, csv, contactRulesOf(app.registry)),
    reconfigure: async (edit) => {
      writeFileSync(accountsFile, JSON.stringify(edit(defaultAccounts(host, host2))));
      await workers?.close(5000);
      workers = null;
      await http.close();
      await app.close();
      app = await createApp({ config: loadConfig(env), clock, logger: silentLogger });
      http = await listenHttp(createHttpApp(app), port, '127.0.0.1');
    },
    close: async () => {
      await workers?.close(5000);
      await http.close();
      await host.close();
      await host2.close();
      for (const { queue } of app.queues.all()) await queue.obliterate({ force: true }).catch(() => {});
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return harness;
}

/** The accounts file: secrets by `env:` reference where an operator would put them. */
function defaultAccounts(host: FakeHost, host2: FakeHost): AccountsFile {
  const mf = (name: string, url: string) => ({
    name,
    provider: 'myfatoorah',
    baseUrl: url,
    token: 'env:MF_TOKEN',
    timeZone: 'Asia/Kuwait',
    currency: 'KWD',
    webhookSecret: CREDENTIALS.mfWebhookSecret,
  });
  return {
    default: 'default',
    accounts: [
      mf('default', host.url),
      mf('mf2', host2.url),
      {
        name: 'aps',
        provider: 'aps',
        baseUrl: host.url,
        shaType: 'sha256',
        timeZone: 'Asia/Dubai',
        ...CREDENTIALS.aps,
      },
      { name: 'paymennt', provider: 'paymennt', baseUrl: `${host.url}/mer/v2.0`, ...CREDENTIALS.paymennt },
    ],
  };
}

export const ACCOUNTS_CSV_HEADER =
  'lease_ref,tenant_name,email,mobile,mobile_country_code,language,unit,amount,currency,due_day,lead_days,valid_days,timezone,channel,starts_on,account';

/** A lease line for the accounts harness (due on the 1st, 5 lead days, 10 valid days). */
export function accountLease(ref: string, account: string, overrides: Partial<Record<string, string>> = {}): string {
  const row: Record<string, string> = {
    lease_ref: ref,
    tenant_name: 'Test Tenant',
    email: 'tenant@example.com',
    mobile: '501234567',
    mobile_country_code: '+971',
    language: 'en',
    unit: 'Unit 1',
    amount: ['', 'default', 'mf2'].includes(account) ? '250.500' : '1250.00',
    currency: ['', 'default', 'mf2'].includes(account) ? 'KWD' : 'AED',
    due_day: '1',
    lead_days: '5',
    valid_days: '10',
    timezone: 'Asia/Kuwait',
    channel: 'email',
    starts_on: '2026-12-01',
    account,
    ...overrides,
  };
  return ACCOUNTS_CSV_HEADER.split(',')
    .map((c) => row[c] ?? '')
    .join(',');
}
