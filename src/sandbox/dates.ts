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

const MONTHS = [
  'January', 'February', 'March', 'April', 'May', 'June',
  'July', 'August', 'September', 'October', 'November', 'December',
];

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric', month: 'numeric', day: 'numeric',
      hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Throws a RangeError for a time zone Intl does not know, so a bad option fails at startup. */
export function assertTimeZone(timeZone: string): void {
  formatterFor(timeZone);
}

function wallClockAt(epochMs: number, timeZone: string): WallClock {
  const parts: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(new Date(epochMs))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return {
    year: parts['year'] ?? 0,
    month: parts['month'] ?? 0,
    day: parts['day'] ?? 0,
    hour: parts['hour'] ?? 0,
    minute: parts['minute'] ?? 0,
    second: parts['second'] ?? 0,
  };
}

function wallClockAsUtc(wall: WallClock): number {
  return Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
}

/** Offset of the zone from UTC at an instant, in ms (whole seconds: Intl has no sub-second offsets). */
function offsetAt(epochMs: number, timeZone: string): number {
  const wholeSecond = Math.floor(epochMs / 1000) * 1000;
  return wallClockAsUtc(wallClockAt(wholeSecond, timeZone)) - wholeSecond;
}

/**
 * Parses `yyyy-MM-ddTHH:mm:ss` as wall clock in `timeZone`. Returns null for any other shape
 * (offsets and `Z` included: MyFatoorah wants local time) or an impossible date.
 */
export function parseLocalDateTime(text: string, timeZone: string): number | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(text);
  if (!match) return null;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [number, number, number, number, number, number];
  const wall: WallClock = { year, month, day, hour, minute, second };
  const asUtc = wallClockAsUtc(wall);
  // Date.UTC rolls 2026-02-30 over to March: reject instead of guessing.
  const check = new Date(asUtc);
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) return null;
  // Two passes settle the offset across a DST change (Gulf zones have none, Cairo does).
  let guess = asUtc - offsetAt(asUtc, timeZone);
  guess = asUtc - offsetAt(guess, timeZone);
  return guess;
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
  return `${MONTHS[w.month - 1] ?? '?'} ${w.day}, ${w.year}`;
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
