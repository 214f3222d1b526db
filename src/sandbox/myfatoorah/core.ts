import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { dirname } from 'node:path';
import type { Clock } from '../../time/clock.js';
import { formatTrackDate, localYear } from './dates.js';
import { FaultQueue, TokenBucket } from '../faults.js';
import { paymentStatusChangedEvent, type ModelContext } from './models.js';
import { InvoiceStore, type PaymentOptions, type PaymentOutcome, type StoreState } from './state.js';
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
  clock: Clock;
  token: string;
  accountTimeZone: string;
  currency: string;
  defaultValidityMs: number;
  statusRateLimitPerSecond: number | null;
  webhook: { url: string; secret: string; retryDelayMs: number } | null;
  /** JSON file the invoices are kept in across restarts; none: in memory only. */
  statePath?: string;
  logger: SandboxLogger | undefined;
}

export type HoldEnd = 'elapsed' | 'aborted' | 'closed';

export class SandboxCore {
  readonly clock: Clock;
  readonly store: InvoiceStore;
  readonly faults = new FaultQueue();
  readonly requests: SandboxRequest[] = [];
  readonly dispatcher: WebhookDispatcher | null;
  readonly model: ModelContext;
  /** Set once the server listens: InvoiceURL and result pages are built on it. */
  publicBaseUrl = '';
  throttledCount = 0;
  private bucket: TokenBucket | null;
  private readonly holds = new Set<() => void>();
  private webhookSeq = 0;

  constructor(readonly options: CoreOptions) {
    this.clock = options.clock;
    this.model = { accountTimeZone: options.accountTimeZone, currency: options.currency };
    this.store = new InvoiceStore({
      defaultValidityMs: options.defaultValidityMs,
      resultPageUrl: (invoiceId, paymentId) =>
        `${this.publicBaseUrl}/pay/${invoiceId}/result?paymentId=${encodeURIComponent(paymentId)}`,
      trackDate: (ms) => formatTrackDate(ms, options.accountTimeZone),
      localYear: (ms) => localYear(ms, options.accountTimeZone),
      ...(options.statePath
        ? { onChange: () => saveState(options.statePath as string, this.store.exportState()) }
        : {}),
    });
    if (options.statePath) loadState(options.statePath, this.store);
    this.bucket = options.statusRateLimitPerSecond ? new TokenBucket(options.statusRateLimitPerSecond) : null;
    this.dispatcher = options.webhook
      ? new WebhookDispatcher({ ...options.webhook, clock: options.clock, logger: options.logger })
      : null;
  }

  get logger(): SandboxLogger | undefined {
    return this.options.logger;
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

/** Writes the store atomically (temp file + rename), so a crash never leaves half a file. */
function saveState(path: string, state: StoreState): void {
  mkdirSync(dirname(path), { recursive: true });
  const temp = `${path}.tmp`;
  writeFileSync(temp, JSON.stringify(state));
  renameSync(temp, path);
}

function loadState(path: string, store: InvoiceStore): void {
  if (!existsSync(path)) return;
  store.importState(JSON.parse(readFileSync(path, 'utf8')) as StoreState);
}
