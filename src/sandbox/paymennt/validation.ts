import { fromProviderDecimal, currencyExponent, isKnownCurrency } from '../../money.js';
import type { SandboxCustomer } from './checkouts.js';

/**
 * The fake's checks on `POST /checkout/link`, after paymennt's OpenAPI spec: required requestId,
 * orderId, description, currency and amount (> 0, at most the currency's decimals); expiresIn
 * 15…10080 minutes; a customer needs firstName, lastName and email. Sending by email or SMS needs
 * the matching customer field (the spec says so for the link to reach anyone). paymennt answers a
 * refusal with one text, so the problems are joined.
 */

/** A validated create request, in the fake's terms (money in minor units). */
export interface CreateLinkInput {
  requestId: string;
  orderId: string;
  description: string;
  currency: string;
  amountMinor: number;
  expiresIn: number | null;
  language: string | null;
  sendEmail: boolean;
  sendSms: boolean;
  customer: SandboxCustomer | null;
}

/** The validated input, or paymennt's one-line refusal text. */
export type Validation = { ok: true; value: CreateLinkInput } | { ok: false; error: string };

const MIN_EXPIRES_IN = 15;
const MAX_EXPIRES_IN = 10_080;

type Body = Record<string, unknown>;

/** Checks a `POST /checkout/link` body (see the file comment for the rules). */
export function validateCreateLink(body: unknown): Validation {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, error: 'Invalid request body, expected a JSON object' };
  }
  const record = body as Body;
  const problems: string[] = [];
  const requestId = requiredText(record, 'requestId', problems);
  const orderId = requiredText(record, 'orderId', problems);
  const description = requiredText(record, 'description', problems);
  const currency = readCurrency(record, problems);
  const amountMinor = currency ? readAmount(record['amount'], currency, problems) : null;
  const expiresIn = readExpiresIn(record['expiresIn'], problems);
  const language = readLanguage(record['language'], problems);
  const sendEmail = readFlag(record, 'sendEmail', problems);
  const sendSms = readFlag(record, 'sendSms', problems);
  const customer = readCustomer(record['customer'], problems);
  if (sendEmail && !customer?.email) problems.push('customer.email is required when sendEmail is true');
  if (sendSms && !customer?.phone) problems.push('customer.phone is required when sendSms is true');
  if (problems.length > 0 || !requestId || !orderId || !description || !currency || amountMinor === null) {
    return { ok: false, error: problems.join('; ') };
  }
  return {
    ok: true,
    value: {
      requestId,
      orderId,
      description,
      currency,
      amountMinor,
      expiresIn,
      language,
      sendEmail,
      sendSms,
      customer,
    },
  };
}

/** `prefix` names the enclosing object in the message ("customer."), like paymennt's texts. */
function requiredText(record: Body, key: string, problems: string[], prefix = ''): string | null {
  const value = record[key];
  if (typeof value !== 'string' || value.trim() === '') {
    problems.push(`${prefix}${key} is required`);
    return null;
  }
  return value.trim();
}

function readCurrency(record: Body, problems: string[]): string | null {
  const currency = requiredText(record, 'currency', problems);
  if (currency === null) return null;
  if (!isKnownCurrency(currency)) {
    problems.push(`Invalid currency ${currency}`);
    return null;
  }
  return currency;
}

function readAmount(value: unknown, currency: string, problems: string[]): number | null {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    problems.push('amount is required and must be a number');
    return null;
  }
  if (value <= 0) {
    problems.push('amount must be greater than 0');
    return null;
  }
  const minor = fromProviderDecimal(value, currency);
  if (minor === null) {
    problems.push(`amount ${value} has more decimals than ${currency} allows (${currencyExponent(currency)})`);
  }
  return minor;
}

function readExpiresIn(value: unknown, problems: string[]): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < MIN_EXPIRES_IN || value > MAX_EXPIRES_IN) {
    problems.push(`expiresIn must be an integer between ${MIN_EXPIRES_IN} and ${MAX_EXPIRES_IN} minutes`);
    return null;
  }
  return value;
}

function readLanguage(value: unknown, problems: string[]): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || !/^[A-Za-z]{2,3}$/.test(value)) {
    problems.push('language must be a 2 letter ISO 639-1 code');
    return null;
  }
  return value.toUpperCase();
}

function readFlag(record: Body, key: string, problems: string[]): boolean {
  const value = record[key];
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') problems.push(`${key} must be a boolean`);
  return value === true;
}

function readCustomer(value: unknown, problems: string[]): SandboxCustomer | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) {
    problems.push('customer must be an object');
    return null;
  }
  const record = value as Body;
  const before = problems.length;
  const firstName = requiredText(record, 'firstName', problems, 'customer.');
  const lastName = requiredText(record, 'lastName', problems, 'customer.');
  const email = requiredText(record, 'email', problems, 'customer.');
  if (email !== null && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) problems.push(`Invalid email address ${email}`);
  const phone = record['phone'];
  if (phone !== undefined && phone !== null && (typeof phone !== 'string' || !/^\+?\d{6,15}$/.test(phone))) {
    problems.push('customer.phone must be a phone number with the international calling code');
  }
  if (problems.length > before || !firstName || !lastName || !email) return null;
  return { firstName, lastName, email, phone: typeof phone === 'string' ? phone : null };
}
