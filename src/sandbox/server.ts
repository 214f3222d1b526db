import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve, type HttpBindings } from '@hono/node-server';
import { Hono } from 'hono';
import { DAY, systemClock, type Clock } from '../time/clock.js';
import { currencyExponent } from '../money.js';
import { registerApiRoutes, failureEnvelope } from './myfatoorah/api.js';
import { SandboxCore, type SandboxRequest } from './myfatoorah/core.js';
import { assertTimeZone } from './myfatoorah/dates.js';
import type { Fault, FaultEndpoint } from './faults.js';
import { messagePage } from './myfatoorah/pay-page.js';
import { registerControlRoutes, registerPageRoutes } from './myfatoorah/routes.js';
import { snapshot, type PaymentOptions, type PaymentOutcome, type SandboxInvoice } from './myfatoorah/state.js';
import type { SandboxLogger, WebhookDelivery } from './myfatoorah/webhooks.js';

/**
 * A MyFatoorah-compatible provider simulator (API v2 SendPayment + GetPaymentStatus, an invoice pay
 * page, signed V2 webhooks, fault injection and rate limiting) for tests, the demo and local runs.
 * Times come from the injected Clock; only rate limiting, fault holds and webhook retry delays use
 * real time, because they are about real request timing.
 */

export type { SandboxRequest } from './myfatoorah/core.js';
export type { Fault, FaultEndpoint } from './faults.js';
export type {
  PaymentOptions,
  PaymentOutcome,
  SandboxInvoice,
  SandboxInvoiceStatus,
  SandboxTransaction,
} from './myfatoorah/state.js';
export type { SandboxLogger, WebhookDelivery } from './myfatoorah/webhooks.js';

export interface SandboxOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Interface to bind; default 127.0.0.1. */
  host?: string;
  /** Source of ALL business times (CreatedDate, expiry checks, transaction dates); default systemClock. */
  clock?: Clock;
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
  /** Base of InvoiceURL and redirect pages; default the listening URL. */
  publicBaseUrl?: string;
  /** Validity of invoices created without ExpiryDate ("portal default"); default 10 days. */
  defaultInvoiceValidityMs?: number;
  logger?: SandboxLogger;
  /** Keep invoices in this JSON file across restarts (the demo and `start` share them); default in memory. */
  statePath?: string;
}

export interface SandboxHandle {
  /** Base URL, e.g. http://127.0.0.1:PORT (use as the MyFatoorah API base). */
  readonly url: string;
  readonly port: number;
  /** Stops the server quickly: ends held requests, drops keep-alive sockets, abandons webhook retries. */
  close(): Promise<void>;
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

/** Starts the sandbox on a real HTTP port. */
export async function startSandbox(options: SandboxOptions = {}): Promise<SandboxHandle> {
  const core = createCore(options);
  const app = createApp(core);
  const server = await listen(app, options.port ?? 0, options.host ?? '127.0.0.1');
  const { port } = server.address() as AddressInfo;
  const url = `http://${formatHost(options.host ?? '127.0.0.1')}:${port}`;
  core.publicBaseUrl = (options.publicBaseUrl ?? url).replace(/\/+$/, '');
  options.logger?.info({ url, publicBaseUrl: core.publicBaseUrl }, 'MyFatoorah sandbox listening');
  return createHandle(core, server, url, port);
}

function createCore(options: SandboxOptions): SandboxCore {
  const accountTimeZone = options.accountTimeZone ?? 'Asia/Kuwait';
  const currency = options.currency ?? 'KWD';
  assertTimeZone(accountTimeZone);
  currencyExponent(currency); // throws CURRENCY_UNKNOWN early
  const webhook =
    options.webhookUrl && options.webhookSecret
      ? { url: options.webhookUrl, secret: options.webhookSecret, retryDelayMs: options.webhookRetryDelayMs ?? 1000 }
      : null;
  return new SandboxCore({
    clock: options.clock ?? systemClock,
    token: options.token ?? 'sandbox-token',
    accountTimeZone,
    currency,
    defaultValidityMs: options.defaultInvoiceValidityMs ?? 10 * DAY,
    statusRateLimitPerSecond: options.statusRateLimitPerSecond ?? null,
    webhook,
    logger: options.logger,
    ...(options.statePath ? { statePath: options.statePath } : {}),
  });
}

function createApp(core: SandboxCore): Hono<{ Bindings: HttpBindings }> {
  const app = new Hono<{ Bindings: HttpBindings }>();
  registerApiRoutes(app, core);
  registerPageRoutes(app, core);
  registerControlRoutes(app, core);
  app.notFound((c) => c.html(messagePage('Not found', `No route for ${c.req.method} ${c.req.path}`), 404));
  app.onError((err, c) => {
    core.logger?.warn({ err: err.message, path: c.req.path }, 'sandbox internal error');
    return c.json(failureEnvelope('Internal sandbox error', null), 500);
  });
  return app;
}

function listen(app: Hono<{ Bindings: HttpBindings }>, port: number, hostname: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    // overrideGlobalObjects: false keeps the process's global Request/Response untouched (tests share it).
    const server = serve({ fetch: app.fetch, port, hostname, overrideGlobalObjects: false }, () =>
      resolve(server as Server),
    );
    server.once('error', reject);
  });
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function createHandle(core: SandboxCore, server: Server, url: string, port: number): SandboxHandle {
  let closing: Promise<void> | null = null;
  const noDeliveries: WebhookDelivery[] = [];
  return {
    url,
    port,
    close: () => (closing ??= closeServer(core, server)),
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

async function closeServer(core: SandboxCore, server: Server): Promise<void> {
  core.releaseHolds();
  await core.dispatcher?.stop();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
}
