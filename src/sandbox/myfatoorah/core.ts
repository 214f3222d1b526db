import type { ServerResponse } from 'node:http';
import type { Clock } from '../../time/clock.js';
import type { FakeContext } from '../host.js';
import { formatTrackDate, localYear } from './dates.js';
import { FaultQueue, TokenBucket } from '../faults.js';
import { paymentStatusChangedEvent, type ModelContext } from './models.js';
import { InvoiceStore, type PaymentOptions, type PaymentOutcome, type SandboxInvoice } from './state.js';
import { WebhookDispatcher, type SandboxLogger } from './webhooks.js';

/**
 * The sandbox's shared state and the actions every entry point (API, pay page, control endpoints,
 * the test handle) goes through, so a click on Pay and `handle.pay()` have the same effects.
 */

/** One API request as recorded in `handle.requests`. */
export interface SandboxRequest {
  /** The path segment after /v2/: 'SendPayment', 'GetPaymentStatus', or whatever else was called. */
  endpoint: string;
  /** Parsed JSON body (the raw text when it was not JSON). */
  body: unknown;
  /** HTTP status answered; 0 while held (timeout) or when no answer was ever sent (lost, close()). */
  status: number;
  /** Sandbox clock when the request arrived. */
  at: number;
  /** Fault kind applied (see Fault), or 'throttled' when the GetPaymentStatus rate limit refused it. */
  fault?: string;
}

export interface CoreOptions {
  token: string;
  accountTimeZone: string;
  currency: string;
  defaultValidityMs: number;
  statusRateLimitPerSecond: number | null;
  /** Real milliseconds each API call waits before it is answered (0: none). */
  latencyMs: number;
  webhook: { url: string; secret: string; retryDelayMs: number } | null;
}

/** The kind MyFatoorah invoices are saved under in the sandbox store. */
const STORE_KIND = 'myfatoorah-invoice';

export type HoldEnd = 'elapsed' | 'aborted' | 'closed';

export class SandboxCore {
  readonly clock: Clock;
  readonly store: InvoiceStore;
  readonly faults = new FaultQueue();
  readonly requests: SandboxRequest[] = [];
  readonly dispatcher: WebhookDispatcher | null;
  readonly model: ModelContext;
  throttledCount = 0;
  private bucket: TokenBucket | null;
  private readonly holds = new Set<() => void>();
  private webhookSeq = 0;

  constructor(
    readonly options: CoreOptions,
    private readonly ctx: FakeContext,
  ) {
    this.clock = ctx.clock;
    this.model = { accountTimeZone: options.accountTimeZone, currency: options.currency };
    this.store = new InvoiceStore({
      defaultValidityMs: options.defaultValidityMs,
      resultPageUrl: (invoiceId, paymentId) =>
        `${this.publicBaseUrl}/pay/${invoiceId}/result?paymentId=${encodeURIComponent(paymentId)}`,
      trackDate: (ms) => formatTrackDate(ms, options.accountTimeZone),
      localYear: (ms) => localYear(ms, options.accountTimeZone),
      onChange: (invoice) => ctx.store.save(STORE_KIND, String(invoice.id), invoice),
    });
    this.store.restore(ctx.store.load<SandboxInvoice>(STORE_KIND));
    this.bucket = options.statusRateLimitPerSecond ? new TokenBucket(options.statusRateLimitPerSecond) : null;
    this.dispatcher = options.webhook
      ? new WebhookDispatcher({ ...options.webhook, clock: ctx.clock, logger: ctx.logger })
      : null;
  }

  get logger(): SandboxLogger | undefined {
    return this.ctx.logger;
  }

  /** The host's URL: InvoiceURL and result pages are built on it. */
  get publicBaseUrl(): string {
    return this.ctx.publicBaseUrl();
  }

  invoiceUrl(invoiceId: number): string {
    return `${this.publicBaseUrl}/pay/${invoiceId}`;
  }

  /** null or a positive rate: a fresh (full) bucket each time it is set. */
  setRateLimit(perSecond: number | null): void {
    this.bucket = perSecond ? new TokenBucket(perSecond) : null;
  }

  /** False when GetPaymentStatus is over its rate limit (and counts it). */
  admitStatusRequest(): boolean {
    if (!this.bucket || this.bucket.tryTake()) return true;
    this.throttledCount++;
    return false;
  }

  /** A successful payment + its webhook; throws like InvoiceStore.pay. */
  pay(invoiceId: number | string, options?: PaymentOptions): PaymentOutcome {
    const outcome = this.store.pay(invoiceId, this.clock.now(), options);
    this.afterPayment(outcome);
    return outcome;
  }

  /** A declined payment + its webhook; throws like InvoiceStore.fail. */
  fail(invoiceId: number | string, options?: PaymentOptions): PaymentOutcome {
    const outcome = this.store.fail(invoiceId, this.clock.now(), options);
    this.afterPayment(outcome);
    return outcome;
  }

  private afterPayment(outcome: PaymentOutcome): void {
    const { invoice, transaction } = outcome;
    this.logger?.info(
      {
        invoiceId: invoice.id,
        paymentId: transaction.paymentId,
        transactionStatus: transaction.status,
        invoiceStatus: invoice.status,
      },
      'sandbox payment attempt',
    );
    if (!this.dispatcher) return;
    const reference = `WH-${invoice.id}-${++this.webhookSeq}`;
    this.dispatcher.send(
      paymentStatusChangedEvent(invoice, transaction, reference, this.clock.now(), this.model),
      reference,
    );
  }

  /**
   * Holds a request for `ms` real milliseconds. Ends early when the client goes away ('aborted') or
   * the sandbox closes ('closed').
   */
  hold(ms: number, outgoing: ServerResponse): Promise<HoldEnd> {
    // The client may already be gone (it aborted while the body was read).
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

  /** Ends every held request (close()). */
  releaseHolds(): void {
    for (const release of [...this.holds]) release();
  }
}
