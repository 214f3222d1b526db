import { toDecimalString } from '../../../money.js';
import { formatWallClock, MONTH_NAMES } from '../../../time/periods.js';

/** "1234567.500" → "1,234,567.500": string grouping, so no float ever touches an amount. */
function groupThousands(decimal: string): string {
  const [whole = '', fraction] = decimal.split('.');
  const sign = whole.startsWith('-') ? '-' : '';
  const digits = sign ? whole.slice(1) : whole;
  const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${sign}${grouped}${fraction === undefined ? '' : `.${fraction}`}`;
}

/** Minor units as the operator reads them: "1,200.750 KWD" (the currency's exact exponent). */
export function money(minor: number, currency: string): string {
  return `${groupThousands(toDecimalString(minor, currency))} ${currency}`;
}

/** A decimal amount already formatted by the data layer ("250.500"), grouped, with its currency. */
export function decimalMoney(amount: string, currency: string): string {
  return `${groupThousands(amount)} ${currency}`;
}

/** Axis labels: "1500.000" → "1,500", "0.500" → "0.5" (ticks are round numbers, trailing zeros are noise). */
export function axisAmount(minor: number, currency: string): string {
  const text = toDecimalString(minor, currency);
  const trimmed = text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
  return groupThousands(trimmed);
}

/** "2026-12" → "December 2026". */
export function periodLabel(period: string): string {
  const month = Number(period.slice(5, 7));
  return `${MONTH_NAMES[month - 1] ?? period} ${period.slice(0, 4)}`;
}

/** "2026-12" → "Dec". */
export function shortMonth(period: string): string {
  return (MONTH_NAMES[Number(period.slice(5, 7)) - 1] ?? period).slice(0, 3);
}

/**
 * An instant for people, as the wall clock in `timeZone` with the zone's name, so no time on a page
 * leaves its zone to guessing: "2026-12-11 23:59 (Asia/Kuwait)". Accepts epoch ms or an ISO string
 * (the data layer may give either) and shows "—" for none.
 */
export function instant(value: unknown, timeZone: string): string {
  if (value === null || value === undefined || value === '') return '—';
  const ms = typeof value === 'number' ? value : Date.parse(String(value));
  if (!Number.isFinite(ms)) return String(value);
  return `${formatWallClock(ms, timeZone).replace('T', ' ').slice(0, 16)} (${timeZone})`;
}

/** paid / total as a whole-percent string; display only, so a float ratio is fine here. */
export function percent(part: number, total: number): string {
  if (total <= 0) return '—';
  return `${Math.floor((part * 100) / total)}%`;
}

/** Human words for charge statuses ("invoiced" means a link is out and unpaid). */
export function statusLabel(status: string): string {
  return status === 'invoiced' ? 'open' : status;
}
