import { fromProviderDecimal } from '../../money.js';
import { MONTH_NAMES, zonedWallClockToInstant } from '../../time/periods.js';
import type { LinkStatus } from '../types.js';

/**
 * GetPaymentStatus `Data` → rentlink's LinkStatus. MyFatoorah's words: InvoiceStatus `Paid`,
 * `DuplicatePayment` (paid more than once), `Pending` (all transactions in progress or failed),
 * `Canceled`; there is no `Expired` — an unpaid invoice past ExpiryDate + ExpiryTime (local time of the
 * account's country) is expired, and the caller decides that from `expiresAt`.
 */

/** What the account the answer came from tells us how to read it. */
export interface ReadContext {
  /** The account's zone: ExpiryDate/ExpiryTime and TransactionDate are wall clock there. */
  timeZone: string;
  /** The account's base currency: InvoiceValue is stated in it. */
  accountCurrency: string;
}

interface Transaction {
  paymentId: string | null;
  status: string;
  gateway: string | null;
  errorCode: string | null;
  error: string | null;
}

export function toLinkStatus(data: Record<string, unknown>, currency: string, ctx: ReadContext): LinkStatus {
  const rawStatus = String(data['InvoiceStatus'] ?? '');
  const transactions = readTransactions(data['InvoiceTransactions']);
  const paid = rawStatus === 'Paid' || rawStatus === 'DuplicatePayment';
  const success = transactions.find((t) => /^(succss|success|succeeded|paid)$/i.test(t.status)) ?? null;
  const rawSuccess = success ? findRawTransaction(data['InvoiceTransactions'], success.paymentId) : null;
  const reference = data['CustomerReference'];
  return {
    providerLinkId: String(data['InvoiceId'] ?? ''),
    reference: typeof reference === 'string' && reference !== '' ? reference : null,
    state: paid ? 'paid' : rawStatus === 'Canceled' ? 'canceled' : 'pending',
    rawStatus,
    amountMinor: invoiceAmount(data, currency, ctx),
    expiresAt: parseMyFatoorahExpiry(data['ExpiryDate'], data['ExpiryTime'], ctx.timeZone),
    payment: paid
      ? {
          paymentId: success?.paymentId ?? null,
          method: success?.gateway ?? null,
          amountMinor: rawSuccess ? fromProviderDecimal(rawSuccess['TransationValue'], currency) : null,
          paidAt: rawSuccess ? readLocalTimestamp(rawSuccess['TransactionDate'], ctx.timeZone) : null,
        }
      : null,
    paidMoreThanOnce: rawStatus === 'DuplicatePayment',
    refunded: false,
    url: typeof data['InvoiceURL'] === 'string' ? data['InvoiceURL'] : null,
    details: { transactions },
  };
}

/** InvoiceValue is in the account's base currency; for other currencies read the display value. */
function invoiceAmount(data: Record<string, unknown>, currency: string, ctx: ReadContext): number | null {
  if (currency === ctx.accountCurrency) return fromProviderDecimal(data['InvoiceValue'], currency);
  const display =
    typeof data['InvoiceDisplayValue'] === 'string'
      ? /[\d.]+/.exec(data['InvoiceDisplayValue'].replace(/,/g, ''))?.[0]
      : undefined;
  return display ? fromProviderDecimal(display, currency) : null;
}

function readLocalTimestamp(value: unknown, timeZone: string): number | null {
  if (typeof value !== 'string') return null;
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})/.exec(value);
  return match ? zonedWallClockToInstant(match[1] as string, match[2] as string, timeZone) : null;
}

function readTransactions(value: unknown): Transaction[] {
  if (!Array.isArray(value)) return [];
  return value.map((t: Record<string, unknown>) => ({
    paymentId: t['PaymentId'] == null ? null : String(t['PaymentId']),
    status: String(t['TransactionStatus'] ?? ''),
    gateway: t['PaymentGateway'] == null ? null : String(t['PaymentGateway']),
    errorCode: t['ErrorCode'] ? String(t['ErrorCode']) : null,
    error: t['Error'] ? String(t['Error']) : null,
  }));
}

function findRawTransaction(value: unknown, paymentId: string | null): Record<string, unknown> | null {
  if (!Array.isArray(value)) return null;
  return (value as Record<string, unknown>[]).find((t) => String(t['PaymentId'] ?? '') === (paymentId ?? '')) ?? null;
}

/**
 * MyFatoorah returns expiry as two fields in the account's time zone: `ExpiryDate` "November 24, 2026"
 * and `ExpiryTime` "13:49:17.623". Returns the instant, or null when they cannot be read.
 */
function parseMyFatoorahExpiry(date: unknown, time: unknown, timeZone: string): number | null {
  if (typeof date !== 'string') return null;
  const match = /^([A-Za-z]+)\s+(\d{1,2}),\s*(\d{4})$/.exec(date.trim());
  if (!match) return null;
  const month = MONTH_NAMES.findIndex((name) => name.toLowerCase() === (match[1] as string).toLowerCase()) + 1;
  if (month === 0) return null;
  const localDate = `${match[3]}-${String(month).padStart(2, '0')}-${(match[2] as string).padStart(2, '0')}`;
  const timeMatch = typeof time === 'string' ? /^(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.(\d+))?/.exec(time.trim()) : null;
  const hms = timeMatch
    ? `${(timeMatch[1] as string).padStart(2, '0')}:${timeMatch[2]}:${timeMatch[3] ?? '00'}`
    : '23:59:59';
  const millis = timeMatch?.[4] ? Number(timeMatch[4].slice(0, 3).padEnd(3, '0')) : 0;
  return zonedWallClockToInstant(localDate, hms, timeZone) + millis;
}
