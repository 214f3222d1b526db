import { isKnownCurrency } from '../../money.js';
import type { Channel, Contact, FieldProblem } from '../types.js';

/**
 * paymennt's rules for the tenant's contact fields. A `customer` object, once sent, must carry
 * `firstName`, `lastName` and `email`; `phone` is the number with its international calling code.
 * Rentlink keeps one `tenant_name`, so it is split here (see {@link splitName}).
 */

/** The `customer` object of `POST /checkout/link`. */
export interface PaymenntCustomer {
  firstName: string;
  lastName: string;
  email: string;
  phone?: string;
}

// Deliberately loose: paymennt validates the address itself; this catches typos at import.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const COUNTRY_CODE = /^\+?\d{1,4}$/;
const NATIONAL_NUMBER = /^\d{4,14}$/;

/** Whether paymennt itself sends the link by email / by SMS for this channel. */
export function channelSends(channel: Channel): { email: boolean; sms: boolean } {
  return { email: channel === 'email' || channel === 'both', sms: channel === 'sms' || channel === 'both' };
}

/** A channel that makes paymennt contact the tenant needs the customer object (and so an email). */
function needsCustomer(channel: Channel): boolean {
  const sends = channelSends(channel);
  return sends.email || sends.sms;
}

/**
 * Splits one full name into paymennt's required first and last names: the first word is the first
 * name, the rest the last name ("Mohammed bin Rashid Al Maktoum" → "Mohammed" / "bin Rashid Al
 * Maktoum"). A single-word name is used for both, because both are required and a placeholder such
 * as "-" would show on the tenant's receipt. Null when the name is blank.
 */
export function splitName(fullName: string): { firstName: string; lastName: string } | null {
  const words = fullName.trim().split(/\s+/).filter(Boolean);
  const [first, ...rest] = words;
  if (first === undefined) return null;
  return { firstName: first, lastName: rest.length > 0 ? rest.join(' ') : first };
}

/**
 * The phone as `+<country code><national number>`, or null when either part is missing or malformed.
 * A national trunk prefix ("0501234567" in the UAE) is dropped: it is not dialled internationally.
 */
function internationalPhone(contact: Pick<Contact, 'mobile' | 'mobileCountryCode'>): string | null {
  const code = contact.mobileCountryCode?.trim() ?? '';
  const national = contact.mobile?.trim() ?? '';
  if (!COUNTRY_CODE.test(code) || !NATIONAL_NUMBER.test(national)) return null;
  const withoutTrunk = national.replace(/^0+/, '');
  return withoutTrunk === '' ? null : `+${code.replace(/^\+/, '')}${withoutTrunk}`;
}

/**
 * The `customer` object to send, or null to send none: null when the name or the email is unusable
 * (the client refuses `email`/`sms`/`both` links first with {@link contactProblems}, so for those a
 * customer always exists; a `link` then simply goes without one). The phone is included whenever
 * it is well-formed, so the checkout can prefill it.
 */
export function customerFor(contact: Contact): PaymenntCustomer | null {
  const name = splitName(contact.name);
  const email = contact.email?.trim() ?? '';
  if (name === null || !EMAIL.test(email)) return null;
  const phone = internationalPhone(contact);
  return { ...name, email, ...(phone ? { phone } : {}) };
}

/**
 * Everything paymennt would refuse about this tenant, channel and currency, by CSV field. Email and
 * both names are required whenever a customer object is sent (`email`, `sms`, `both`); a phone for
 * `sms` and `both`. `link` needs nothing from the tenant.
 */
export function contactProblems(contact: Contact, channel: Channel, currency: string): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if (!isKnownCurrency(currency)) problems.push({ field: 'currency', message: `unknown currency "${currency}"` });
  if (!needsCustomer(channel)) return problems;
  if (splitName(contact.name) === null) {
    problems.push({ field: 'tenant_name', message: `paymennt needs the tenant's name to send the link by ${channel}` });
  }
  problems.push(...emailProblems(contact, channel));
  if (channelSends(channel).sms) problems.push(...phoneProblems(contact, channel));
  return problems;
}

function emailProblems(contact: Contact, channel: Channel): FieldProblem[] {
  const email = contact.email?.trim() ?? '';
  if (email === '') {
    const why = channel === 'sms' ? 'paymennt requires an email with every customer, SMS included' : 'no email given';
    return [{ field: 'email', message: `an email is required for channel ${channel}: ${why}` }];
  }
  if (!EMAIL.test(email)) return [{ field: 'email', message: `"${email}" is not an email address` }];
  return [];
}

function phoneProblems(contact: Contact, channel: Channel): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const mobile = contact.mobile?.trim() ?? '';
  const code = contact.mobileCountryCode?.trim() ?? '';
  if (mobile === '') problems.push({ field: 'mobile', message: `a mobile number is required for channel ${channel}` });
  else if (!NATIONAL_NUMBER.test(mobile) || /^0+$/.test(mobile)) {
    problems.push({ field: 'mobile', message: `"${mobile}" is not a national mobile number (4–14 digits)` });
  }
  if (code === '') {
    problems.push({ field: 'mobile_country_code', message: `a country code (e.g. +971) is required for ${channel}` });
  } else if (!COUNTRY_CODE.test(code)) {
    problems.push({ field: 'mobile_country_code', message: `"${code}" is not a country calling code like +971` });
  }
  return problems;
}
