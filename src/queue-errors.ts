import type { EventEmitter } from 'node:events';
import type { Logger } from './logger.js';
import { oneLine } from './redis.js';

/**
 * The `error` events of BullMQ workers and queues, logged without flooding: during a Redis outage
 * every worker and queue repeats the same connection error on every reconnect attempt.
 */

/** Errors of a connection (refused, reset, closed): an outage `watchRedis` already reports. */
function isConnectionError(err: Error): boolean {
  const code = 'code' in err && typeof err.code === 'string' ? err.code : '';
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN'].includes(code) ||
    /Connection is closed|connect ETIMEDOUT|ECONNREFUSED/.test(err.message)
  );
}

/** A thrower of the same error over and over, logged once per window with a repeat count. */
export interface ErrorThrottle {
  report(source: string, err: Error): void;
}

/**
 * Throttles error events of BullMQ workers and queues: the first occurrence of a message is logged,
 * repeats within `windowMs` are counted, and the next one after it is logged with that count.
 * Connection errors go to `debug`: `watchRedis` has already said Redis is away.
 */
export function createErrorThrottle(
  logger: Logger,
  options: { windowMs?: number; now?: () => number } = {},
): ErrorThrottle {
  const windowMs = options.windowMs ?? 60_000;
  const now = options.now ?? (() => performance.now());
  const seen = new Map<string, { loggedAt: number; suppressed: number }>();
  return {
    report(source, err) {
      const message = oneLine(err);
      if (isConnectionError(err)) {
        logger.debug({ source, err: message }, 'redis connection error');
        return;
      }
      const entry = seen.get(message);
      const t = now();
      if (entry && t - entry.loggedAt < windowMs) {
        entry.suppressed++;
        return;
      }
      const repeated = entry?.suppressed ?? 0;
      seen.set(message, { loggedAt: t, suppressed: 0 });
      logger.error(
        { source, err: message, ...(repeated ? { repeated } : {}) },
        repeated ? `queue error (and ${repeated} more like it since the last report)` : 'queue error',
      );
    },
  };
}

const throttles = new WeakMap<Logger, ErrorThrottle>();

/** Routes the `error` events of BullMQ workers and queues through one throttle per logger. */
export function reportQueueErrors(logger: Logger, emitters: Record<string, EventEmitter>): void {
  let throttle = throttles.get(logger);
  if (!throttle) throttles.set(logger, (throttle = createErrorThrottle(logger)));
  const shared = throttle;
  for (const [source, emitter] of Object.entries(emitters)) {
    emitter.on('error', (err: Error) => shared.report(source, err));
  }
}
