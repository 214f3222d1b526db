import { sendsEmail, sendsSms, type Channel, type Contact, type FieldProblem } from '../types.js';

/** MyFatoorah's documented CustomerMobile pattern, verbatim, and its length limit. */
const MOBILE_PATTERN = /^(?:(\+)|(00)|(\*)|())[0-9]{3,14}((#)|())$/;
const MOBILE_MAX_LENGTH = 11;

/**
 * What SendPayment will refuse about the tenant: EML/ALL need an email, SMS/ALL a mobile (MyFatoorah's
 * pattern, ≤ 11 digits, without the country code) and its country code.
 */
export function myfatoorahContactProblems(contact: Contact, channel: Channel): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if (sendsEmail(channel) && !contact.email) {
    problems.push({ field: 'email', message: `channel ${channel} sends the link by email, so email is required` });
  }
  if (sendsSms(channel) && !contact.mobile) {
    problems.push({ field: 'mobile', message: `channel ${channel} sends the link by SMS, so mobile is required` });
  }
  if (sendsSms(channel) && !contact.mobileCountryCode) {
    problems.push({
      field: 'mobile_country_code',
      message: `channel ${channel} sends the link by SMS, so mobile_country_code is required (e.g. +965)`,
    });
  }
  if (contact.mobile && (!MOBILE_PATTERN.test(contact.mobile) || contact.mobile.length > MOBILE_MAX_LENGTH)) {
    problems.push({
      field: 'mobile',
      message: `mobile must be 3 to ${MOBILE_MAX_LENGTH} digits once spaces, dashes, parentheses and the country code are removed (MyFatoorah's rule), got ${contact.mobile}`,
    });
  }
  return problems;
}
