import type { ServerResponse } from 'node:http';
import { DEFAULT_SIGNATURE_HEADER } from '../../providers/paymennt/settings.js';
import { FaultQueue, TokenBucket } from '../faults.js';
import type { FakeContext } from '../host.js';
import { CheckoutBook, type PaymentOptions, type SandboxCheckout } from './checkouts.js';
import type { PaymenntFault, PaymenntFaultEndpoint } from './faults.js';
import { PaymenntWebhookDispatcher } from './webhooks.js';

/**
 * The paymennt fake's shared state and the actions every entry point (API, pay page, test handle)
 * goes through, so a click on Pay and `handle.pay()` have the same effects, webhook included.
 */

/** How the fake behaves: the credentials it accepts, webhooks, the rate limit. */
export interface PaymenntFakeOptions {
  /** The accepted `X-Paymennt-Api-Key`. */
  apiKey: string;
  /** The accepted `X-Paymennt-Api-Secret`. */
  apiSecret: string;
  /** Where notifications are POSTed on every status change; none: no webhooks. */
  webhookUrl?: string;
  /** Signs notifications (hex HMAC-SHA256 of the raw body); none: sent unsigned. */
  webhookHmacKey?: string;
  /** Header the signature goes in; default `x-paymennt-signature`. */
  webhookSignatureHeader?: string;
  /** Real-time delay between webhook retries; default 1000 ms. */
  webhookRetryDelayMs?: number;
  /** GET /checkout… requests per second before 429s; default unlimited. */
  statusRateLimitPerSecond?: number | null;
  /** Validity of a checkout created without expiresIn (paymennt's default is not documented); default 1440. */
  defaultExpiresInMinutes?: number;
}

/** One API request as recorded in `handle.requests` (headers are not kept: they carry the secret). */
export interface PaymenntFakeRequest {
  /** Which fault endpoint the route is. */
  endpoint: PaymenntFaultEndpoint;
  method: string;
  /** Path including the `/mer/v2.0` prefix, without the query. */
  path: string;
  query: Record<string, string>;
  /** Parsed JSON body (the raw text when it was not JSON; null when empty). */
  body: unknown;
  /** HTTP status answered; 0 while held or when no answer was ever sent (lost, close()). */
  status: number;
  /** The fault kind applied, `throttled` (rate limit) or `unauthorized` (bad key or secret). */
  fault?: string;
  /** Sandbox clock when the request arrived. */
  at: number;
}

/** How a held (timeout-fault) request ended. */
export type HoldEnd = 'elapsed' | 'aborted' | 'closed';

/** State and actions shared by the API routes, the pay page and the test handle. */
export class PaymenntFakeCore {
  readonly book: CheckoutBook;
  readonly faults = new FaultQueue<PaymenntFaultEndpoint, PaymenntFault>();
  readonly requests: PaymenntFakeRequest[] = [];
  readonly dispatcher: PaymenntWebhookDispatcher | null;
  throttledCount = 0;
  private bucket: TokenBucket | null;
  private readonly holds = new Set<() => void>();
  private notificationSeq = 0;

  constructor(
    readonly options: PaymenntFakeOptions,
    readonly ctx: FakeContext,
  ) {
    this.book = new CheckoutBook(ctx.store, options.defaultExpiresInMinutes ?? 1440);
    this.bucket = options.statusRateLimitPerSecond ? new TokenBucket(options.statusRateLimitPerSecond) : null;
    this.dispatcher = options.webhookUrl
      ? new PaymenntWebhookDispatcher(
          {
            url: options.webhookUrl,
            hmacKey: options.webhookHmacKey ?? null,
            signatureHeader: (options.webhookSignatureHeader ?? DEFAULT_SIGNATURE_HEADER).toLowerCase(),
            retryDelayMs: options.webhookRetryDelayMs ?? 1000,
          },
          ctx.clock,
          ctx.logger,
        )
      : null;
  }

  now(): number {
    return this.ctx.clock.now();
  }

  /** The checkout's `redirectUrl`: the fake's pay page. */
  payPageUrl(checkout: SandboxCheckout): string {
    return `${this.ctx.publicBaseUrl()}/paymennt/pay/${checkout.checkoutKey}`;
  }

  /** null or a positive rate: a fresh (full) bucket each time it is set. */
  setRateLimit(perSecond: number | null): void {
    this.bucket = perSecond ? new TokenBucket(perSecond) : null;
  }

  /** False when a GET /checkout… request is over the rate limit (and counts it). */
  admitStatusRequest(): boolean {
    if (!this.bucket || this.bucket.tryTake()) return true;
    this.throttledCount++;
    return false;
  }

  /** A successful payment (PAID) + its webhook. @throws RentlinkError NOT_FOUND / INVALID_STATE. */
  pay(id: string, options?: PaymentOptions): SandboxCheckout {
    return this.changed(this.book.pay(id, this.now(), options), 'payment');
  }

  /** A failed payment (FAILED, final at paymennt) + its webhook. Throws like pay(). */
  fail(id: string, options?: PaymentOptions): SandboxCheckout {
    return this.changed(this.book.fail(id, this.now(), options), 'payment');
  }

  /** Cancels a PENDING checkout + its webhook. @throws RentlinkError INVALID_STATE otherwise. */
  cancel(id: string): SandboxCheckout {
    return this.changed(this.book.cancel(id, this.now()), 'cancel');
  }

  /** Refunds all (default) or part of a paid checkout + its webhook. */
  refund(id: string, amountMinor?: number): SandboxCheckout {
    return this.changed(this.book.refund(id, this.now(), amountMinor), 'refund');
  }

  private changed(checkout: SandboxCheckout, what: string): SandboxCheckout {
    this.ctx.logger?.info(
      { checkoutId: checkout.id, requestId: checkout.requestId, status: checkout.status, what },
      'sandbox paymennt checkout changed',
    );
    this.dispatcher?.send(
      {
        id: checkout.id,
        requestId: checkout.requestId,
        orderId: checkout.orderId,
        status: checkout.status,
        timestamp: new Date(checkout.updatedAt).toISOString(),
      },
      `N-${checkout.id}-${++this.notificationSeq}`,
    );
    return checkout;
  }

  /** Holds a request for `ms` real ms; ends early when the client leaves or the fake closes. */
  hold(ms: number, outgoing: ServerResponse): Promise<HoldEnd> {
    if (outgoing.closed) return Promise.resolve('aborted');
    return new Promise((resolve) => {
      const finish = (end: HoldEnd): void => {
        clearTimeout(timer);
        outgoing.off('close', onClose);
        this.holds.delete(onRelease);
        resolve(end);
      };
      const onClose = (): void => finish('aborted');
      const onRelease = (): void => finish('closed');
      const timer = setTimeout(() => finish('elapsed'), ms);
      outgoing.once('close', onClose);
      this.holds.add(onRelease);
    });
  }

  /** Ends held requests and abandons webhook retries. */
  async close(): Promise<void> {
    for (const release of [...this.holds]) release();
    await this.dispatcher?.stop();
  }
}
