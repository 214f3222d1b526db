import type { Hono } from 'hono';
import type { FakeContext, ProviderFake, SandboxEnv } from '../host.js';
import { registerApiRoutes } from './api.js';
import type { PaymentOptions, SandboxCheckout } from './checkouts.js';
import { PaymenntFakeCore, type PaymenntFakeOptions, type PaymenntFakeRequest } from './core.js';
import type { PaymenntFault, PaymenntFaultEndpoint } from './faults.js';
import { registerPayPageRoutes } from './pay-page.js';
import type { PaymenntWebhookDelivery } from './webhooks.js';

/**
 * A fake of paymennt's payment-link API (Merchant API v2.0: create, get, search, cancel) with a pay
 * page, webhooks, fault injection and a rate limit, for tests, the demo and local runs. Mounted on
 * the shared sandbox host (`startFakeHost`). Business times (creation, expiry) come from the host's
 * Clock; rate limiting, fault holds and webhook retry delays use real time.
 */

export type { PaymenntFakeOptions, PaymenntFakeRequest } from './core.js';
export type { PaymenntFault, PaymenntFaultEndpoint } from './faults.js';
export type { CheckoutStatus, PaymentOptions, SandboxCheckout, SandboxCustomer } from './checkouts.js';
export type { PaymenntWebhookDelivery } from './webhooks.js';

/** What tests and the control surface use to watch and steer the fake. */
export interface PaymenntFakeHandle {
  /** Every API request received (`/mer/v2.0/*`), in arrival order; live array. */
  readonly requests: PaymenntFakeRequest[];
  /** Snapshots of all checkouts (effective status, EXPIRED included), oldest first. */
  checkouts(): SandboxCheckout[];
  /** Snapshots of the checkouts created with this requestId (at most one: the fake refuses reuse). */
  checkoutsByRequestId(requestId: string): SandboxCheckout[];
  /** Snapshot of one checkout by id, or undefined. */
  checkout(id: string): SandboxCheckout | undefined;
  /** The pay page (`redirectUrl`) of a checkout. */
  payPageUrl(id: string): string;
  /**
   * Pays like the pay page's Pay button: PAID, then a webhook.
   * @throws RentlinkError NOT_FOUND, or INVALID_STATE when not PENDING (EXPIRED is payable with `force`).
   */
  pay(id: string, options?: PaymentOptions): SandboxCheckout;
  /** Like the Fail button: FAILED (final), then a webhook. Throws like pay(). */
  failPayment(id: string, options?: PaymentOptions): SandboxCheckout;
  /** Cancels a PENDING checkout, then a webhook. @throws RentlinkError INVALID_STATE otherwise. */
  cancel(id: string): SandboxCheckout;
  /** Refunds all (default) or `amountMinor` of a paid checkout: REFUNDED / PARTIALLY_REFUNDED, then a webhook. */
  refund(id: string, amountMinor?: number): SandboxCheckout;
  /** The next `times` requests to `endpoint` get `fault` (FIFO, after any already queued). */
  injectFault(endpoint: PaymenntFaultEndpoint, fault: PaymenntFault, times?: number): void;
  clearFaults(): void;
  /** Changes the GET rate limit (null = unlimited); starts with a full bucket. */
  setRateLimit(perSecond: number | null): void;
  /** Every webhook delivery attempt and its answer; live array (empty without webhookUrl). */
  readonly webhookDeliveries: PaymenntWebhookDelivery[];
  /** Resolves when no webhook delivery or retry is in flight. Await it instead of sleeping. */
  webhooksIdle(): Promise<void>;
  /** Like webhooksIdle(), but retries go out at once instead of after webhookRetryDelayMs. */
  deliverWebhooksNow(): Promise<void>;
  /** How many GET requests the rate limit refused with 429. */
  readonly throttledCount: number;
}

/**
 * Builds the paymennt fake for a host: `fake` goes into `startFakeHost`'s list, `handle` to the test.
 *
 * @example
 * let paymennt!: PaymenntFakeHandle;
 * const host = await startFakeHost((ctx) => {
 *   const made = createPaymenntFake({ apiKey: 'k', apiSecret: 's' }, ctx);
 *   paymennt = made.handle;
 *   return [made.fake];
 * }, { clock });
 * // client baseUrl: `${host.url}/mer/v2.0`
 */
export function createPaymenntFake(
  options: PaymenntFakeOptions,
  ctx: FakeContext,
): { fake: ProviderFake; handle: PaymenntFakeHandle } {
  const core = new PaymenntFakeCore(options, ctx);
  const fake: ProviderFake = {
    provider: 'paymennt',
    register: (app: Hono<SandboxEnv>) => {
      registerApiRoutes(app, core);
      registerPayPageRoutes(app, core);
    },
    close: () => core.close(),
  };
  return { fake, handle: createHandle(core) };
}

function createHandle(core: PaymenntFakeCore): PaymenntFakeHandle {
  const view = (checkout: SandboxCheckout) => core.book.view(checkout, core.now());
  const noDeliveries: PaymenntWebhookDelivery[] = [];
  return {
    requests: core.requests,
    checkouts: () => core.book.all().map(view),
    checkoutsByRequestId: (requestId) => core.book.byRequestId(requestId).map(view),
    checkout: (id) => {
      const found = core.book.get(id);
      return found ? view(found) : undefined;
    },
    payPageUrl: (id) => core.payPageUrl(core.book.require(id)),
    pay: (id, options) => view(core.pay(id, options)),
    failPayment: (id, options) => view(core.fail(id, options)),
    cancel: (id) => view(core.cancel(id)),
    refund: (id, amountMinor) => view(core.refund(id, amountMinor)),
    injectFault: (endpoint, fault, times = 1) => core.faults.inject(endpoint, fault, times),
    clearFaults: () => core.faults.clear(),
    setRateLimit: (perSecond) => core.setRateLimit(perSecond),
    webhookDeliveries: core.dispatcher?.deliveries ?? noDeliveries,
    webhooksIdle: () => core.dispatcher?.idle() ?? Promise.resolve(),
    deliverWebhooksNow: () => core.dispatcher?.flush() ?? Promise.resolve(),
    get throttledCount() {
      return core.throttledCount;
    },
  };
}
