import { isKnownCurrency } from '../../money.js';
import type { Channel, Contact, FieldProblem } from '../types.js';
import { LIMITS, apsPhone, channelNeedsPhone } from './request.js';

/**
 * APS' rules for a tenant's contact fields, checked at import so a lease never reaches a send job
 * with a link APS would refuse. customer_email is required for every link, whatever the channel;
 * SMS needs a phone of at most 19 digits in total (country code + national number).
 */

/** Loose on purpose: APS validates addresses itself; this only catches what is clearly not one. */
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * The fields of `contact` APS cannot accept for `channel` and `currency`; empty when it can.
 * (`language` is typed en | ar, which is exactly what APS takes, so it needs no check here.)
 */
export function apsContactProblems(contact: Contact, channel: Channel, currency: string): FieldProblem[] {
  return [...emailProblems(contact), ...phoneProblems(contact, channel), ...currencyProblems(currency)];
}

function emailProblems(contact: Contact): FieldProblem[] {
  const email = contact.email?.trim() ?? '';
  if (email === '') {
    return [{ field: 'email', message: 'APS needs an email for every payment link (customer_email is required)' }];
  }
  if (email.length > LIMITS.customerEmail) {
    return [{ field: 'email', message: `the email is longer than ${LIMITS.customerEmail} characters (APS limit)` }];
  }
  if (!EMAIL_RE.test(email)) return [{ field: 'email', message: `"${email}" is not an email address` }];
  return [];
}

function phoneProblems(contact: Contact, channel: Channel): FieldProblem[] {
  if (!channelNeedsPhone(channel)) return [];
  const problems: FieldProblem[] = [];
  if (!contact.mobile || !/\d/.test(contact.mobile)) {
    problems.push({
      field: 'mobile',
      message: `channel ${channel} sends an SMS: APS needs the tenant's mobile number`,
    });
  }
  if (!contact.mobileCountryCode || !/\d/.test(contact.mobileCountryCode)) {
    problems.push({
      field: 'mobile_country_code',
      message: `channel ${channel} sends an SMS: APS needs the mobile country code (e.g. +971)`,
    });
  }
  if (problems.length > 0) return problems;
  const phone = apsPhone(contact.mobileCountryCode, contact.mobile) ?? '';
  if (phone.length > LIMITS.customerPhone) {
    return [
      {
        field: 'mobile',
        message: `country code + mobile make ${phone.length} digits; APS allows at most ${LIMITS.customerPhone}`,
      },
    ];
  }
  return [];
}

function currencyProblems(currency: string): FieldProblem[] {
  if (isKnownCurrency(currency)) return [];
  return [{ field: 'currency', message: `"${currency}" is not a currency rentlink can read APS amounts in` }];
}
