import type { Redis } from 'ioredis';
import type { Clock } from './time/clock.js';
import type { Config } from './config.js';
import type { AppContext } from './context.js';
import { closeDb, openDb } from './db/open.js';
import type { Logger } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';
import { MyFatoorahProvider } from './providers/myfatoorah/client.js';
import type { PaymentProvider } from './providers/legacy-types.js';
import { createQueues } from './queues.js';
import { reportQueueErrors } from './queue-errors.js';
import { provideRedis, watchRedis, type RedisHandle } from './redis.js';
import { provideLocalSandbox } from './sandbox/local.js';
import type { SandboxHandle } from './sandbox/server.js';

/** Signs the in-process sandbox's webhooks when no MYFATOORAH_WEBHOOK_SECRET is set; not a secret. */
const SANDBOX_WEBHOOK_SECRET = 'sandbox-webhook-secret';

/** A running process's shared parts, and how to release them in order. */
export interface App extends AppContext {
  redis: RedisHandle;
  /** The shared connection for queues (workers get their own: they block). */
  connection: Redis;
  sandbox: SandboxHandle | null;
  /** The secret webhooks are verified with: MYFATOORAH_WEBHOOK_SECRET, or the sandbox's own. */
  webhookSecret: string | undefined;
  close(): Promise<void>;
}

export interface AppOptions {
  config: Config;
  clock: Clock;
  logger: Logger;
  /** Where the in-process sandbox should send webhooks (the HTTP server's URL), when it runs. */
  sandboxWebhookUrl?: string;
  /** `start`: refuse to share another live process's private Redis or sandbox (see src/markers.ts). */
  exclusive?: boolean;
}

/**
 * Opens SQLite (migrating it), connects to Redis (or starts a private redis-server), picks the provider
 * (MyFatoorah when MYFATOORAH_TOKEN is set, otherwise an in-process sandbox) and creates the queues.
 */
export async function createApp(options: AppOptions): Promise<App> {
  const { config, clock, logger } = options;
  const db = openDb(config.DATABASE_PATH);
  const metrics = createMetrics();
  let redis: RedisHandle | undefined;
  let sandbox: SandboxHandle | null = null;
  try {
    redis = await provideRedis(config.REDIS_URL, {
      dataDir: config.REDIS_DATA_DIR,
      connectTimeoutMs: config.REDIS_CONNECT_TIMEOUT_MS,
      exclusive: options.exclusive === true,
    });
    if (redis.embedded)
      logger.info(
        { url: redis.url, dataDir: config.REDIS_DATA_DIR },
        'started a private redis-server (set REDIS_URL to use your own)',
      );
    const connection = redis.connect();
    watchRedis(connection, logger);
    const queues = createQueues(connection, config);
    reportQueueErrors(logger, { send: queues.send, status: queues.status });
    const chosen = await chooseProvider(options, metrics);
    sandbox = chosen.sandbox;
    const ctx: AppContext = { config, clock, db, logger, provider: chosen.provider, queues, metrics };
    const handle = redis;
    return {
      ...ctx,
      redis: handle,
      connection,
      sandbox,
      webhookSecret: config.MYFATOORAH_WEBHOOK_SECRET ?? (config.MYFATOORAH_TOKEN ? undefined : SANDBOX_WEBHOOK_SECRET),
      close: async () => {
        await queues.close();
        connection.disconnect();
        await sandbox?.close();
        await handle.stop();
        closeDb(db);
      },
    };
  } catch (err) {
    await sandbox?.close();
    await redis?.stop();
    closeDb(db);
    throw err;
  }
}

async function chooseProvider(
  options: AppOptions,
  metrics: Metrics,
): Promise<{ provider: PaymentProvider; sandbox: SandboxHandle | null }> {
  const { config, clock, logger } = options;
  const observe = observeCalls(metrics);
  const common = {
    accountTimeZone: config.MYFATOORAH_TIMEZONE,
    accountCurrency: config.MYFATOORAH_ACCOUNT_CURRENCY,
    timeoutMs: config.PROVIDER_TIMEOUT_MS,
    clock,
    observe,
  };
  if (config.MYFATOORAH_TOKEN) {
    logger.info({ baseUrl: config.MYFATOORAH_BASE_URL }, 'provider: MyFatoorah');
    return {
      provider: new MyFatoorahProvider({
        ...common,
        baseUrl: config.MYFATOORAH_BASE_URL,
        token: config.MYFATOORAH_TOKEN,
      }),
      sandbox: null,
    };
  }
  const sandboxProvider = (url: string) =>
    new MyFatoorahProvider({ ...common, id: 'sandbox', baseUrl: url, token: 'sandbox-token' });
  const local = await provideLocalSandbox(config.DATABASE_PATH, config.SANDBOX_PORT, {
    clock,
    accountTimeZone: config.MYFATOORAH_TIMEZONE,
    currency: config.MYFATOORAH_ACCOUNT_CURRENCY,
    exclusive: options.exclusive === true,
    ...(options.sandboxWebhookUrl
      ? {
          webhookUrl: options.sandboxWebhookUrl,
          webhookSecret: config.MYFATOORAH_WEBHOOK_SECRET ?? SANDBOX_WEBHOOK_SECRET,
        }
      : {}),
  });
  logger.warn(
    { url: local.url },
    local.handle
      ? 'MYFATOORAH_TOKEN is not set: using the built-in sandbox provider (no real invoices are created)'
      : 'MYFATOORAH_TOKEN is not set: using the sandbox provider another rentlink process runs',
  );
  return { provider: sandboxProvider(local.url), sandbox: local.handle };
}

function observeCalls(metrics: Metrics) {
  return (call: { endpoint: string; outcome: string; ms: number }) => {
    metrics.providerCalls.inc({ endpoint: call.endpoint, outcome: call.outcome });
    metrics.providerLatency.observe({ endpoint: call.endpoint }, call.ms / 1000);
  };
}
