import {
  instantToZonedParts,
  isValidLocalDate,
  isValidTimeZone,
  MONTH_NAMES,
  zonedWallClockToInstant,
} from '../../time/periods.js';

/**
 * Account-local date handling for the sandbox. MyFatoorah speaks wall-clock time of the account's
 * country with no offset (ExpiryDate in, CreatedDate/ExpiryDate/ExpiryTime out), so the sandbox converts
 * between epoch ms (from the injected Clock) and wall clock in `accountTimeZone` with Intl only.
 */

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** Throws a RangeError for a time zone Intl does not know, so a bad option fails at startup. */
export function assertTimeZone(timeZone: string): void {
  if (!isValidTimeZone(timeZone)) throw new RangeError(`Invalid time zone specified: ${timeZone}`);
}

// The zone math is rentlink's own (src/time/periods.ts); this file only adds MyFatoorah's formats.
function wallClockAt(epochMs: number, timeZone: string): WallClock {
  const { date, time } = instantToZonedParts(epochMs, timeZone);
  const [year = 0, month = 0, day = 0] = date.split('-').map(Number);
  const [hour = 0, minute = 0, second = 0] = time.split(':').map(Number);
  return { year, month, day, hour, minute, second };
}

/**
 * Parses `yyyy-MM-ddTHH:mm:ss` as wall clock in `timeZone`. Returns null for any other shape
 * (offsets and `Z` included: MyFatoorah wants local time) or an impossible date.
 */
export function parseLocalDateTime(text: string, timeZone: string): number | null {
  const match = /^(\d{4}-\d{2}-\d{2})T((\d{2}):(\d{2}):(\d{2}))$/.exec(text);
  if (!match || !isValidLocalDate(match[1] as string)) return null;
  if (Number(match[3]) > 23 || Number(match[4]) > 59 || Number(match[5]) > 59) return null;
  return zonedWallClockToInstant(match[1] as string, match[2] as string, timeZone);
}

function pad(value: number, width = 2): string {
  return String(value).padStart(width, '0');
}

function millis(epochMs: number): string {
  return pad(((epochMs % 1000) + 1000) % 1000, 3);
}

/** `2026-11-22T13:49:17.623` — account-local, no offset (MyFatoorah's CreatedDate/TransactionDate style). */
export function formatLocalIso(epochMs: number, timeZone: string): string {
  const w = wallClockAt(epochMs, timeZone);
  return `${w.year}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}.${millis(epochMs)}`;
}

/** `November 24, 2026` — GetPaymentStatus' ExpiryDate. */
export function formatLongDate(epochMs: number, timeZone: string): string {
  const w = wallClockAt(epochMs, timeZone);
  return `${MONTH_NAMES[w.month - 1] ?? '?'} ${w.day}, ${w.year}`;
}

/** `13:49:17.623` — GetPaymentStatus' ExpiryTime. */
export function formatTimeOfDay(epochMs: number, timeZone: string): string {
  const w = wallClockAt(epochMs, timeZone);
  return `${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}.${millis(epochMs)}`;
}

/** `dd-MM-yyyy` — the date part of a KNET TrackId. */
export function formatTrackDate(epochMs: number, timeZone: string): string {
  const w = wallClockAt(epochMs, timeZone);
  return `${pad(w.day)}-${pad(w.month)}-${w.year}`;
}

/** Account-local year, for MyFatoorah-style InvoiceReference numbers (`2026000001`). */
export function localYear(epochMs: number, timeZone: string): number {
  return wallClockAt(epochMs, timeZone).year;
}

/** `2026-11-22 13:49` for humans on the pay page. */
export function formatHuman(epochMs: number, timeZone: string): string {
  const w = wallClockAt(epochMs, timeZone);
  return `${w.year}-${pad(w.month)}-${pad(w.day)} ${pad(w.hour)}:${pad(w.minute)}`;
}
