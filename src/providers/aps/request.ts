import { instantToZonedParts } from '../../time/periods.js';
import { ProviderError, type Channel, type LinkRequest } from '../types.js';

/**
 * rentlink's LinkRequest in APS' words: the PAYMENT_LINK parameters (unsigned), and the small
 * translations they need (channel → notification_type, phone → customer_phone, instant →
 * request_expiry_date). Field limits are APS' documented ones.
 */

export const LIMITS = {
  merchantReference: 40,
  customerName: 40,
  customerPhone: 19,
  customerEmail: 254,
  orderDescription: 150,
  returnUrl: 400,
  amountDigits: 10,
} as const;

/** APS' merchant_reference alphabet. */
const MERCHANT_REFERENCE_RE = /^[A-Za-z0-9_.-]{1,40}$/;

/** How a rentlink channel tells APS to notify the tenant. `link`: nobody is notified, the operator shares the URL. */
function notificationTypeFor(channel: Channel): string {
  switch (channel) {
    case 'email':
      return 'EMAIL';
    case 'sms':
      return 'SMS';
    case 'both':
      return 'EMAIL,SMS';
    case 'link':
      return 'NONE';
  }
}

/** Whether the channel sends an SMS, so APS needs customer_phone. */
export function channelNeedsPhone(channel: Channel): boolean {
  return channel === 'sms' || channel === 'both';
}

/**
 * APS' customer_phone: the country code's digits followed by the national number's digits, no `+`
 * or `00` (`+965` + `51234567` → `96551234567`). A national trunk `0` (`0501234567` in the UAE) is
 * dropped, as it is in international format. Null when either part has no digits.
 */
export function apsPhone(countryCode: string | null, mobile: string | null): string | null {
  const country = digitsOf(countryCode).replace(/^00/, '');
  const national = digitsOf(mobile).replace(/^0+/, '');
  if (country === '' || national === '') return null;
  return `${country}${national}`;
}

/**
 * An instant as APS' request_expiry_date: ISO 8601 to the second with the offset `timeZone` has at
 * that instant (`2026-12-05T23:59:59+04:00`, 25 characters). Milliseconds are dropped (rounded down,
 * so the link never outlives what was asked).
 */
export function formatApsDateTime(ms: number, timeZone: string): string {
  const whole = Math.floor(ms / 1000) * 1000;
  const { date, time } = instantToZonedParts(whole, timeZone);
  const offsetMinutes = Math.round((Date.parse(`${date}T${time}Z`) - whole) / 60_000);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${date}T${time}${sign}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`;
}

/** Trims, then cuts to `max` characters (code points, so an emoji or Arabic text is never split in half). */
function truncate(text: string, max: number): string {
  const chars = Array.from(text.trim());
  return chars.length <= max ? chars.join('') : chars.slice(0, max).join('').trimEnd();
}

export interface ApsAccount {
  accessCode: string;
  merchantIdentifier: string;
  timeZone: string;
}

/**
 * The PAYMENT_LINK parameters for `req`, without the signature. Only what rentlink needs is sent
 * (link_command defaults to PURCHASE at APS; no payment_option restriction).
 * @throws ProviderError `rejected` when the request cannot be expressed at APS (checked before any
 * call, so nothing was created).
 */
export function createLinkParams(req: LinkRequest, account: ApsAccount): Record<string, string | number> {
  assertCreatable(req);
  const params: Record<string, string | number> = {
    service_command: 'PAYMENT_LINK',
    access_code: account.accessCode,
    merchant_identifier: account.merchantIdentifier,
    merchant_reference: req.reference,
    amount: req.amountMinor,
    currency: req.currency,
    language: req.customer.language,
    customer_email: (req.customer.email ?? '').trim(),
    request_expiry_date: formatApsDateTime(req.expiresAt, account.timeZone),
    notification_type: notificationTypeFor(req.channel),
  };
  const name = truncate(req.customer.name, LIMITS.customerName);
  if (name !== '') params['customer_name'] = name;
  if (channelNeedsPhone(req.channel)) {
    params['customer_phone'] = apsPhone(req.customer.mobileCountryCode, req.customer.mobile) ?? '';
  }
  const description = truncate(req.description, LIMITS.orderDescription);
  if (description !== '') params['order_description'] = description;
  if (req.returnUrl) params['return_url'] = req.returnUrl;
  return params;
}

/** What APS would refuse anyway, refused here with a message naming our field. */
function assertCreatable(req: LinkRequest): void {
  const problem = creationProblem(req);
  if (problem) throw new ProviderError('rejected', `PAYMENT_LINK: ${problem}`, { endpoint: 'PAYMENT_LINK' });
}

function creationProblem(req: LinkRequest): string | null {
  if (!MERCHANT_REFERENCE_RE.test(req.reference)) {
    return `reference "${req.reference}" is not a valid merchant_reference (≤ 40 of A-Z a-z 0-9 - _ .)`;
  }
  if (!Number.isSafeInteger(req.amountMinor) || req.amountMinor <= 0) {
    return `amount must be a positive integer of minor units, got ${req.amountMinor}`;
  }
  if (String(req.amountMinor).length > LIMITS.amountDigits) return `amount ${req.amountMinor} exceeds 10 digits`;
  if (!/^[A-Z]{3}$/.test(req.currency)) return `currency "${req.currency}" is not an ISO 4217 code`;
  if (req.customer.language !== 'en' && req.customer.language !== 'ar') {
    return `language must be en or ar for APS, got "${String(req.customer.language)}"`;
  }
  if (!req.customer.email?.trim()) return 'APS needs the tenant email (customer_email) for every link';
  if (channelNeedsPhone(req.channel)) {
    const phone = apsPhone(req.customer.mobileCountryCode, req.customer.mobile);
    if (!phone) return `channel ${req.channel} needs the tenant mobile and country code (customer_phone)`;
    if (phone.length > LIMITS.customerPhone) return `customer_phone has ${phone.length} digits, APS allows 19`;
  }
  if (req.returnUrl && req.returnUrl.length > LIMITS.returnUrl) {
    return `returnUrl is ${req.returnUrl.length} characters, APS allows ${LIMITS.returnUrl} (return_url)`;
  }
  return null;
}

function digitsOf(value: string | null): string {
  return (value ?? '').replace(/\D/g, '');
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}
