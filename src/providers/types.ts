import type { z } from 'zod';
import { RentlinkError, type ErrorCode } from '../errors.js';
import type { Clock } from '../time/clock.js';

/**
 * The seam every payment-link provider sits behind. rentlink speaks its own words here (channel
 * `email | sms | both | link`, integer minor units, instants in epoch ms); each provider folder
 * (`providers/<id>/`) translates them to its API and back. Nothing outside `providers/<id>/` knows a
 * provider's field names, status words, signature schemes, phone rules or time zones.
 */

export const PROVIDER_IDS = ['myfatoorah', 'aps', 'paymennt'] as const;
export type ProviderId = (typeof PROVIDER_IDS)[number];

/** How the tenant receives the link: by email, by SMS, both, or not at all (the operator shares the URL). */
export const CHANNELS = ['email', 'sms', 'both', 'link'] as const;
export type Channel = (typeof CHANNELS)[number];

/**
 * Reads a channel as operators write it: rentlink's words, or the codes earlier lease files used
 * (`EML`, `SMS`, `ALL`, `LNK`), in any case. Null when it is neither.
 */
export function parseChannel(text: string): Channel | null {
  const word = text.trim().toLowerCase();
  const legacy: Record<string, Channel> = { eml: 'email', all: 'both', lnk: 'link' };
  const channel = legacy[word] ?? word;
  return (CHANNELS as readonly string[]).includes(channel) ? (channel as Channel) : null;
}

/** Whether a channel sends the link by email / by SMS. */
export const sendsEmail = (channel: Channel): boolean => channel === 'email' || channel === 'both';
export const sendsSms = (channel: Channel): boolean => channel === 'sms' || channel === 'both';

export const LANGUAGES = ['en', 'ar'] as const;
export type Language = (typeof LANGUAGES)[number];

/** The tenant as a provider needs them. `mobile` is the national number (digits), `mobileCountryCode` `+965` style. */
export interface Contact {
  name: string;
  email: string | null;
  mobile: string | null;
  mobileCountryCode: string | null;
  language: Language;
}

/** A contact field a provider cannot accept, named by the lease CSV column it comes from. */
export interface FieldProblem {
  field: 'tenant_name' | 'email' | 'mobile' | 'mobile_country_code' | 'channel' | 'currency' | 'valid_days';
  message: string;
}

/** What a send job asks the provider to create. Money is integer minor units of `currency`. */
export interface LinkRequest {
  /**
   * Our unique, deterministic reference for this link (one attempt of one charge), `[A-Za-z0-9._-]`,
   * ≤ 40 chars: MyFatoorah CustomerReference, APS merchant_reference, paymennt requestId. The key for
   * {@link PaymentProvider.findLink} after an uncertain create.
   */
  reference: string;
  /** The charge's reference, the same for every attempt (paymennt orderId), `[A-Za-z0-9._-]`, ≤ 40 chars. */
  orderReference: string;
  customer: Contact;
  channel: Channel;
  amountMinor: number;
  currency: string;
  /** The instant the link stops being payable (the provider may cap it: see maxValidityMs). */
  expiresAt: number;
  /** Human-readable, e.g. "Rent December 2026 – Unit 12" (≤ 150 chars). */
  description: string;
  /** Where the tenant's browser goes after paying (our callback), when rentlink has a public URL. */
  returnUrl?: string;
  /** Where it goes after a failed payment, when the provider distinguishes. */
  errorUrl?: string;
  /** Small key → value facts echoed back where the provider supports it (charge, link, lease, period). */
  metadata: Record<string, string>;
}

export interface CreatedLink {
  /** The provider's own id for the link (MyFatoorah InvoiceId, APS payment_link_id, paymennt checkout id). */
  providerLinkId: string;
  /** The payment page; null only if a provider answered without one. */
  url: string | null;
  /** The expiry the provider actually applied, when it says (it may cap what was asked). */
  expiresAt: number | null;
}

/**
 * A provider's view of one link, normalised. The provider's status API is the source of truth.
 * - `pending`: payable, or a payment is in progress / failed and the tenant may try again;
 * - `paid`: a payment succeeded (refunds later are recorded as events, the link stays paid);
 * - `canceled`: closed at the provider, no longer payable;
 * - `expired`: the provider itself says the link expired (MyFatoorah never does: rentlink computes it).
 */
export type LinkState = 'pending' | 'paid' | 'canceled' | 'expired';

export interface LinkPayment {
  paymentId: string | null;
  /** Card scheme / gateway, e.g. KNET, VISA. */
  method: string | null;
  amountMinor: number | null;
  paidAt: number | null;
}

export interface LinkStatus {
  providerLinkId: string;
  /** Our reference as the provider echoes it; null when the answer does not say. */
  reference: string | null;
  state: LinkState;
  /** The provider's own status word, for events and the operator. */
  rawStatus: string;
  /** The link's amount in minor units of our currency, when the answer states it in that currency. */
  amountMinor: number | null;
  /** When the provider says the link expires; null when it does not say. */
  expiresAt: number | null;
  /** The successful payment, when there is one. */
  payment: LinkPayment | null;
  /** The tenant paid this one link more than once (MyFatoorah DuplicatePayment). */
  paidMoreThanOnce: boolean;
  /** A payment on it was refunded or charged back since (the link stays paid; worth an event). */
  refunded: boolean;
  url: string | null;
  /** Provider-specific facts worth keeping in the event log (transactions, codes); never secrets. */
  details: Record<string, unknown>;
}

/** How to address a link the provider already has: its id, with what rentlink knows of it. */
export interface LinkKey {
  providerLinkId: string;
  reference: string;
  /** Our currency, to read the answer's amounts. */
  currency: string;
}

/** A webhook request as received: lower-cased header names, the body exactly as sent. */
export interface WebhookRequest {
  headers: Record<string, string>;
  rawBody: string;
}

/** What a verified webhook says: a hint only — the worker confirms with getStatus before acting. */
export interface WebhookHint {
  providerLinkId: string | null;
  reference: string | null;
  /** Equal for a replay of the same delivery (dedupe key, without the provider/account prefix). */
  dedupeKey: string;
  /** A few verified, non-secret facts for the event log (status words, payment id). */
  summary: Record<string, string | null>;
}

export type WebhookResult =
  | { kind: 'hint'; hint: WebhookHint }
  /** Missing, malformed or wrong signature: answer 401, change nothing. */
  | { kind: 'bad-signature'; reason: string }
  /** Correctly signed (or unverifiable and harmless) but nothing rentlink acts on: answer 200, record nothing. */
  | { kind: 'ignored'; reason: string };

export interface PaymentProvider {
  readonly id: ProviderId;
  /** The configured account's name (accounts file), `default` for the MYFATOORAH_* shorthand. */
  readonly account: string;
  /** True when the account talks to the built-in sandbox (no real money). */
  readonly sandbox: boolean;
  /** The longest validity one link may have; a longer window is covered by renewals. Null: no limit. */
  readonly maxValidityMs: number | null;
  /** Whether {@link cancelLink} exists: a superseded link can be closed at the provider. */
  readonly canCancel: boolean;
  /** The IANA zone the account reports local times in (MyFatoorah expiry), for display. */
  readonly timeZone: string;
  /** This provider's rules for the tenant's contact fields and the channel; checked at import. */
  contactProblems(contact: Contact, channel: Channel, currency: string): FieldProblem[];
  /** Creates the link. Not idempotent at every provider: after an uncertain outcome call findLink first. */
  createLink(req: LinkRequest): Promise<CreatedLink>;
  /** Looks a link up by our reference (after an uncertain create); null when the provider has none. */
  findLink(reference: string, currency: string): Promise<LinkStatus | null>;
  /** The link's current status. */
  getStatus(key: LinkKey): Promise<LinkStatus>;
  /** Closes the link at the provider so it can no longer be paid (only where canCancel). */
  cancelLink?(key: LinkKey): Promise<void>;
  /** Verifies and reads a webhook. Never throws: a bad request is `bad-signature` or `ignored`. */
  parseWebhook(req: WebhookRequest): WebhookResult;
}

/** Called after every provider HTTP call, for metrics and logs. Never receives secrets. */
export type CallObserver = (call: {
  endpoint: string;
  outcome: 'ok' | ProviderErrorKind;
  httpStatus: number | null;
  ms: number;
}) => void;

/** What every provider client gets besides its account's own settings. */
export interface ProviderDeps {
  clock: Clock;
  /** Per-request timeout (PROVIDER_TIMEOUT_MS). */
  timeoutMs: number;
  observe?: CallObserver;
}

/**
 * One provider folder's entry point: the account settings it accepts (a zod schema over the accounts
 * file's entry, secrets already resolved from `env:` references) and how to build a client from them.
 */
export interface ProviderModule<Settings extends { name: string; baseUrl: string }> {
  readonly id: ProviderId;
  readonly settingsSchema: z.ZodType<Settings>;
  create(settings: Settings, deps: ProviderDeps & { sandbox: boolean }): PaymentProvider;
}

/**
 * How a provider call failed, which decides what the job does:
 * - `rejected`: permanent (validation, auth) — the charge fails with the provider's message, no retry;
 * - `rate_limited`: slow down — pause that account's queue for `retryAfterMs`, no attempt used;
 * - `unavailable`: transient (network, timeout, 5xx, non-JSON, an answer that fails verification) —
 *   retried with backoff; the outcome of a create is uncertain, so the retry looks up before creating.
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
