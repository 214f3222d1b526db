import { RentlinkError } from './errors.js';

/**
 * ISO 4217 minor-unit exponents for the currencies rentlink accepts. Money is integer minor units
 * everywhere; these are the only place decimals come from.
 */
export const CURRENCY_EXPONENTS: Readonly<Record<string, number>> = {
  KWD: 3,
  BHD: 3,
  OMR: 3,
  JOD: 3,
  TND: 3,
  LYD: 3,
  IQD: 3,
  SAR: 2,
  AED: 2,
  QAR: 2,
  EGP: 2,
  USD: 2,
  EUR: 2,
  GBP: 2,
  JPY: 0,
};

export function isKnownCurrency(currency: string): boolean {
  return Object.hasOwn(CURRENCY_EXPONENTS, currency);
}

export function currencyExponent(currency: string): number {
  const exponent = CURRENCY_EXPONENTS[currency];
  if (exponent === undefined) {
    throw new RentlinkError(
      'CURRENCY_UNKNOWN',
      `unknown currency "${currency}" (known: ${Object.keys(CURRENCY_EXPONENTS).join(', ')})`,
    );
  }
  return exponent;
}

/**
 * Converts a decimal in major units ("250.500", "1200", "99.5") to integer minor units, exactly
 * (string arithmetic, no floats). Rejects more decimals than the currency allows, signs, exponents
 * and anything that is not a plain positive decimal.
 */
export function toMinorUnits(decimal: string, currency: string): number {
  const exponent = currencyExponent(currency);
  const match = /^(\d+)(?:\.(\d+))?$/.exec(decimal.trim());
  if (!match) throw new RentlinkError('MONEY_INVALID', `"${decimal}" is not a positive decimal amount`);
  const whole = match[1] ?? '0';
  const fraction = match[2] ?? '';
  if (fraction.length > exponent) {
    throw new RentlinkError(
      'MONEY_INVALID',
      `"${decimal}" has ${fraction.length} decimals but ${currency} allows ${exponent}`,
    );
  }
  const minor = Number(whole + fraction.padEnd(exponent, '0'));
  if (!Number.isSafeInteger(minor)) throw new RentlinkError('MONEY_INVALID', `"${decimal}" is too large`);
  return minor;
}

/** Formats integer minor units as a decimal string with exactly the currency's exponent: 250500 KWD → "250.500". */
export function toDecimalString(minor: number, currency: string): string {
  if (!Number.isSafeInteger(minor)) throw new RentlinkError('MONEY_INVALID', `${minor} is not an integer amount`);
  const exponent = currencyExponent(currency);
  const sign = minor < 0 ? '-' : '';
  const digits = String(Math.abs(minor)).padStart(exponent + 1, '0');
  if (exponent === 0) return sign + digits;
  return `${sign}${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}

/**
 * The JSON number a decimal-taking provider receives. The decimal string parses to the nearest double,
 * which JSON.stringify prints back as the same shortest decimal (250.5 for "250.500"): no arithmetic.
 */
export function toProviderDecimal(minor: number, currency: string): number {
  return Number(toDecimalString(minor, currency));
}

/** Parses a provider's decimal (number or string, e.g. "250.000") back to minor units; null when it is not one. */
export function fromProviderDecimal(value: unknown, currency: string): number | null {
  if (typeof value !== 'number' && typeof value !== 'string') return null;
  const text = typeof value === 'number' ? numberToPlainDecimal(value) : value.trim();
  if (!/^\d+(?:\.\d+)?$/.test(text)) return null;
  const exponent = currencyExponent(currency);
  const [whole = '0', fraction = ''] = text.split('.');
  // Providers pad with zeros ("250.000"); anything non-zero past the exponent is not our amount.
  if (/[1-9]/.test(fraction.slice(exponent))) return null;
  return Number(whole + fraction.slice(0, exponent).padEnd(exponent, '0'));
}

function numberToPlainDecimal(value: number): string {
  if (!Number.isFinite(value) || value < 0) return 'NaN';
  return value.toString().includes('e') ? value.toFixed(20).replace(/0+$/, '').replace(/\.$/, '') : value.toString();
}
