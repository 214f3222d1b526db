import type { Channel, Language } from '../db/schema.js';
// Transitional: the contract the MyFatoorah-only code still uses, until it moves to ./types.ts.
import { RentlinkError, type ErrorCode } from '../errors.js';

/**
 * The seam every payment-link provider sits behind. MyFatoorah is the first implementation; the
 * built-in sandbox speaks MyFatoorah's API, so it is the same implementation at another base URL.
 */
export type ProviderId = 'myfatoorah' | 'aps' | 'paymennt' | 'sandbox';

/** What a send job asks the provider to create. Money is integer minor units. */
export interface LinkRequest {
  /** Our unique, deterministic reference (MyFatoorah CustomerReference). */
  reference: string;
  customerName: string;
  channel: Channel;
  email: string | null;
  /** National number, digits only. */
  mobile: string | null;
  /** `+965` style. */
  mobileCountryCode: string | null;
  language: Language;
  amountMinor: number;
  currency: string;
  /** The instant the link stops being payable. */
  expiresAt: number;
  callbackUrl?: string;
  errorUrl?: string;
  /** Echoed back by the provider: points at our charge and link. */
  userDefinedField: string;
}

export interface CreatedLink {
  invoiceId: string;
  /** The payment page; null only if a provider answered without one. */
  url: string | null;
}

export interface ProviderTransaction {
  paymentId: string | null;
  status: string;
  gateway: string | null;
  errorCode: string | null;
  error: string | null;
}

/** A provider's view of one link, normalised. The provider's status API is the source of truth. */
export interface LinkStatus {
  invoiceId: string;
  reference: string | null;
  /** `pending` includes failed and in-progress transactions: the tenant can still pay. */
  state: 'pending' | 'paid' | 'canceled';
  /** The tenant paid more than once (MyFatoorah DuplicatePayment): paid, and worth a refund review. */
  duplicatePayment: boolean;
  /** The provider's own status word, for events. */
  rawStatus: string;
  /** The invoice value in our currency's minor units, when the answer states it in that currency. */
  amountMinor: number | null;
  /** When the provider says the link expires; null when it does not say. */
  expiresAt: number | null;
  /** The successful payment, when there is one. */
  payment: {
    paymentId: string | null;
    gateway: string | null;
    amountMinor: number | null;
    paidAt: number | null;
  } | null;
  url: string | null;
  transactions: ProviderTransaction[];
}

/** How to find a link at the provider: by its invoice id, or by a payment id from a callback/webhook. */
export interface LinkKey {
  invoiceId?: string | null;
  paymentId?: string | null;
  /** Our currency, to read the answer's amounts. */
  currency: string;
}

export interface PaymentProvider {
  readonly id: ProviderId;
  /** Creates the payment link (MyFatoorah SendPayment). Not idempotent at the provider: see findLink. */
  createLink(req: LinkRequest): Promise<CreatedLink>;
  /** Looks a link up by our reference, for retries after an uncertain outcome; null when none exists. */
  findLink(reference: string, currency: string): Promise<LinkStatus | null>;
  /** The link's current status (MyFatoorah GetPaymentStatus). */
  getStatus(key: LinkKey): Promise<LinkStatus>;
}

/**
 * How a provider call failed, which decides what the job does:
 * - `rejected`: permanent (validation, auth) — the charge fails with the provider's message, no retry;
 * - `rate_limited`: slow down — pause the queue for `retryAfterMs`, no attempt used;
 * - `unavailable`: transient (network, timeout, 5xx, non-JSON) — retried with backoff; the outcome of a
 *   create is uncertain, so the retry looks up before creating again.
 */
export type ProviderErrorKind = 'rejected' | 'rate_limited' | 'unavailable';

const CODES: Record<ProviderErrorKind, ErrorCode> = {
  rejected: 'PROVIDER_REJECTED',
  rate_limited: 'PROVIDER_RATE_LIMITED',
  unavailable: 'PROVIDER_UNAVAILABLE',
};

export class ProviderError extends RentlinkError {
  readonly kind: ProviderErrorKind;
  readonly endpoint: string;
  readonly httpStatus: number | null;
  /** Advised wait, from Retry-After; null when the provider gave none. */
  readonly retryAfterMs: number | null;

  constructor(
    kind: ProviderErrorKind,
    message: string,
    details: { endpoint: string; httpStatus?: number | null; retryAfterMs?: number | null; cause?: unknown },
  ) {
    super(CODES[kind], message, { cause: details.cause });
    this.name = 'ProviderError';
    this.kind = kind;
    this.endpoint = details.endpoint;
    this.httpStatus = details.httpStatus ?? null;
    this.retryAfterMs = details.retryAfterMs ?? null;
  }
}

export function isProviderError(err: unknown, kind?: ProviderErrorKind): err is ProviderError {
  return err instanceof ProviderError && (kind === undefined || err.kind === kind);
}
