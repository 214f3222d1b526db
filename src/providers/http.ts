import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
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

/** A network-level failure in words an operator can act on ("timed out", "connect ECONNREFUSED …"). */
function describeTransportError(err: unknown): string {
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

/** A provider's answer, read in full: the clients classify it by status and body. */
export interface HttpAnswer {
  status: number;
  headers: { get(name: string): string | null };
  text: string;
}

export interface HttpRequest {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  /** Sent as a JSON body (with its content type). */
  json?: unknown;
  /** Appended to the URL's query string. */
  searchParams?: Record<string, string>;
  /** For the whole exchange, body included: a slow provider fails with a `TimeoutError`. */
  timeoutMs: number;
}

// Kept-alive connections, one pool per scheme for every account of the process.
const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };

/**
 * One request to a provider over node:http(s): no retry (BullMQ owns retries), every status handed
 * back to the client to classify, redirects not followed (a JSON API that redirects is misconfigured;
 * the 3xx is classified like any other answer). It replaced ky over `fetch`: ky's per-request setup
 * (a Ky object, deep-merged options, a Request that fetch then copies) and fetch's web-streams body
 * were the largest cost of a send or status job in the profile (`npm run bench`).
 */
export function sendHttp(url: string, request: HttpRequest): Promise<HttpAnswer> {
  const target = new URL(url);
  for (const [name, value] of Object.entries(request.searchParams ?? {})) target.searchParams.append(name, value);
  const body = request.json === undefined ? undefined : Buffer.from(JSON.stringify(request.json));
  const headers: Record<string, string | number> = body
    ? { ...request.headers, 'content-type': 'application/json', 'content-length': body.length }
    : request.headers;
  const https = target.protocol === 'https:';
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (error: Error | null, answer?: HttpAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(answer as HttpAnswer);
    };
    const options = { method: request.method, headers, agent: https ? agents.https : agents.http };
    const outgoing = (https ? httpsRequest : httpRequest)(target, options, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', (err) => finish(err));
      response.on('close', () => {
        if (!response.complete) return finish(new Error('the connection closed before the answer was complete'));
        finish(null, {
          status: response.statusCode ?? 0,
          headers: headerReader(response.headers),
          text: Buffer.concat(chunks).toString('utf8'),
        });
      });
    });
    const timer = setTimeout(() => outgoing.destroy(timeoutError(request.timeoutMs)), request.timeoutMs);
    outgoing.on('error', (err) => finish(err));
    outgoing.end(body);
  });
}

function timeoutError(ms: number): Error {
  return Object.assign(new Error(`no answer within ${ms} ms`), { name: 'TimeoutError' });
}

function headerReader(headers: IncomingHttpHeaders): HttpAnswer['headers'] {
  return {
    get: (name) => {
      const value = headers[name.toLowerCase()];
      return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
    },
  };
}
