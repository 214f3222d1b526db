import type { ScheduledTask } from 'node-cron';
import { createApp, type App } from './app.js';
import type { Clock } from './time/clock.js';
import type { Config } from './config.js';
import { createHttpApp, listenHttp, type HttpServer, type RouteRegistrar } from './http/server.js';
import type { Logger } from './logger.js';
import { freePort } from './redis.js';
import { startWorkers, type Workers } from './runtime.js';
import { startTickCron } from './schedule/cron.js';
import { runTick } from './schedule/tick.js';

export interface Service {
  app: App;
  workers: Workers;
  http: HttpServer;
  cron: ScheduledTask | null;
  stop(): Promise<void>;
}

export interface ServiceOptions {
  config: Config;
  clock: Clock;
  logger: Logger;
  /** Run the tick on TICK_CRON (the service); tests drive ticks themselves. */
  cron?: boolean;
  /**
   * `all` (default): tick, workers and HTTP. `worker`: workers and HTTP, no tick — for extra worker
   * processes beside one that ticks (ticking in several is safe, just redundant).
   */
  role?: 'all' | 'worker';
  extraRoutes?: RouteRegistrar[];
}

/**
 * The whole worker in one process: tick on cron, every account's queue workers and the HTTP server.
 * When every account is the built-in sandbox, tenant callbacks default to this server so the pay
 * page's redirect lands here.
 */
export async function startService(options: ServiceOptions): Promise<Service> {
  const { logger } = options;
  // HTTP_PORT=0: any free port, chosen now so the sandbox's callback and webhook URLs point at it.
  const port = options.config.HTTP_PORT || (await freePort());
  const localUrl = `http://127.0.0.1:${port}`;
  const sandboxOnly = options.config.accounts.list.every((a) => a.sandbox);
  const withPort = { ...options.config, HTTP_PORT: port };
  const config = sandboxOnly && !withPort.PUBLIC_BASE_URL ? { ...withPort, PUBLIC_BASE_URL: localUrl } : withPort;
  const app = await createApp({ config, clock: options.clock, logger, webhookBase: localUrl, exclusive: true });
  let workers: Workers | undefined;
  let http: HttpServer | undefined;
  try {
    const workersRunning = () => workers?.running() ?? false;
    http = await listenHttp(
      createHttpApp(app, options.extraRoutes, { workersRunning }),
      config.HTTP_PORT,
      config.HTTP_HOST,
    );
    logger.info({ url: http.url }, 'http server listening');
    workers = startWorkers(app);
    const ticks = options.role !== 'worker';
    if (ticks) await runTick(app);
    const cron = options.cron === false || !ticks ? null : startTickCron(app);
    const started = { workers, http };
    return {
      app,
      workers,
      http,
      cron,
      stop: async () => {
        await cron?.stop();
        await started.workers.close(config.SHUTDOWN_TIMEOUT_MS);
        await started.http.close();
        await app.close();
      },
    };
  } catch (err) {
    await workers?.close(0);
    await http?.close();
    await app.close();
    throw err;
  }
}

/**
 * Stops the service on SIGINT/SIGTERM: cron first, then active jobs (bounded), then Redis and SQLite.
 * Resolves once stopped; a second signal exits at once.
 */
export function stopOnSignals(service: Service, logger: Logger): Promise<void> {
  return new Promise((resolve, reject) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        logger.warn('second signal: exiting now');
        process.exit(1);
      }
      stopping = true;
      logger.info({ signal }, 'shutting down');
      // Closing waits on Redis; if Redis itself is gone it would wait forever. Bound the whole stop.
      const limitMs = service.app.config.SHUTDOWN_TIMEOUT_MS + 10_000;
      const guard = setTimeout(() => {
        logger.error(
          { limitMs },
          'shutdown did not finish in time (is Redis reachable?): exiting anyway; unfinished jobs will be retried',
        );
        process.exit(1);
      }, limitMs);
      guard.unref();
      service
        .stop()
        .then(resolve, reject)
        .finally(() => clearTimeout(guard));
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
}
