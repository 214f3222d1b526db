import type { Clock } from '../../time/clock.js';
import { observedCall, parseRetryAfter, sendHttp } from '../http.js';
import { ProviderError, type CallObserver } from '../types.js';

/**
 * paymennt's HTTP layer: the API-key headers, the `{success, elapsed, error?, result?}` envelope,
 * and the mapping of every failure to a ProviderError kind. The body decides, not the status:
 * paymennt answers refusals with HTTP 400 and `success:false`. Nothing here retries (BullMQ owns retries).
 */

/** The endpoints, as named in metrics, logs and ProviderError.endpoint. */
export type PaymenntEndpoint = 'createLink' | 'getCheckout' | 'searchCheckouts' | 'cancelCheckout';

/** What the transport needs: the account's URL and credentials, and the client's deps. */
export interface TransportOptions {
  baseUrl: string;
  apiKey: string;
  apiSecret: string;
  /** The account name, to tell the operator which credentials to check. */
  account: string;
  timeoutMs: number;
  clock: Clock;
  observe?: CallObserver;
}

/** One request to make. */
export interface PaymenntCall {
  endpoint: PaymenntEndpoint;
  method: 'GET' | 'POST';
  /** Relative to the base URL, without a leading slash: `checkout/link`. */
  path: string;
  json?: unknown;
  searchParams?: Record<string, string>;
}

interface Envelope {
  success: boolean;
  error?: unknown;
  result?: unknown;
}

interface Answer {
  status: number;
  retryAfter: string | null;
  text: string;
}

/** Sends paymennt requests and turns their answers into results or ProviderErrors. */
export class PaymenntTransport {
  private readonly baseUrl: string;
  private readonly headers: Record<string, string>;

  constructor(private readonly options: TransportOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.headers = {
      'X-Paymennt-Api-Key': options.apiKey,
      'X-Paymennt-Api-Secret': options.apiSecret,
      Accept: 'application/json',
    };
  }

  /**
   * Performs one call and returns the envelope's `result`.
   * @throws ProviderError `rejected` (success:false, 401/403), `rate_limited` (429/503), `unavailable`
   *   (transport, timeout, 5xx, non-JSON, success without a result).
   */
  async call(call: PaymenntCall): Promise<unknown> {
    return observedCall(
      call.endpoint,
      this.options.observe,
      () => this.send(call),
      (answer) => this.classify(call.endpoint, answer),
      (answer) => answer.status,
    );
  }

  private async send(call: PaymenntCall): Promise<Answer> {
    const answer = await sendHttp(`${this.baseUrl}/${call.path}`, {
      method: call.method,
      headers: this.headers,
      timeoutMs: this.options.timeoutMs,
      ...(call.json !== undefined ? { json: call.json } : {}),
      ...(call.searchParams ? { searchParams: call.searchParams } : {}),
    });
    return { status: answer.status, retryAfter: answer.headers.get('retry-after'), text: answer.text };
  }

  private classify(endpoint: PaymenntEndpoint, answer: Answer): unknown {
    const { status } = answer;
    if (status === 429 || status === 503) {
      throw new ProviderError('rate_limited', `${endpoint}: HTTP ${status}, slow down`, {
        endpoint,
        httpStatus: status,
        retryAfterMs: parseRetryAfter(answer.retryAfter, this.options.clock.now()),
      });
    }
    const envelope = parseEnvelope(answer.text);
    if (status === 401 || status === 403) {
      const said = envelope ? `: ${errorText(envelope)}` : '';
      throw new ProviderError(
        'rejected',
        `${endpoint}: HTTP ${status}${said} (check apiKey/apiSecret of paymennt account "${this.options.account}")`,
        { endpoint, httpStatus: status },
      );
    }
    if (!envelope) {
      const what = answer.text.trim() === '' ? 'an empty body' : 'a non-JSON body';
      throw new ProviderError('unavailable', `${endpoint}: HTTP ${status} with ${what}`, {
        endpoint,
        httpStatus: status,
      });
    }
    if (status >= 500) {
      throw new ProviderError('unavailable', `${endpoint}: HTTP ${status}: ${errorText(envelope)}`, {
        endpoint,
        httpStatus: status,
      });
    }
    if (envelope.success !== true) {
      throw new ProviderError('rejected', `${endpoint}: ${errorText(envelope)}`, { endpoint, httpStatus: status });
    }
    if (envelope.result === undefined || envelope.result === null) {
      throw new ProviderError('unavailable', `${endpoint}: answered success without a result`, {
        endpoint,
        httpStatus: status,
      });
    }
    return envelope.result;
  }
}

/** True for a `rejected` error that is paymennt saying it has no such checkout. */
export function isNotFound(err: unknown): boolean {
  return (
    err instanceof ProviderError &&
    err.kind === 'rejected' &&
    err.httpStatus !== 401 &&
    err.httpStatus !== 403 &&
    /not\s+found/i.test(err.message)
  );
}

function parseEnvelope(text: string): Envelope | null {
  if (text.trim() === '') return null;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
    return typeof (parsed as Envelope).success === 'boolean' ? (parsed as Envelope) : null;
  } catch {
    return null;
  }
}

/** The provider's own words; its `error` is a text, but tolerate an object with a message. */
function errorText(envelope: Envelope): string {
  const error = envelope.error;
  if (typeof error === 'string' && error.trim() !== '') return error.trim();
  if (typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string') {
    return (error as { message: string }).message;
  }
  return 'request refused';
}
