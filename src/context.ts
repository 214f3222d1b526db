import type { Clock } from './time/clock.js';
import type { Config } from './config.js';
import type { Db } from './db/open.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import type { PaymentProvider } from './providers/legacy-types.js';
import type { Queues } from './queues.js';

/** Everything a job, the tick or an HTTP handler needs; assembled once per process by `src/app.ts`. */
export interface AppContext {
  config: Config;
  clock: Clock;
  db: Db;
  logger: Logger;
  provider: PaymentProvider;
  queues: Queues;
  metrics: Metrics;
}
