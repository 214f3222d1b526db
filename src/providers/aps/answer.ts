import { fromProviderDecimal } from '../../money.js';
import { ProviderError, type CreatedLink, type LinkState, type LinkStatus } from '../types.js';

/**
 * Reading APS answers once their signature has been verified: response codes, the PAYMENT_LINK
 * result and the CHECK_PAYMENT_LINK_STATUS result as rentlink's LinkStatus.
 *
 * A response_code is a 2-digit status + a 3-digit message: `48000` link created, `12000` status
 * query ok, `49xxx` / `11xxx` their failures, `00xxx` an invalid request (`00008` signature mismatch).
 */

/** A verified APS answer: name → value, as parsed from JSON. */
export type ApsAnswer = Record<string, unknown>;

export interface ResponseCode {
  /** The full code, e.g. `48000`; '' when absent. */
  code: string;
  /** The 2-digit request status (`status`, or the code's first two digits). */
  status: string;
  /** The 3-digit message part (`000`, `008`, `036`, …); '' when the code is not 5 digits. */
  message: string;
}

/** Create succeeded: 48 per the docs, 20 in the published sample (the official SDK accepts both). */
const CREATE_SUCCESS = new Set(['48', '20']);
/** Status query succeeded. */
const QUERY_SUCCESS = '12';
/** Message code "order not found". */
const ORDER_NOT_FOUND = '036';
const SIGNATURE_MISMATCH = '008';
/** Candidates for "this merchant_reference was used already" (which one APS sends is unconfirmed). */
const DUPLICATE_REFERENCE = new Set(['066', '007', '126', '150']);

export function responseCode(answer: ApsAnswer): ResponseCode {
  const code = text(answer['response_code']) ?? '';
  const status = text(answer['status']) ?? (/^\d{5}$/.test(code) ? code.slice(0, 2) : '');
  return { code, status, message: /^\d{5}$/.test(code) ? code.slice(2) : '' };
}

/** The provider's own words for a refusal, with the code and what to do when we know. */
function describeRefusal(answer: ApsAnswer): string {
  const { code, message } = responseCode(answer);
  const words = text(answer['response_message']) ?? 'request refused';
  const hint =
    message === SIGNATURE_MISMATCH
      ? ' (APS could not verify our signature: check requestPhrase and shaType)'
      : DUPLICATE_REFERENCE.has(message)
        ? ' (the merchant_reference was used before: look the link up with findLink instead of creating it again)'
        : '';
  return `${words} (response_code ${code || 'absent'})${hint}`;
}

/** A CHECK_PAYMENT_LINK_STATUS refusal meaning "no such link" (message code 036). */
export function isOrderNotFound(answer: ApsAnswer): boolean {
  const { status, message } = responseCode(answer);
  return status !== QUERY_SUCCESS && message === ORDER_NOT_FOUND;
}

/**
 * The created link from a PAYMENT_LINK answer. Success is decided on the presence of
 * `payment_link_id` + `payment_link`; a success code without them is an uncertain outcome.
 * @throws ProviderError `rejected` (refused, with APS' message) or `unavailable` (uncertain).
 */
export function readCreatedLink(answer: ApsAnswer, endpoint: string): CreatedLink {
  const { code, status } = responseCode(answer);
  const providerLinkId = text(answer['payment_link_id']);
  const url = text(answer['payment_link']);
  const refused = status === '00' || status === '49';
  if (providerLinkId && url && !refused)
    return { providerLinkId, url, expiresAt: readApsInstant(answer['request_expiry_date']) };
  if (CREATE_SUCCESS.has(status)) {
    throw new ProviderError(
      'unavailable',
      `${endpoint}: response_code ${code} without payment_link_id and payment_link`,
      {
        endpoint,
      },
    );
  }
  throw new ProviderError('rejected', `${endpoint}: ${describeRefusal(answer)}`, { endpoint });
}

/**
 * A CHECK_PAYMENT_LINK_STATUS answer as a LinkStatus. `reference` and `providerLinkId` are what APS
 * says (the caller checks they are ours); `amount` (integer minor units, as a string) is read only
 * when the answer's currency is ours.
 * @throws ProviderError `rejected` (refused) or `unavailable` (success without the fields it needs).
 */
export function readLinkStatus(answer: ApsAnswer, currency: string, endpoint: string): LinkStatus {
  const { code, status } = responseCode(answer);
  if (status !== QUERY_SUCCESS)
    throw new ProviderError('rejected', `${endpoint}: ${describeRefusal(answer)}`, { endpoint });
  const providerLinkId = text(answer['payment_link_id']);
  const rawStatus = text(answer['payment_link_status']);
  if (!providerLinkId || !rawStatus) {
    throw new ProviderError(
      'unavailable',
      `${endpoint}: response_code ${code} without payment_link_id or payment_link_status`,
      {
        endpoint,
      },
    );
  }
  const state = linkStateOf(rawStatus);
  const amountMinor = readApsAmount(answer['amount'], text(answer['currency']), currency);
  return {
    providerLinkId,
    reference: text(answer['merchant_reference']),
    state,
    rawStatus,
    amountMinor,
    expiresAt: readApsInstant(answer['request_expiry_date']),
    payment:
      state === 'paid'
        ? { paymentId: text(answer['fort_id']), method: text(answer['payment_option']), amountMinor, paidAt: null }
        : null,
    paidMoreThanOnce: false,
    refunded: false,
    url: text(answer['payment_link']),
    details: statusDetails(answer),
  };
}

/** `Paid` / `Open` / `Expired` / `Closed`, any case; an unknown word is pending (still worth polling). */
function linkStateOf(rawStatus: string): LinkState {
  switch (rawStatus.trim().toLowerCase()) {
    case 'paid':
      return 'paid';
    case 'expired':
      return 'expired';
    case 'closed':
      return 'canceled';
    default:
      return 'pending';
  }
}

/**
 * APS amounts are integer minor units (`"125000"` = 1250.00 AED, `"250500"` = 250.500 KWD). A value
 * with a decimal point can only be major units, so it is read as such. Null when the answer names
 * another currency or the value is not an amount.
 */
function readApsAmount(value: unknown, answerCurrency: string | null, currency: string): number | null {
  if (answerCurrency !== null && answerCurrency.toUpperCase() !== currency.toUpperCase()) return null;
  const raw = text(value);
  if (raw === null) return null;
  if (/^\d{1,15}$/.test(raw)) return Number(raw);
  if (!/^\d{1,15}\.\d{1,6}$/.test(raw)) return null;
  try {
    return fromProviderDecimal(raw, currency);
  } catch {
    return null; // a currency rentlink does not know: no exponent to read it with
  }
}

/** ISO 8601 with an offset, or without one (then UTC, as APS reports status dates); null otherwise. */
function readApsInstant(value: unknown): number | null {
  const raw = text(value);
  const match = raw
    ? /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?)(Z|[+-]\d{2}:?\d{2})?$/.exec(raw)
    : null;
  if (!match) return null;
  const offset = match[3] ?? 'Z';
  const ms = Date.parse(
    `${match[1]}T${match[2]}${offset.length === 5 ? `${offset.slice(0, 3)}:${offset.slice(3)}` : offset}`,
  );
  return Number.isFinite(ms) ? ms : null;
}

/** The answer's non-secret facts for the event log (no signature, access code or customer data). */
function statusDetails(answer: ApsAnswer): Record<string, unknown> {
  const details: Record<string, unknown> = {};
  const keep: Array<[string, string]> = [
    ['responseCode', 'response_code'],
    ['responseMessage', 'response_message'],
    ['paymentLinkStatus', 'payment_link_status'],
    ['fortId', 'fort_id'],
    ['paymentOption', 'payment_option'],
    ['amount', 'amount'],
    ['currency', 'currency'],
    ['requestExpiryDate', 'request_expiry_date'],
  ];
  for (const [name, field] of keep) {
    const value = text(answer[field]);
    if (value !== null) details[name] = value;
  }
  return details;
}

/** A scalar as trimmed text; null for absent, empty, or structured values. */
export function text(value: unknown): string | null {
  if (typeof value === 'string') return value.trim() === '' ? null : value.trim();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}
