import type { CallObserver, ProviderErrorKind } from './types.js';
import { ProviderError } from './types.js';

/** What every provider client shares about talking HTTP: Retry-After, transport errors, timing. */

/**
 * Reads `Retry-After` (delta seconds or an HTTP date) as milliseconds from `now`; null when absent or
 * unreadable. Never negative.
 */
export function parseRetryAfter(header: string | null, now: number): number | null {
  if (!header) return null;
  const trimmed = header.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isFinite(at) ? Math.max(0, at - now) : null;
}

/** A network-level failure in words an operator can act on ("timed out", "fetch failed: ECONNREFUSED"). */
export function describeTransportError(err: unknown): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError') return 'timed out';
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return `${err.message}${cause}`;
  }
  return String(err);
}

/**
 * Runs one provider HTTP exchange and reports it to `observe` with its outcome. `send` performs the
 * request (a transport failure becomes `unavailable`), `read` classifies the answer and may throw a
 * ProviderError of any kind.
 */
export async function observedCall<R, T>(
  endpoint: string,
  observe: CallObserver | undefined,
  send: () => Promise<R>,
  read: (response: R) => T,
  status: (response: R) => number,
): Promise<T> {
  const started = performance.now();
  const report = (outcome: 'ok' | ProviderErrorKind, httpStatus: number | null) =>
    observe?.({ endpoint, outcome, httpStatus, ms: performance.now() - started });
  let response: R;
  try {
    response = await send();
  } catch (err) {
    report('unavailable', null);
    throw new ProviderError('unavailable', `${endpoint}: ${describeTransportError(err)}`, { endpoint, cause: err });
  }
  try {
    const value = read(response);
    report('ok', status(response));
    return value;
  } catch (err) {
    report(err instanceof ProviderError ? err.kind : 'unavailable', status(response));
    throw err;
  }
}
