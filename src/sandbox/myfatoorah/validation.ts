import { fromProviderDecimal, isKnownCurrency } from '../../money.js';
import { parseLocalDateTime } from './dates.js';

/**
 * SendPayment request validation, following MyFatoorah's documented field rules (SendPayment shares
 * ExecutePayment's: CustomerMobile pattern and length, URL length, UserDefinedField length…). Messages
 * imitate the real ones (.NET data-annotation style) so a worker's error rendering gets realistic input.
 * Property names are matched exactly (the real API binds case-insensitively; the worker must send the
 * documented spelling anyway, and a strict sandbox catches a typo early).
 */

/** One entry of MyFatoorah's `ValidationErrors` array. */
export interface ValidationError {
  Name: string;
  Error: string;
}

export type NotificationOption = 'EML' | 'SMS' | 'LNK' | 'ALL';

/** A SendPayment request that passed validation, normalised. */
export interface SendPaymentInput {
  valueMinor: number;
  currency: string;
  customerName: string;
  notificationOption: NotificationOption;
  customerEmail: string | null;
  customerMobile: string | null;
  mobileCountryCode: string | null;
  customerReference: string | null;
  customerCivilId: string | null;
  userDefinedField: string | null;
  language: 'en' | 'ar';
  callBackUrl: string | null;
  errorUrl: string | null;
  /** Epoch ms, or null when ExpiryDate was not sent (the account default applies). */
  expiresAt: number | null;
}

export interface ValidationContext {
  /** Account base currency (ISO 4217). */
  currency: string;
  accountTimeZone: string;
  now: number;
}

export type ValidationResult = { ok: true; value: SendPaymentInput } | { ok: false; errors: ValidationError[] };

/** MyFatoorah's documented CustomerMobile pattern, verbatim. */
const MOBILE_PATTERN = /^(?:(\+)|(00)|(\*)|())[0-9]{3,14}((#)|())$/;
const MOBILE_MAX_LENGTH = 11;
const COUNTRY_CODE_PATTERN = /^\+?[0-9]{1,4}$/;
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const URL_MAX_LENGTH = 254;
const USER_DEFINED_FIELD_MAX_LENGTH = 500;
const NOTIFICATION_OPTIONS: readonly NotificationOption[] = ['EML', 'SMS', 'LNK', 'ALL'];

type Body = Record<string, unknown>;

/** Validates a parsed SendPayment body; every bad field gets its own entry. */
export function validateSendPayment(body: unknown, ctx: ValidationContext): ValidationResult {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, errors: [{ Name: 'request', Error: 'The request field is required.' }] };
  }
  const b = body as Body;
  const errors: ValidationError[] = [];
  const check = <T>(result: Checked<T>): T | null => {
    if ('error' in result) {
      errors.push(result.error);
      return null;
    }
    return result.value;
  };

  const currency = check(checkCurrency(b, ctx.currency));
  const valueMinor = currency === null ? null : check(checkInvoiceValue(b, currency));
  const customerName = check(checkCustomerName(b));
  const notificationOption = check(checkNotificationOption(b));
  const customerEmail = check(checkEmail(b, notificationOption));
  const customerMobile = check(checkMobile(b, notificationOption));
  const mobileCountryCode = check(checkCountryCode(b, notificationOption));
  const language = check(checkLanguage(b));
  const callBackUrl = check(checkUrl(b, 'CallBackUrl'));
  const errorUrl = check(checkUrl(b, 'ErrorUrl'));
  const userDefinedField = check(checkOptionalString(b, 'UserDefinedField', USER_DEFINED_FIELD_MAX_LENGTH));
  const customerReference = check(checkOptionalString(b, 'CustomerReference'));
  const customerCivilId = check(checkOptionalString(b, 'CustomerCivilId'));
  const expiresAt = check(checkExpiryDate(b, ctx));
  if (valueMinor !== null && currency !== null) check(checkInvoiceItems(b, valueMinor, currency));

  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    value: {
      // Every check above succeeded, so none of these is null except the genuinely optional ones.
      valueMinor: valueMinor as number,
      currency: currency as string,
      customerName: customerName as string,
      notificationOption: notificationOption as NotificationOption,
      customerEmail,
      customerMobile,
      mobileCountryCode,
      customerReference,
      customerCivilId,
      userDefinedField,
      language: language as 'en' | 'ar',
      callBackUrl,
      errorUrl,
      expiresAt,
    },
  };
}

type Checked<T> = { value: T } | { error: ValidationError };

const fail = (Name: string, Error: string): { error: ValidationError } => ({ error: { Name, Error } });

function isAbsent(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

function checkCurrency(b: Body, accountCurrency: string): Checked<string> {
  const value = b['DisplayCurrencyIso'];
  if (isAbsent(value)) return { value: accountCurrency };
  if (typeof value !== 'string' || !isKnownCurrency(value.toUpperCase())) {
    return fail('DisplayCurrencyIso', 'Invalid currency ISO code.');
  }
  // The real API converts a display currency into the account's base currency. The sandbox has no
  // exchange rates, so it keeps the invoice in the display currency (a 1:1 "rate"): InvoiceValue and
  // InvoiceDisplayValue then both state the amount the tenant sees.
  return { value: value.toUpperCase() };
}

function checkInvoiceValue(b: Body, currency: string): Checked<number> {
  const value = b['InvoiceValue'];
  if (value === undefined || value === null) return fail('InvoiceValue', 'The InvoiceValue field is required.');
  if (typeof value !== 'number' || !Number.isFinite(value))
    return fail('InvoiceValue', 'The InvoiceValue field must be a number.');
  if (value <= 0) return fail('InvoiceValue', 'Invoice value must be greater than zero.');
  const minor = fromProviderDecimal(value, currency);
  if (minor === null) {
    return fail('InvoiceValue', `Invoice value ${value} has more decimal places than ${currency} allows.`);
  }
  if (!Number.isSafeInteger(minor)) return fail('InvoiceValue', 'Invoice value is too large.');
  return { value: minor };
}

function checkCustomerName(b: Body): Checked<string> {
  const value = b['CustomerName'];
  if (typeof value !== 'string' || value.trim() === '')
    return fail('CustomerName', 'The CustomerName field is required.');
  return { value };
}

function checkNotificationOption(b: Body): Checked<NotificationOption> {
  const value = b['NotificationOption'];
  if (isAbsent(value)) return fail('NotificationOption', 'The NotificationOption field is required.');
  const upper = typeof value === 'string' ? value.toUpperCase() : '';
  const option = NOTIFICATION_OPTIONS.find((candidate) => candidate === upper);
  if (!option) return fail('NotificationOption', 'Notification option must be one of EML, SMS, LNK, ALL.');
  return { value: option };
}

function checkEmail(b: Body, option: NotificationOption | null): Checked<string | null> {
  const value = b['CustomerEmail'];
  const needed = option === 'EML' || option === 'ALL';
  if (isAbsent(value)) {
    return needed
      ? fail('CustomerEmail', `The CustomerEmail field is required for notification option ${option}.`)
      : { value: null };
  }
  if (typeof value !== 'string' || !EMAIL_PATTERN.test(value))
    return fail('CustomerEmail', 'The CustomerEmail field is not a valid e-mail address.');
  return { value };
}

function checkMobile(b: Body, option: NotificationOption | null): Checked<string | null> {
  const value = b['CustomerMobile'];
  const needed = option === 'SMS' || option === 'ALL';
  if (isAbsent(value)) {
    return needed
      ? fail('CustomerMobile', `The CustomerMobile field is required for notification option ${option}.`)
      : { value: null };
  }
  if (typeof value !== 'string') return fail('CustomerMobile', 'The CustomerMobile field must be a string.');
  if (value.length > MOBILE_MAX_LENGTH) {
    return fail(
      'CustomerMobile',
      `The field CustomerMobile must be a string with a maximum length of ${MOBILE_MAX_LENGTH}.`,
    );
  }
  if (!MOBILE_PATTERN.test(value)) {
    return fail(
      'CustomerMobile',
      `The field CustomerMobile must match the regular expression '${MOBILE_PATTERN.source}'.`,
    );
  }
  return { value };
}

function checkCountryCode(b: Body, option: NotificationOption | null): Checked<string | null> {
  const value = b['MobileCountryCode'];
  const needed = option === 'SMS' || option === 'ALL';
  if (isAbsent(value)) {
    return needed
      ? fail('MobileCountryCode', `The MobileCountryCode field is required for notification option ${option}.`)
      : { value: null };
  }
  if (typeof value !== 'string' || !COUNTRY_CODE_PATTERN.test(value)) {
    return fail('MobileCountryCode', 'Mobile country code must look like +965.');
  }
  return { value: value.startsWith('+') ? value : `+${value}` };
}

function checkLanguage(b: Body): Checked<'en' | 'ar'> {
  const value = b['Language'];
  if (isAbsent(value)) return { value: 'en' };
  const lower = typeof value === 'string' ? value.toLowerCase() : '';
  if (lower !== 'en' && lower !== 'ar') return fail('Language', 'Language must be EN or AR.');
  return { value: lower };
}

/**
 * CallBackUrl/ErrorUrl: ≤ 254 characters and an absolute http(s) URL. The real API refuses localhost
 * domains; the sandbox deliberately ACCEPTS localhost/127.0.0.1 because tests and local runs live there.
 */
function checkUrl(b: Body, name: 'CallBackUrl' | 'ErrorUrl'): Checked<string | null> {
  const value = b[name];
  if (isAbsent(value)) return { value: null };
  if (typeof value !== 'string') return fail(name, `The ${name} field must be a string.`);
  if (value.length > URL_MAX_LENGTH)
    return fail(name, `The field ${name} must be a string with a maximum length of ${URL_MAX_LENGTH}.`);
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    return fail(name, `The ${name} field is not a valid fully-qualified http or https URL.`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return fail(name, `The ${name} field is not a valid fully-qualified http or https URL.`);
  }
  return { value };
}

function checkOptionalString(b: Body, name: string, maxLength?: number): Checked<string | null> {
  const value = b[name];
  if (value === undefined || value === null) return { value: null };
  if (typeof value !== 'string') return fail(name, `The ${name} field must be a string.`);
  if (maxLength !== undefined && value.length > maxLength) {
    return fail(name, `The field ${name} must be a string with a maximum length of ${maxLength}.`);
  }
  return { value };
}

function checkExpiryDate(b: Body, ctx: ValidationContext): Checked<number | null> {
  const value = b['ExpiryDate'];
  if (isAbsent(value)) return { value: null };
  const at = typeof value === 'string' ? parseLocalDateTime(value, ctx.accountTimeZone) : null;
  if (at === null) {
    return fail(
      'ExpiryDate',
      `ExpiryDate must be account-local time (${ctx.accountTimeZone}) formatted yyyy-MM-ddTHH:mm:ss, without offset.`,
    );
  }
  if (at <= ctx.now) return fail('ExpiryDate', 'ExpiryDate must be in the future.');
  return { value: at };
}

/** When InvoiceItems is sent, Σ Quantity × UnitPrice must equal InvoiceValue (documented rule). */
function checkInvoiceItems(b: Body, valueMinor: number, currency: string): Checked<null> {
  const items = b['InvoiceItems'];
  if (items === undefined || items === null) return { value: null };
  if (!Array.isArray(items)) return fail('InvoiceItems', 'InvoiceItems must be an array.');
  let total = 0;
  for (const item of items as unknown[]) {
    const record = (typeof item === 'object' && item !== null ? item : {}) as Body;
    const quantity = record['Quantity'];
    const price = fromProviderDecimal(record['UnitPrice'], currency);
    if (
      typeof record['ItemName'] !== 'string' ||
      typeof quantity !== 'number' ||
      !Number.isInteger(quantity) ||
      quantity <= 0 ||
      price === null
    ) {
      return fail('InvoiceItems', 'Each invoice item needs ItemName, a positive integer Quantity and a UnitPrice.');
    }
    total += quantity * price;
  }
  if (total !== valueMinor) return fail('InvoiceValue', 'Invoice value must equal the total of the invoice items.');
  return { value: null };
}
