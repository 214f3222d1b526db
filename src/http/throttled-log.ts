import type { Logger } from '../logger.js';

/**
 * A warning logged at most once per `windowMs` per message, with how many were suppressed: a flood of
 * forged requests must not flood the log (or the disk) either.
 */
export function throttledWarning(logger: Logger, windowMs: number) {
  const seen = new Map<string, { until: number; suppressed: number }>();
  return (message: string, fields: Record<string, unknown> = {}) => {
    const now = performance.now();
    const entry = seen.get(message);
    if (entry && now < entry.until) {
      entry.suppressed++;
      return;
    }
    if (seen.size > 100) seen.clear();
    logger.warn({ ...fields, suppressedSinceLast: entry?.suppressed ?? 0 }, message);
    seen.set(message, { until: now + windowMs, suppressed: 0 });
  };
}
