import { isKnownCurrency } from '../../money.js';

/**
 * The fake's checks of a PAYMENT_LINK and a CHECK_PAYMENT_LINK_STATUS request, written from APS'
 * parameter tables (not from the client's code, so a client mistake is caught rather than mirrored).
 * Like APS, the first problem found is answered, as a status-00 response code:
 * `00001` missing parameter, `00002` invalid format, `00005` invalid amount.
 */

export interface PaymentLinkInput {
  reference: string;
  amountMinor: number;
  currency: string;
  language: 'en' | 'ar';
  customerEmail: string;
  customerName: string | null;
  customerPhone: string | null;
  notificationType: string;
  orderDescription: string | null;
  returnUrl: string | null;
  linkCommand: string;
  paymentOption: string | null;
  requestExpiryDate: string;
  expiresAt: number;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; responseCode: string; message: string };

const REQUIRED = [
  'service_command',
  'access_code',
  'merchant_identifier',
  'merchant_reference',
  'amount',
  'currency',
  'language',
  'customer_email',
  'request_expiry_date',
  'notification_type',
  'signature',
] as const;
const OPTIONAL = [
  'link_command',
  'payment_option',
  'order_description',
  'customer_name',
  'customer_phone',
  'return_url',
];
const KNOWN = new Set<string>([...REQUIRED, ...OPTIONAL]);
const QUERY_KNOWN = new Set([
  'query_command',
  'access_code',
  'merchant_identifier',
  'language',
  'signature',
  'payment_link_id',
  'merchant_reference',
]);
const NOTIFICATION_WORDS = new Set(['EMAIL', 'SMS', 'NONE']);
const EXPIRY_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:Z|[+-]\d{2}:\d{2})$/;

const missing = (name: string): Checked<never> => ({
  ok: false,
  responseCode: '00001',
  message: `Missing parameter: ${name}`,
});
const invalid = (name: string, why = ''): Checked<never> => ({
  ok: false,
  responseCode: '00002',
  message: `Invalid parameter format: ${name}${why ? ` (${why})` : ''}`,
});

/** Checks a PAYMENT_LINK request (credentials and signature are checked before, by the API). */
export function validatePaymentLink(body: Record<string, unknown>, now: number): Checked<PaymentLinkInput> {
  for (const name of REQUIRED) if (blank(body[name])) return missing(name);
  const extra = Object.keys(body).find((name) => !KNOWN.has(name));
  if (extra) return invalid(extra, 'not a PAYMENT_LINK parameter');
  const optional = (name: string): string | null => (blank(body[name]) ? null : String(body[name]));
  const reference = String(body['merchant_reference']);
  if (!/^[A-Za-z0-9_.-]{1,40}$/.test(reference)) return invalid('merchant_reference', '≤ 40 of A-Z a-z 0-9 - _ .');
  const amount = body['amount'];
  if (!(typeof amount === 'number' || typeof amount === 'string') || !/^[1-9]\d{0,9}$/.test(String(amount))) {
    return { ok: false, responseCode: '00005', message: 'Invalid amount' };
  }
  const currency = String(body['currency']);
  if (!isKnownCurrency(currency)) return invalid('currency');
  const language = String(body['language']);
  if (language !== 'en' && language !== 'ar') return invalid('language', 'en or ar');
  const email = String(body['customer_email']);
  if (email.length > 254 || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) return invalid('customer_email');
  const expiry = checkExpiry(String(body['request_expiry_date']), now);
  if (!expiry.ok) return expiry;
  const notification = checkNotification(String(body['notification_type']), optional('customer_phone'));
  if (!notification.ok) return notification;
  const lengths: Array<[string, number]> = [
    ['customer_name', 40],
    ['order_description', 150],
    ['return_url', 400],
    ['payment_option', 10],
  ];
  for (const [name, max] of lengths) {
    if ((optional(name) ?? '').length > max) return invalid(name, `at most ${max} characters`);
  }
  const returnUrl = optional('return_url');
  if (returnUrl !== null && !isHttpUrl(returnUrl)) return invalid('return_url', 'an http(s) URL');
  const linkCommand = optional('link_command') ?? 'PURCHASE';
  if (linkCommand !== 'PURCHASE' && linkCommand !== 'AUTHORIZATION') return invalid('link_command');
  return {
    ok: true,
    value: {
      reference,
      amountMinor: Number(amount),
      currency,
      language,
      customerEmail: email,
      customerName: optional('customer_name'),
      customerPhone: optional('customer_phone'),
      notificationType: notification.value,
      orderDescription: optional('order_description'),
      returnUrl,
      linkCommand,
      paymentOption: optional('payment_option'),
      requestExpiryDate: String(body['request_expiry_date']),
      expiresAt: expiry.value,
    },
  };
}

/** How a CHECK_PAYMENT_LINK_STATUS request names its link. */
export type LinkLookup = { by: 'id'; linkId: string } | { by: 'reference'; reference: string };

export function validateStatusQuery(body: Record<string, unknown>): Checked<LinkLookup> {
  for (const name of ['query_command', 'access_code', 'merchant_identifier', 'language', 'signature']) {
    if (blank(body[name])) return missing(name);
  }
  const extra = Object.keys(body).find((name) => !QUERY_KNOWN.has(name));
  if (extra) return invalid(extra, 'not a CHECK_PAYMENT_LINK_STATUS parameter');
  if (!blank(body['payment_link_id']))
    return { ok: true, value: { by: 'id', linkId: String(body['payment_link_id']) } };
  if (!blank(body['merchant_reference'])) {
    return { ok: true, value: { by: 'reference', reference: String(body['merchant_reference']) } };
  }
  return missing('payment_link_id');
}

function checkExpiry(value: string, now: number): Checked<number> {
  const at = EXPIRY_RE.test(value) ? Date.parse(value) : NaN;
  if (!Number.isFinite(at)) return invalid('request_expiry_date', 'ISO 8601 with an offset');
  if (at <= now) return invalid('request_expiry_date', 'must be in the future');
  return { ok: true, value: at };
}

/** `EMAIL`, `SMS`, `NONE` or a comma list; SMS needs customer_phone (digits, ≤ 19). NONE wins when combined. */
function checkNotification(value: string, phone: string | null): Checked<string> {
  const words = value.split(',').map((word) => word.trim().toUpperCase());
  if (value.length > 20 || words.some((word) => !NOTIFICATION_WORDS.has(word))) return invalid('notification_type');
  const sms = words.includes('SMS') && !words.includes('NONE');
  if (sms && phone === null) return missing('customer_phone');
  if (phone !== null && !/^\d{1,19}$/.test(phone)) return invalid('customer_phone', 'digits only, at most 19');
  return { ok: true, value };
}

function blank(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}
