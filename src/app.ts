import type { Redis } from 'ioredis';
import type { Config } from './config.js';
import type { AppContext } from './context.js';
import { closeDb, openDb } from './db/open.js';
import type { Logger } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';
import { createRegistry, type SandboxEndpoint } from './providers/registry.js';
import type { CallObserver } from './providers/types.js';
import { reportQueueErrors } from './queue-errors.js';
import { createQueues } from './queues.js';
import { provideRedis, watchRedis, type RedisHandle } from './redis.js';
import type { LocalSandbox } from './sandbox/local.js';
import type { Clock } from './time/clock.js';

/** A running process's shared parts, and how to release them in order. */
export interface App extends AppContext {
  redis: RedisHandle;
  /** The shared connection for queues (workers get their own: they block). */
  connection: Redis;
  /** The built-in sandbox, when an account points at it (null when none does). */
  sandbox: LocalSandbox | null;
  close(): Promise<void>;
}

export interface AppOptions {
  config: Config;
  clock: Clock;
  logger: Logger;
  /** The worker's HTTP origin, when it serves webhooks: the in-process sandbox sends its webhooks there. */
  webhookBase?: string;
  /** `start`: refuse to share another live process's private Redis or sandbox (see src/markers.ts). */
  exclusive?: boolean;
}

/**
 * Opens SQLite (migrating it), connects to Redis (or starts a private redis-server), builds a client
 * per configured account — starting the built-in sandbox first when an account points at it — and
 * creates each account's queues.
 */
export async function createApp(options: AppOptions): Promise<App> {
  const { config, clock, logger } = options;
  const db = openDb(config.DATABASE_PATH);
  const metrics = createMetrics();
  let redis: RedisHandle | undefined;
  let sandbox: LocalSandbox | null = null;
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
    sandbox = await startSandboxIfUsed(options);
    const registry = createRegistry(
      config.accounts,
      { clock, timeoutMs: config.PROVIDER_TIMEOUT_MS },
      observeCalls(metrics),
      sandbox ?? undefined,
    );
    const queues = createQueues(
      connection,
      config,
      registry.all().map((p) => p.account),
    );
    reportQueueErrors(logger, Object.fromEntries(queues.all().map((q) => [q.queue.name, q.queue])));
    const ctx: AppContext = { config, clock, db, logger, registry, queues, metrics };
    const handle = redis;
    const local = sandbox;
    return {
      ...ctx,
      redis: handle,
      connection,
      sandbox,
      close: async () => {
        await queues.close();
        connection.disconnect();
        await local?.host?.close();
        await handle.stop();
        closeDb(db);
      },
    };
  } catch (err) {
    await sandbox?.host?.close();
    await redis?.stop();
    closeDb(db);
    throw err;
  }
}

/** The sandbox is dev-only: its code is loaded only when an account points at it. */
async function startSandboxIfUsed(options: AppOptions): Promise<LocalSandbox | null> {
  const { config, clock, logger } = options;
  const accounts = config.accounts.list.filter((a) => a.sandbox);
  if (accounts.length === 0) return null;
  const { provideLocalSandbox } = await import('./sandbox/local.js');
  const local = await provideLocalSandbox({
    databasePath: config.DATABASE_PATH,
    port: config.SANDBOX_PORT,
    clock,
    logger,
    accounts,
    exclusive: options.exclusive === true,
    ...(options.webhookBase ? { webhookBase: options.webhookBase } : {}),
  });
  logger.warn(
    { url: local.url, accounts: accounts.map((a) => a.name) },
    local.host
      ? 'these accounts use the built-in sandbox provider (no real links are created)'
      : 'these accounts use the sandbox provider another rentlink process runs',
  );
  return local satisfies SandboxEndpoint;
}

function observeCalls(metrics: Metrics): (account: { provider: string; account: string }) => CallObserver {
  return (labels) => (call) => {
    metrics.providerCalls.inc({ ...labels, endpoint: call.endpoint, outcome: call.outcome });
    metrics.providerLatency.observe({ ...labels, endpoint: call.endpoint }, call.ms / 1000);
  };
}
