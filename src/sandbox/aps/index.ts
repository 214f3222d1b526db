import type { FakeContext, ProviderFake } from '../host.js';
import { registerApi } from './api.js';
import { ApsSandboxCore, type ApsFakeOptions, type ApsSandboxRequest } from './core.js';
import type { ApsCommand, ApsFault } from './faults.js';
import { registerPayPages } from './pay-page.js';
import {
  snapshotAt,
  type ApsLinkSnapshot,
  type ApsPaymentOutcome,
  type ApsSandboxTransaction,
  type PaymentOptions,
} from './state.js';
import type { ApsWebhookDelivery } from './webhooks.js';

/**
 * A fake of Amazon Payment Services' payment-link API for tests, the demo and local runs, mounted on
 * the shared sandbox host (`startFakeHost`): `POST /FortAPI/paymentApi` (PAYMENT_LINK,
 * CHECK_PAYMENT_LINK_STATUS), pay pages under `/aps/…`, signed transaction feedback, fault injection
 * and a status rate limit. Business times (creation, expiry, payments) come from the host's Clock;
 * rate limiting, holds and notification retries use real time.
 *
 * One APS fake per host: it plays one merchant (the route is APS' single endpoint). Links are kept in
 * the host's SandboxStore under `aps-links:<merchantIdentifier>`, one record per change.
 */

export type { ApsFakeOptions, ApsSandboxRequest } from './core.js';
export type { ApsCommand, ApsFault } from './faults.js';
export type { ApsLinkSnapshot, ApsLinkStatus, ApsSandboxTransaction, PaymentOptions } from './state.js';
export type { ApsWebhookDelivery } from './webhooks.js';

/** What tests (and the shared sandbox server's control routes) use to watch and steer the fake. */
export interface ApsSandboxHandle {
  /** Every API call (`/FortAPI/paymentApi`) in arrival order; a live array. */
  readonly requests: ApsSandboxRequest[];
  /** Snapshots of every link, oldest first, with their status at the sandbox clock's now. */
  links(): ApsLinkSnapshot[];
  /** Snapshot of one link, or undefined. */
  link(linkId: string): ApsLinkSnapshot | undefined;
  /** Snapshots of the links with this merchant_reference (the API allows one; duplicates would show here). */
  linksByReference(reference: string): ApsLinkSnapshot[];
  /** The payment page of a link (what `payment_link` points at). */
  payPageUrl(linkId: string): string;
  /**
   * A successful payment (+ notification), as a copy. `force` pays an expired link.
   * @throws RentlinkError NOT_FOUND, INVALID_STATE (paid, closed, expired without force).
   */
  pay(linkId: string, options?: PaymentOptions): { link: ApsLinkSnapshot; transaction: ApsSandboxTransaction };
  /** A declined payment (+ notification); the link stays Open. Throws like pay(). */
  failPayment(linkId: string, options?: PaymentOptions): { link: ApsLinkSnapshot; transaction: ApsSandboxTransaction };
  /** Closes an unpaid link, as the merchant dashboard does (then reported `Closed`). */
  closeLink(linkId: string): ApsLinkSnapshot;
  /** The next `times` requests of `command` get `fault` (FIFO, after any already queued). */
  injectFault(command: ApsCommand, fault: ApsFault, times?: number): void;
  clearFaults(): void;
  /** CHECK_PAYMENT_LINK_STATUS requests per second before 429s; null: unlimited. */
  setRateLimit(perSecond: number | null): void;
  /** Status queries refused by the rate limit so far. */
  readonly throttledCount: number;
  /** Every notification delivery attempt (empty without webhookUrl); a live array. */
  readonly webhookDeliveries: readonly ApsWebhookDelivery[];
  /** Resolves when no notification is in flight or waiting for a retry. */
  webhooksIdle(): Promise<void>;
  /** Sends pending notification retries now instead of after their delay, and waits for them. */
  deliverWebhooksNow(): Promise<void>;
}

/**
 * Builds the fake for `startFakeHost`: `fake` goes in the host's list, `handle` stays with the test.
 * @example
 *   const host = await startFakeHost((ctx) => { aps = createApsFake(options, ctx); return [aps.fake]; }, { clock });
 */
export function createApsFake(
  options: ApsFakeOptions,
  ctx: FakeContext,
): { fake: ProviderFake; handle: ApsSandboxHandle } {
  const core = new ApsSandboxCore(options, ctx);
  const fake: ProviderFake = {
    provider: 'aps',
    register(app) {
      registerApi(app, core);
      registerPayPages(app, core);
    },
    close: () => core.close(),
  };
  return { fake, handle: handleFor(core) };
}

function handleFor(core: ApsSandboxCore): ApsSandboxHandle {
  const snapshot = (link: Parameters<typeof snapshotAt>[0]) => snapshotAt(link, core.now());
  const copy = (outcome: ApsPaymentOutcome) => ({
    link: snapshot(outcome.link),
    transaction: structuredClone(outcome.transaction),
  });
  return {
    requests: core.requests,
    links: () => core.store.all().map(snapshot),
    link: (linkId) => {
      const link = core.store.get(linkId);
      return link ? snapshot(link) : undefined;
    },
    linksByReference: (reference) => core.store.byReference(reference).map(snapshot),
    payPageUrl: (linkId) => core.payPageUrl(linkId),
    pay: (linkId, options) => copy(core.pay(linkId, options)),
    failPayment: (linkId, options) => copy(core.fail(linkId, options)),
    closeLink: (linkId) => snapshot(core.store.close(linkId)),
    injectFault: (command, fault, times = 1) => core.faults.inject(command, fault, times),
    clearFaults: () => core.faults.clear(),
    setRateLimit: (perSecond) => core.setRateLimit(perSecond),
    get throttledCount() {
      return core.throttledCount;
    },
    webhookDeliveries: core.dispatcher?.deliveries ?? [],
    webhooksIdle: async () => core.dispatcher?.idle(),
    deliverWebhooksNow: async () => core.dispatcher?.flush(),
  };
}
