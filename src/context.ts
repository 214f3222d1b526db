import type { Config } from './config.js';
import type { Db } from './db/open.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import type { AccountRegistry } from './providers/registry.js';
import type { Queues } from './queues.js';
import type { Clock } from './time/clock.js';

/** Everything a job, the tick or an HTTP handler needs; assembled once per process by `src/app.ts`. */
export interface AppContext {
  config: Config;
  clock: Clock;
  db: Db;
  logger: Logger;
  /** The configured accounts: jobs reach a provider through the account a link row names. */
  registry: AccountRegistry;
  queues: Queues;
  metrics: Metrics;
}
