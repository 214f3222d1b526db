import { regexes } from 'zod';
import { ACCOUNT_NAME } from '../providers/accounts.js';
import { parseChannel } from '../providers/types.js';
import { isKnownCurrency } from '../money.js';
import { isValidLocalDate, isValidTimeZone } from '../time/periods.js';
import type { LeaseCsvColumn } from './lease-rows.js';

/**
 * Fast paths for the lease-file field rules (lease-rows.ts). Running every field of a 100,000-row file
 * through zod cost seconds, most of it in allocation and garbage collection (`npm run bench`). Each
 * function here accepts only values its zod rule accepts, and returns exactly what that rule outputs;
 * anything else — every invalid value, and any valid one it is not sure of — returns SLOW and goes to
 * zod, which remains the only author of messages. test/lease-fast.test.ts holds the two side by side.
 */

/** "Not decided here: ask the zod rule." */
export const SLOW: unique symbol = Symbol('slow');
type Fast = (raw: string) => unknown;

const LEASE_REF = /^[A-Za-z0-9._-]+$/;
const DIGITS = /^\d+$/;
const AMOUNT = /^\d+(?:\.\d+)?$/;
const NON_ZERO = /[1-9]/;
const COUNTRY_CODE = /^(?:\+|00)?(\d{1,4})$/;
const PERIOD = /^\d{4}-(0[1-9]|1[0-2])$/;
const MOBILE_NOISE = /[\s\-()]/g;

function wholeNumber(min: number, max: number, whenEmpty?: number): Fast {
  return (raw) => {
    if (raw === '') return whenEmpty ?? SLOW;
    if (!DIGITS.test(raw)) return SLOW;
    const value = Number(raw);
    return value >= min && value <= max ? value : SLOW;
  };
}

/** Required text of at most `max` code points: a UTF-16 length ≤ max guarantees it (never more code points than units). */
function requiredText(max: number): Fast {
  return (raw) => (raw.length >= 1 && raw.length <= max ? raw : SLOW);
}

export const FAST_FIELD_RULES: Record<LeaseCsvColumn, Fast> = {
  lease_ref: (raw) => (raw.length >= 1 && raw.length <= 40 && LEASE_REF.test(raw) ? raw : SLOW),
  tenant_name: requiredText(100),
  unit: requiredText(60),
  email: (raw) => (raw === '' ? null : regexes.email.test(raw) ? raw : SLOW),
  language: (raw) => {
    const value = raw.toLowerCase() || 'en';
    return value === 'en' || value === 'ar' ? value : SLOW;
  },
  amount: (raw) => (AMOUNT.test(raw) && NON_ZERO.test(raw) ? raw : SLOW),
  currency: (raw) => {
    const value = raw.toUpperCase();
    return isKnownCurrency(value) ? value : SLOW;
  },
  due_day: wholeNumber(1, 31),
  lead_days: wholeNumber(0, 27, 0),
  valid_days: wholeNumber(1, 90),
  max_reissues: wholeNumber(0, 12, 2),
  timezone: (raw) => (isValidTimeZone(raw) ? raw : SLOW),
  channel: (raw) => parseChannel(raw) ?? SLOW,
  starts_on: (raw) => (isValidLocalDate(raw) ? raw : SLOW),
  ends_on: (raw) => (raw === '' ? null : isValidLocalDate(raw) ? raw : SLOW),
  mobile: (raw) => raw.replace(MOBILE_NOISE, ''),
  mobile_country_code: (raw) => {
    if (raw === '') return null;
    const digits = COUNTRY_CODE.exec(raw.replace(MOBILE_NOISE, ''))?.[1];
    return digits === undefined ? SLOW : `+${digits}`;
  },
  account: (raw) => {
    const value = raw.toLowerCase() || null;
    return value === null || ACCOUNT_NAME.test(value) ? value : SLOW;
  },
  paid_through: (raw) => (raw === '' ? null : PERIOD.test(raw) ? raw : SLOW),
};
