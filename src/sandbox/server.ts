import type { Clock } from '../time/clock.js';
import { startFakeHost, type SandboxLogger } from './host.js';
import { createMyFatoorahFake, type MyFatoorahFakeOptions, type MyFatoorahSandboxHandle } from './myfatoorah/index.js';
import { fileStore, memoryStore } from './store.js';

/**
 * The MyFatoorah sandbox on its own server: what `rentlink sandbox` runs and what the tests talk to
 * (the production MyFatoorah client pointed at it). Times come from the injected Clock; only rate
 * limiting, fault holds and webhook retry delays use real time, because they are about real timing.
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
export type { WebhookDelivery } from './myfatoorah/webhooks.js';
export type { SandboxLogger } from './host.js';

export interface SandboxOptions extends MyFatoorahFakeOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Interface to bind; default 127.0.0.1. */
  host?: string;
  /** Source of ALL business times (CreatedDate, expiry checks, transaction dates); default systemClock. */
  clock?: Clock;
  /** Base of InvoiceURL and redirect pages; default the listening URL. */
  publicBaseUrl?: string;
  logger?: SandboxLogger;
  /** Keep invoices in this file across restarts (one record per change); default in memory. */
  statePath?: string;
}

export interface SandboxHandle extends MyFatoorahSandboxHandle {
  /** Base URL, e.g. http://127.0.0.1:PORT (use as the MyFatoorah API base). */
  readonly url: string;
  readonly port: number;
  /** Stops the server quickly: ends held requests, drops keep-alive sockets, abandons webhook retries. */
  close(): Promise<void>;
}

/** Starts the MyFatoorah sandbox on a real HTTP port. */
export async function startSandbox(options: SandboxOptions = {}): Promise<SandboxHandle> {
  let handle: MyFatoorahSandboxHandle | undefined;
  const host = await startFakeHost(
    (ctx) => {
      const mf = createMyFatoorahFake(options, ctx);
      handle = mf.handle;
      return [mf.fake];
    },
    {
      ...(options.port !== undefined ? { port: options.port } : {}),
      ...(options.host ? { host: options.host } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.publicBaseUrl ? { publicBaseUrl: options.publicBaseUrl } : {}),
      store: options.statePath ? fileStore(options.statePath) : memoryStore(),
    },
  );
  options.logger?.info({ url: host.url }, 'MyFatoorah sandbox listening');
  // Copy the handle's properties with their getters (throttledCount is live), then add the server's.
  const fake = Object.defineProperties({}, Object.getOwnPropertyDescriptors(handle as MyFatoorahSandboxHandle));
  return Object.assign(fake, { url: host.url, port: host.port, close: host.close }) as SandboxHandle;
}
