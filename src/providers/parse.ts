import { MONTH_NAMES, zonedWallClockToInstant } from '../time/periods.js';

/**
 * Reads `Retry-After` (delta seconds or an HTTP date) as milliseconds from `now`; null when absent or
 * unreadable. Never negative.
 */
export function parseRetryAfter(header: string | null, now: number): number | null {
  if (!header) return null;
  const trimmed = header.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isFinite(at) ? Math.max(0, at - now) : null;
}

/**
 * MyFatoorah returns expiry as two fields in the account's time zone: `ExpiryDate` "November 24, 2026"
 * and `ExpiryTime` "13:49:17.623". Returns the instant, or null when they cannot be read.
 */
export function parseMyFatoorahExpiry(date: unknown, time: unknown, timeZone: string): number | null {
  if (typeof date !== 'string') return null;
  const match = /^([A-Za-z]+)\s+(\d{1,2}),\s*(\d{4})$/.exec(date.trim());
  if (!match) return null;
  const month = MONTH_NAMES.findIndex((name) => name.toLowerCase() === (match[1] as string).toLowerCase()) + 1;
  if (month === 0) return null;
  const localDate = `${match[3]}-${String(month).padStart(2, '0')}-${(match[2] as string).padStart(2, '0')}`;
  const timeMatch = typeof time === 'string' ? /^(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.(\d+))?/.exec(time.trim()) : null;
  const hms = timeMatch
    ? `${(timeMatch[1] as string).padStart(2, '0')}:${timeMatch[2]}:${timeMatch[3] ?? '00'}`
    : '23:59:59';
  const millis = timeMatch?.[4] ? Number(timeMatch[4].slice(0, 3).padEnd(3, '0')) : 0;
  return zonedWallClockToInstant(localDate, hms, timeZone) + millis;
}
