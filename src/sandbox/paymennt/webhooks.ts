import { errorMessage } from '../../errors.js';
import { signPaymenntWebhook } from '../../providers/paymennt/webhook.js';
import type { Clock } from '../../time/clock.js';
import type { SandboxLogger } from '../host.js';

/**
 * Asynchronous webhook delivery: `{ id, requestId, orderId, status, timestamp }` POSTed as JSON,
 * signed hex(HMAC-SHA256(hmacKey, rawBody)) in the configured header when a key is set. paymennt's
 * real format and retry policy are not public; like the MyFatoorah fake, a non-2xx answer or a
 * network error is retried up to 5 times, `retryDelayMs` (real time) apart. Never blocks the
 * request that caused it.
 */

/** One delivery attempt, as recorded in `handle.webhookDeliveries`. */
export interface PaymenntWebhookDelivery {
  url: string;
  /** The same for every attempt of one notification. */
  notificationId: string;
  /** 1 for the first attempt, 2 for the first retry, … */
  attempt: number;
  body: Record<string, unknown>;
  rawBody: string;
  /** The signature header value; null when no HMAC key is configured. */
  signature: string | null;
  /** HTTP status answered, or null when the request failed (network error, timeout, close()). */
  status: number | null;
  error?: string;
  /** Sandbox clock when the attempt was made. */
  at: number;
}

/** Where and how notifications are sent. */
export interface WebhookTarget {
  url: string;
  hmacKey: string | null;
  /** Header the signature goes in. */
  signatureHeader: string;
  retryDelayMs: number;
}

/** Retries after the first attempt (paymennt's own policy is not public). */
export const MAX_RETRIES = 5;

type Notification = Pick<PaymenntWebhookDelivery, 'notificationId' | 'body' | 'rawBody' | 'signature'>;

/** Sends notifications in the background and records every attempt. */
export class PaymenntWebhookDispatcher {
  readonly deliveries: PaymenntWebhookDelivery[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly stopping = new AbortController();
  /** Retry waits in progress, so {@link flush} can cut them short. */
  private readonly waiting = new Set<() => void>();
  /** > 0 while someone is flushing: retries then go out without waiting. */
  private hurry = 0;

  constructor(
    private readonly target: WebhookTarget,
    private readonly clock: Clock,
    private readonly logger?: SandboxLogger,
  ) {}

  /** Signs and starts delivering `body` in the background. */
  send(body: Record<string, unknown>, notificationId: string): void {
    if (this.stopping.signal.aborted) return;
    const rawBody = JSON.stringify(body);
    const signature = this.target.hmacKey ? signPaymenntWebhook(rawBody, this.target.hmacKey) : null;
    const run = this.deliver({ notificationId, body, rawBody, signature }).finally(() => this.inFlight.delete(run));
    this.inFlight.add(run);
  }

  /** Resolves once no delivery (or pending retry) is in flight, including ones started meanwhile. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Like {@link idle}, but retry waits are skipped, so a failing receiver does not cost real time. */
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

  private async deliver(notification: Notification): Promise<void> {
    for (let attempt = 1; attempt <= MAX_RETRIES + 1; attempt++) {
      if (attempt > 1 && !(await this.wait(this.target.retryDelayMs))) return;
      if (this.stopping.signal.aborted) return;
      const delivery = await this.attempt(notification, attempt);
      this.deliveries.push(delivery);
      if (delivery.status !== null && delivery.status >= 200 && delivery.status < 300) return;
      this.logger?.warn(
        { url: this.target.url, attempt, status: delivery.status, error: delivery.error },
        'sandbox paymennt webhook delivery failed',
      );
    }
  }

  private async attempt(notification: Notification, attempt: number): Promise<PaymenntWebhookDelivery> {
    const base = { url: this.target.url, attempt, at: this.clock.now(), ...notification };
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (notification.signature) headers[this.target.signatureHeader] = notification.signature;
    try {
      const response = await fetch(this.target.url, {
        method: 'POST',
        headers,
        body: notification.rawBody,
        signal: AbortSignal.any([this.stopping.signal, AbortSignal.timeout(10_000)]),
      });
      // Drain the body so the connection can be reused or closed.
      await response.arrayBuffer().catch(() => undefined);
      return { ...base, status: response.status };
    } catch (err) {
      return { ...base, status: null, error: errorMessage(err) };
    }
  }

  /** Real-time wait: true when it is time to retry (early on flush), false when the dispatcher stops. */
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
