import type { Hono } from 'hono';
import { DAY } from '../../time/clock.js';
import { currencyExponent } from '../../money.js';
import type { FakeContext, ProviderFake, SandboxEnv } from '../host.js';
import type { Fault, FaultEndpoint } from '../faults.js';
import { registerApiRoutes } from './api.js';
import { SandboxCore, type SandboxRequest } from './core.js';
import { assertTimeZone } from './dates.js';
import { registerControlRoutes, registerPageRoutes } from './routes.js';
import { snapshot, type PaymentOptions, type PaymentOutcome, type SandboxInvoice } from './state.js';
import type { WebhookDelivery } from './webhooks.js';

/**
 * The MyFatoorah fake: API v2 SendPayment + GetPaymentStatus, an invoice pay page, signed V2 webhooks,
 * fault injection and rate limiting, mounted on the sandbox host (`/v2/…`, `/pay/…`, `/_sandbox/…`).
 */

export interface MyFatoorahFakeOptions {
  /** The accepted Bearer token; default 'sandbox-token'. */
  token?: string;
  /** IANA zone ExpiryDate strings are read and printed in; default 'Asia/Kuwait'. */
  accountTimeZone?: string;
  /** Account base currency (ISO 4217); default 'KWD'. */
  currency?: string;
  /** Where signed V2 webhooks are POSTed (only when webhookSecret is set too). */
  webhookUrl?: string;
  webhookSecret?: string;
  /** Real-time delay between webhook retries; default 1000 (MyFatoorah: up to 180 s). */
  webhookRetryDelayMs?: number;
  /** GetPaymentStatus requests per second before 429s; default unlimited. */
  statusRateLimitPerSecond?: number | null;
  /** Validity of invoices created without ExpiryDate ("portal default"); default 10 days. */
  defaultInvoiceValidityMs?: number;
  /**
   * Real milliseconds every API call (`/v2/…`) takes before it is answered, like a provider far away;
   * default 0. The bench uses 50 to show that worker processes add throughput when the provider is slow.
   */
  latencyMs?: number;
}

/** What tests (and the demo) can see and do through the fake. */
export interface MyFatoorahSandboxHandle {
  /** Every API request received (`/v2/*`), in arrival order; live array. */
  readonly requests: SandboxRequest[];
  /** Snapshots (deep copies) of all invoices, oldest first. */
  invoices(): SandboxInvoice[];
  /** Snapshots of the invoices with this CustomerReference, oldest first (duplicates show up here). */
  invoicesByReference(reference: string): SandboxInvoice[];
  /** Snapshot of one invoice, or undefined. */
  invoice(invoiceId: number | string): SandboxInvoice | undefined;
  /** The next `times` requests to `endpoint` get `fault` (FIFO, after any already queued). */
  injectFault(endpoint: FaultEndpoint, fault: Fault, times?: number): void;
  clearFaults(): void;
  /**
   * Pays like the pay page's Pay button: Succss transaction, Paid (DuplicatePayment when already paid),
   * webhook. Returns the paymentId and the redirect target the browser would get.
   * @throws RentlinkError NOT_FOUND, or INVALID_STATE when canceled or (without `force`) expired.
   */
  pay(invoiceId: number | string, options?: PaymentOptions): PaymentOutcome;
  /** Like the Fail button: Failed transaction (MF002), status unchanged, webhook. Throws like pay(). */
  failPayment(invoiceId: number | string, options?: PaymentOptions): PaymentOutcome;
  /** Cancels an unpaid invoice. @throws RentlinkError INVALID_STATE when paid, NOT_FOUND. */
  cancel(invoiceId: number | string): SandboxInvoice;
  /** Changes the GetPaymentStatus rate limit (null = unlimited); starts with a full bucket. */
  setRateLimit(perSecond: number | null): void;
  /** Every webhook delivery attempt and its answer; live array (empty without webhook config). */
  readonly webhookDeliveries: WebhookDelivery[];
  /** Resolves when no webhook delivery or retry is in flight. Await it instead of sleeping. */
  webhooksIdle(): Promise<void>;
  /** Like webhooksIdle(), but retries go out immediately instead of after webhookRetryDelayMs. */
  deliverWebhooksNow(): Promise<void>;
  /** How many GetPaymentStatus requests the rate limit refused with 429. */
  readonly throttledCount: number;
}

export function createMyFatoorahFake(
  options: MyFatoorahFakeOptions,
  ctx: FakeContext,
): { fake: ProviderFake; handle: MyFatoorahSandboxHandle } {
  const core = createCore(options, ctx);
  const fake: ProviderFake = {
    provider: 'myfatoorah',
    register: (app: Hono<SandboxEnv>) => {
      registerApiRoutes(app, core);
      registerPageRoutes(app, core);
      registerControlRoutes(app, core);
    },
    close: async () => {
      core.releaseHolds();
      await core.dispatcher?.stop();
    },
  };
  return { fake, handle: createHandle(core) };
}

function createCore(options: MyFatoorahFakeOptions, ctx: FakeContext): SandboxCore {
  const accountTimeZone = options.accountTimeZone ?? 'Asia/Kuwait';
  const currency = options.currency ?? 'KWD';
  assertTimeZone(accountTimeZone);
  currencyExponent(currency); // throws CURRENCY_UNKNOWN early
  const webhook =
    options.webhookUrl && options.webhookSecret
      ? { url: options.webhookUrl, secret: options.webhookSecret, retryDelayMs: options.webhookRetryDelayMs ?? 1000 }
      : null;
  return new SandboxCore(
    {
      token: options.token ?? 'sandbox-token',
      accountTimeZone,
      currency,
      defaultValidityMs: options.defaultInvoiceValidityMs ?? 10 * DAY,
      statusRateLimitPerSecond: options.statusRateLimitPerSecond ?? null,
      latencyMs: options.latencyMs ?? 0,
      webhook,
    },
    ctx,
  );
}

function createHandle(core: SandboxCore): MyFatoorahSandboxHandle {
  const noDeliveries: WebhookDelivery[] = [];
  return {
    requests: core.requests,
    invoices: () => core.store.all().map(snapshot),
    invoicesByReference: (reference) => core.store.byReference(reference).map(snapshot),
    invoice: (invoiceId) => {
      const found = core.store.get(invoiceId);
      return found ? snapshot(found) : undefined;
    },
    injectFault: (endpoint, fault, times = 1) => core.faults.inject(endpoint, fault, times),
    clearFaults: () => core.faults.clear(),
    pay: (invoiceId, options) => withSnapshot(core.pay(invoiceId, options)),
    failPayment: (invoiceId, options) => withSnapshot(core.fail(invoiceId, options)),
    cancel: (invoiceId) => snapshot(core.store.cancel(invoiceId)),
    setRateLimit: (perSecond) => core.setRateLimit(perSecond),
    webhookDeliveries: core.dispatcher?.deliveries ?? noDeliveries,
    webhooksIdle: () => core.dispatcher?.idle() ?? Promise.resolve(),
    deliverWebhooksNow: () => core.dispatcher?.flush() ?? Promise.resolve(),
    get throttledCount() {
      return core.throttledCount;
    },
  };
}

function withSnapshot(outcome: PaymentOutcome): PaymentOutcome {
  return { ...outcome, invoice: snapshot(outcome.invoice), transaction: structuredClone(outcome.transaction) };
}
