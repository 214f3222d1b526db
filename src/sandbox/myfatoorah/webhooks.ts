import type { Clock } from '../../time/clock.js';
import type { SandboxLogger } from '../host.js';
import { errorMessage } from '../../errors.js';
import { MYFATOORAH_SIGNATURE_HEADER, signMyFatoorahWebhook } from '../../providers/myfatoorah/webhook.js';

/**
 * Asynchronous, signed webhook delivery with MyFatoorah V2's retry policy: the first attempt plus up
 * to 5 retries on a non-2xx answer or a network error. Real MyFatoorah waits up to 180 s between
 * attempts; the sandbox waits `retryDelayMs`. Deliveries never block the request that caused them.
 */

/** One delivery attempt, as recorded in `handle.webhookDeliveries`. */
export interface WebhookDelivery {
  url: string;
  /** `Event.Reference`: the same for every attempt of one event. */
  eventReference: string;
  /** 1 for the first attempt, 2 for the first retry, … */
  attempt: number;
  body: unknown;
  rawBody: string;
  signature: string;
  /** HTTP status answered, or null when the request failed (network error, timeout, close()). */
  status: number | null;
  error?: string;
  /** Sandbox clock when the attempt was made. */
  at: number;
}

export interface WebhookDispatcherOptions {
  url: string;
  secret: string;
  retryDelayMs: number;
  clock: Clock;
  /** Attempt timeout in real ms. */
  timeoutMs?: number;
  logger?: SandboxLogger;
}

export type { SandboxLogger } from '../host.js';

export const MAX_RETRIES = 5;

export class WebhookDispatcher {
  readonly deliveries: WebhookDelivery[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly stopping = new AbortController();
  /** Retry waits in progress, so {@link flush} can cut them short. */
  private readonly waiting = new Set<() => void>();
  /** > 0 while someone is flushing: retries then go out without waiting. */
  private hurry = 0;

  constructor(private readonly options: WebhookDispatcherOptions) {}

  /** Signs and starts delivering `body` in the background. */
  send(body: Record<string, unknown>, eventReference: string): void {
    if (this.stopping.signal.aborted) return;
    const rawBody = JSON.stringify(body);
    const signature = signMyFatoorahWebhook(body, this.options.secret);
    const run = this.deliver({ body, rawBody, signature, eventReference }).finally(() => this.inFlight.delete(run));
    this.inFlight.add(run);
  }

  /** Resolves once no delivery (or pending retry) is in flight, including ones started meanwhile. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /**
   * Delivers everything now: pending and future retry waits are skipped until nothing is in flight,
   * so a test of a failing receiver does not wait `retryDelayMs` per retry.
   */
  async flush(): Promise<void> {
    this.hurry++;
    try {
      for (const wake of [...this.waiting]) wake();
      await this.idle();
    } finally {
      this.hurry--;
    }
  }

  /** Abandons pending retries and in-flight requests; used by close(). */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.idle();
  }

  private async deliver(
    event: Pick<WebhookDelivery, 'body' | 'rawBody' | 'signature' | 'eventReference'>,
  ): Promise<void> {
    for (let attempt = 1; attempt <= MAX_RETRIES + 1; attempt++) {
      if (attempt > 1 && !(await this.wait(this.options.retryDelayMs))) return;
      if (this.stopping.signal.aborted) return;
      const delivery = await this.attempt(event, attempt);
      this.deliveries.push(delivery);
      if (delivery.status !== null && delivery.status >= 200 && delivery.status < 300) return;
      this.options.logger?.warn(
        { url: this.options.url, attempt, status: delivery.status, error: delivery.error },
        'sandbox webhook delivery failed',
      );
    }
  }

  private async attempt(
    event: Pick<WebhookDelivery, 'body' | 'rawBody' | 'signature' | 'eventReference'>,
    attempt: number,
  ): Promise<WebhookDelivery> {
    const base = { url: this.options.url, attempt, at: this.options.clock.now(), ...event };
    try {
      const response = await fetch(this.options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [MYFATOORAH_SIGNATURE_HEADER]: event.signature },
        body: event.rawBody,
        signal: AbortSignal.any([this.stopping.signal, AbortSignal.timeout(this.options.timeoutMs ?? 10_000)]),
      });
      // Drain the body so the connection can be reused/closed.
      await response.arrayBuffer().catch(() => undefined);
      return { ...base, status: response.status };
    } catch (err) {
      return { ...base, status: null, error: errorMessage(err) };
    }
  }

  /** Real-time wait: true when it is time to retry (also early, on flush), false when the dispatcher stops. */
  private wait(ms: number): Promise<boolean> {
    const signal = this.stopping.signal;
    if (signal.aborted) return Promise.resolve(false);
    if (this.hurry > 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (retry: boolean): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.waiting.delete(wake);
        resolve(retry);
      };
      const onAbort = (): void => finish(false);
      const wake = (): void => finish(true);
      const timer = setTimeout(wake, ms);
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.add(wake);
    });
  }
}
