import { fromProviderDecimal, isKnownCurrency } from '../../money.js';
import type { LinkState, LinkStatus } from '../types.js';

/**
 * Reads paymennt's checkout object (`GET /checkout/{id}`, search results) into rentlink's LinkStatus.
 * The status word is compared case-insensitively: the wire says `PENDING_CONFIRMATION`, the spec
 * also lists display names ("Pending confirmation").
 */

const REFUNDED = new Set(['REFUNDED', 'PARTIALLY_REFUNDED', 'CHARGEBACK']);

/** A checkout object as far as rentlink reads it; every field is checked before use. */
export type CheckoutObject = Record<string, unknown>;

/** `Partially refunded` → `PARTIALLY_REFUNDED`. */
function normaliseStatus(raw: string): string {
  return raw
    .trim()
    .toUpperCase()
    .replace(/[\s-]+/g, '_');
}

/**
 * paymennt status → LinkState. FAILED is terminal at paymennt ("paymennt failed to recover such a
 * checkout") and CANCELLED closes it, so both are `canceled`; paying again needs a new checkout
 * with a new requestId (a spent one cannot be reused). Refund and chargeback words mean it was
 * paid. PENDING, AUTHORIZED, PENDING_CONFIRMATION and anything unknown are `pending` (the raw word
 * is kept), so polling goes on rather than closing a link that may still be paid.
 */
function stateOf(status: string): { state: LinkState; refunded: boolean } {
  const word = normaliseStatus(status);
  if (word === 'PAID') return { state: 'paid', refunded: false };
  if (REFUNDED.has(word)) return { state: 'paid', refunded: true };
  if (word === 'CANCELLED' || word === 'CANCELED' || word === 'FAILED') return { state: 'canceled', refunded: false };
  if (word === 'EXPIRED') return { state: 'expired', refunded: false };
  return { state: 'pending', refunded: false };
}

/** The checkout's id as a string (ids are 19-digit strings; tolerate a number). */
export function checkoutId(checkout: CheckoutObject): string | null {
  return text(checkout['id']);
}

/** Reads one checkout; `currency` is ours, used to read the amount (null when the checkout's differs). */
export function toLinkStatus(checkout: CheckoutObject, currency: string): LinkStatus {
  const rawStatus = text(checkout['status']) ?? '';
  const { state, refunded } = stateOf(rawStatus);
  const amountMinor = amountIn(checkout['amount'], checkout['currency'], currency);
  const totalRefundedMinor = amountIn(checkout['totalRefunded'], checkout['currency'], currency);
  const method = text(checkout['usedPaymentMethod']);
  return {
    providerLinkId: checkoutId(checkout) ?? '',
    reference: text(checkout['requestId']),
    state,
    rawStatus,
    amountMinor,
    // The checkout object does not state its expiry.
    expiresAt: null,
    // paymennt reports no payment id or time on the checkout; the amount is the checkout's total.
    payment: state === 'paid' ? { paymentId: null, method, amountMinor, paidAt: null } : null,
    paidMoreThanOnce: false,
    refunded: refunded || (totalRefundedMinor !== null && totalRefundedMinor > 0),
    url: text(checkout['redirectUrl']),
    details: compact({
      displayId: text(checkout['displayId']),
      orderId: text(checkout['orderId']),
      currency: text(checkout['currency']),
      totalRefunded: totalRefundedMinor,
      usedPaymentMethod: method,
      timestamp: text(checkout['timestamp']),
    }),
  };
}

/** A decimal in minor units of `ours`, or null when the answer is in another currency or unreadable. */
function amountIn(value: unknown, theirs: unknown, ours: string): number | null {
  if (!isKnownCurrency(ours)) return null;
  if (typeof theirs === 'string' && theirs.trim().toUpperCase() !== ours) return null;
  return fromProviderDecimal(value, ours);
}

function text(value: unknown): string | null {
  if (typeof value === 'string') return value.trim() === '' ? null : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

function compact(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== null && value !== undefined));
}
