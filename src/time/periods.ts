/**
 * Due-date math. Pure functions: every instant comes in as an argument (no wall-clock reads).
 *
 * Calendar dates (`LocalDate`, `Period`) are local to the lease's IANA time zone; instants are epoch
 * milliseconds (UTC). Calendar arithmetic runs on `Date.UTC` values, which have no time zone and no
 * DST, so adding days or months never drifts. Only the wall-clock ↔ instant conversions consult a
 * zone, through `Intl.DateTimeFormat` (the ICU time-zone database that ships with Node).
 */

/** A rent period, `YYYY-MM`. */
export type Period = string;
/** A calendar date in some time zone, `YYYY-MM-DD`. */
export type LocalDate = string;
/** A wall-clock time, `HH:mm:ss` (24-hour). */
export type WallTime = string;

const MS_PER_DAY = 86_400_000;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const PERIOD_RE = /^(\d{4})-(\d{2})$/;
const TIME_RE = /^(\d{2}):(\d{2}):(\d{2})$/;

interface Ymd {
  year: number;
  month: number; // 1–12
  day: number;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

function formatYmd({ year, month, day }: Ymd): LocalDate {
  return `${pad(year, 4)}-${pad(month)}-${pad(day)}`;
}

/** Number of days in a month (1–12), leap years included. */
function daysInMonth(year: number, month: number): number {
  // Day 0 of the next month is the last day of this one.
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** True for a real calendar date written `YYYY-MM-DD` (2026-02-30 is not one). */
export function isValidLocalDate(value: string): boolean {
  const m = DATE_RE.exec(value);
  if (!m) return false;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  return year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

function parseDate(date: LocalDate): Ymd {
  if (!isValidLocalDate(date)) throw new RangeError(`not a calendar date (YYYY-MM-DD): "${date}"`);
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  return { year, month, day };
}

function parsePeriod(period: Period): { year: number; month: number } {
  const m = PERIOD_RE.exec(period);
  const year = Number(m?.[1]);
  const month = Number(m?.[2]);
  if (!m || year < 1 || month < 1 || month > 12) throw new RangeError(`not a period (YYYY-MM): "${period}"`);
  return { year, month };
}

function parseTime(time: WallTime): { hour: number; minute: number; second: number } {
  const m = TIME_RE.exec(time);
  const [hour, minute, second] = [Number(m?.[1]), Number(m?.[2]), Number(m?.[3])];
  if (!m || hour > 23 || minute > 59 || second > 59) throw new RangeError(`not a time (HH:mm:ss): "${time}"`);
  return { hour, minute, second };
}

/**
 * The due date of a period: `dueDay` of that month, clamped to the month's last day (31 → 30 April,
 * 28 or 29 February).
 */
export function dueDateFor(period: Period, dueDay: number): LocalDate {
  if (!Number.isInteger(dueDay) || dueDay < 1 || dueDay > 31)
    throw new RangeError(`due day must be 1–31, got ${dueDay}`);
  const { year, month } = parsePeriod(period);
  return formatYmd({ year, month, day: Math.min(dueDay, daysInMonth(year, month)) });
}

/** `date` moved by `days` calendar days (negative goes back). */
export function addDays(date: LocalDate, days: number): LocalDate {
  if (!Number.isInteger(days)) throw new RangeError(`days must be an integer, got ${days}`);
  const { year, month, day } = parseDate(date);
  const moved = new Date(Date.UTC(year, month - 1, day) + days * MS_PER_DAY);
  return formatYmd({ year: moved.getUTCFullYear(), month: moved.getUTCMonth() + 1, day: moved.getUTCDate() });
}

/** `period` moved by `n` months (negative goes back). */
export function addMonths(period: Period, n: number): Period {
  if (!Number.isInteger(n)) throw new RangeError(`months must be an integer, got ${n}`);
  const { year, month } = parsePeriod(period);
  const index = year * 12 + (month - 1) + n;
  return `${pad(Math.floor(index / 12), 4)}-${pad((index % 12) + 1)}`;
}

/** English month names, January first (MyFatoorah's `ExpiryDate` format and the admin pages use them). */
export const MONTH_NAMES = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
] as const;

/** The period a date falls in. */
export function periodOf(date: LocalDate): Period {
  parseDate(date);
  return date.slice(0, 7);
}

// Building a DateTimeFormat is costly (ICU lookup); one per zone is reused for every conversion.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23', // never "24:00:00" at midnight
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/**
 * True when `tz` names a time zone this runtime knows (`Asia/Kuwait`, `UTC`, `Etc/GMT-3`). Bare UTC
 * offsets such as `+03:00`, which newer runtimes accept, are refused: they have no DST rules, so a
 * lease would silently keep the wrong offset if its country changed them.
 */
export function isValidTimeZone(tz: string): boolean {
  if (typeof tz !== 'string' || !/^[A-Za-z]/.test(tz)) return false;
  try {
    formatterFor(tz);
    return true;
  } catch {
    return false;
  }
}

type WallFields = Readonly<Ymd & { hour: number; minute: number; second: number }>;

// The tick asks for "now" in a lease's zone twice per lease, for 100,000 leases with the same `now`:
// the last answer per zone is kept (formatToParts is the costliest step of the due-date math).
const lastWall = new Map<string, { ms: number; fields: WallFields }>();

/** The wall clock in `timeZone` at instant `ms`, as fields (seconds resolution). */
function wallFields(ms: number, timeZone: string): WallFields {
  const last = lastWall.get(timeZone);
  if (last && last.ms === ms) return last.fields;
  const fields = computeWallFields(ms, timeZone);
  lastWall.set(timeZone, { ms, fields });
  return fields;
}

function computeWallFields(ms: number, timeZone: string): WallFields {
  const fields: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(ms)) {
    if (part.type !== 'literal') fields[part.type] = Number(part.value);
  }
  return Object.freeze({
    year: fields.year ?? NaN,
    month: fields.month ?? NaN,
    day: fields.day ?? NaN,
    hour: fields.hour ?? NaN,
    minute: fields.minute ?? NaN,
    second: fields.second ?? NaN,
  });
}

/** The wall clock at `ms`, read as if it were UTC: `wallAsUtc(ms) − ms` is the zone's offset at `ms`. */
function wallAsUtc(ms: number, timeZone: string): number {
  const f = wallFields(ms, timeZone);
  return Date.UTC(f.year, f.month - 1, f.day, f.hour, f.minute, f.second);
}

function offsetAt(ms: number, timeZone: string): number {
  const wholeSecond = Math.floor(ms / 1000) * 1000; // Intl drops milliseconds
  return wallAsUtc(wholeSecond, timeZone) - wholeSecond;
}

/** The instant `ms` as a local date and time in `timeZone`. */
export function instantToZonedParts(ms: number, timeZone: string): { date: LocalDate; time: WallTime } {
  const f = wallFields(ms, timeZone);
  return { date: formatYmd(f), time: `${pad(f.hour)}:${pad(f.minute)}:${pad(f.second)}` };
}

/** `yyyy-MM-ddTHH:mm:ss` in `timeZone`, no offset: the format of MyFatoorah's `ExpiryDate`. */
export function formatWallClock(ms: number, timeZone: string): string {
  const { date, time } = instantToZonedParts(ms, timeZone);
  return `${date}T${time}`;
}

/**
 * The instant at which the wall clock in `timeZone` shows `date` `time`.
 *
 * - Ambiguous wall time (clocks go back, the hour happens twice): the earlier instant.
 * - Non-existent wall time (clocks go forward over it): the first valid instant after the gap, which
 *   is the transition itself (e.g. 01:30 on London's spring-forward day → 02:00 BST = 01:00 UTC).
 */
export function zonedWallClockToInstant(date: LocalDate, time: WallTime, timeZone: string): number {
  // Pure and called for every lease on every tick with few distinct arguments (due days × lead days ×
  // zones): memoised, because each call costs several Intl formatToParts (bench: tick.steady-state).
  const key = `${date}T${time}@${timeZone}`;
  const cached = instantCache.get(key);
  if (cached !== undefined) return cached;
  if (instantCache.size >= INSTANT_CACHE_LIMIT) instantCache.clear();
  const instant = computeZonedInstant(date, time, timeZone);
  instantCache.set(key, instant);
  return instant;
}

const INSTANT_CACHE_LIMIT = 50_000;
const instantCache = new Map<string, number>();

function computeZonedInstant(date: LocalDate, time: WallTime, timeZone: string): number {
  const { year, month, day } = parseDate(date);
  const { hour, minute, second } = parseTime(time);
  const target = Date.UTC(year, month - 1, day, hour, minute, second);
  // Offsets a day either side cover both sides of any transition near the target (zones change
  // offset at most a few times a year, never twice within two days).
  const offsets = [...new Set([offsetAt(target - MS_PER_DAY, timeZone), offsetAt(target + MS_PER_DAY, timeZone)])];
  const exact = offsets.map((o) => target - o).filter((ms) => wallAsUtc(ms, timeZone) === target);
  if (exact.length > 0) return Math.min(...exact);
  return firstInstantShowingAtLeast(target, offsets, timeZone);
}

/**
 * Inside a DST gap: the transition instant, i.e. the first instant whose wall clock is ≥ `target`.
 * Found by bisection (to the millisecond) between the candidates of the two offsets; the wall clock is
 * monotonic across a forward jump, so bisection is sound there.
 */
function firstInstantShowingAtLeast(target: number, offsets: number[], timeZone: string): number {
  const candidates = offsets.map((o) => target - o);
  let lo = Math.min(...candidates); // shows a wall time before the target
  let hi = Math.max(...candidates); // shows a wall time after the target
  if (wallAsUtc(lo, timeZone) >= target || wallAsUtc(hi, timeZone) < target) {
    throw new RangeError(`cannot resolve wall time ${new Date(target).toISOString().slice(0, 19)} in ${timeZone}`);
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (wallAsUtc(mid, timeZone) >= target) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** When the first link for a due date goes out: local midnight of (due date − lead days). */
export function sendAtFor(dueDate: LocalDate, leadDays: number, timeZone: string): number {
  return zonedWallClockToInstant(addDays(dueDate, -leadDays), '00:00:00', timeZone);
}

/** When a link stops being payable: local 23:59:59 of (due date + valid days). */
export function expiresAtFor(dueDate: LocalDate, validDays: number, timeZone: string): number {
  return zonedWallClockToInstant(addDays(dueDate, validDays), '23:59:59', timeZone);
}

/** The part of a lease the schedule needs. */
export interface LeaseSchedule {
  dueDay: number;
  leadDays: number;
  timezone: string;
  startsOn: LocalDate;
  endsOn: LocalDate | null;
  /** Periods up to and including this one were collected outside rentlink (never billed). */
  paidThrough?: Period | null;
}

export interface DuePeriod {
  period: Period;
  dueDate: LocalDate;
  sendAt: number;
}

/**
 * The periods of a lease that are due to be sent at `now`: of the most recent `1 + catchUpPeriods`
 * periods whose send instant has come (`sendAt ≤ now`), those whose due date lies within
 * [startsOn, endsOn]; oldest first.
 *
 * The window is counted back from `now`, not from the lease's last billable period: a worker that
 * was down for a year does not bill the whole year at once, and a lease imported long after it ended
 * bills nothing.
 */
export function duePeriods(lease: LeaseSchedule, now: number, catchUpPeriods: number): DuePeriod[] {
  if (!Number.isInteger(catchUpPeriods) || catchUpPeriods < 0) {
    throw new RangeError(`catchUpPeriods must be a whole number ≥ 0, got ${catchUpPeriods}`);
  }
  const window = latestSentPeriods(lease, now, 1 + catchUpPeriods);
  return window.filter((p) => isBillable(lease, p));
}

/** Inside [startsOn, endsOn] by due date, and after paid_through. */
function isBillable(lease: LeaseSchedule, p: DuePeriod): boolean {
  if (p.dueDate < lease.startsOn) return false;
  if (lease.endsOn !== null && p.dueDate > lease.endsOn) return false;
  return !lease.paidThrough || p.period > lease.paidThrough;
}

/**
 * When the lease's next period becomes due to send: the send instant of the first billable period
 * whose send instant is after `now`; null when the lease has no such period (it ended). The tick looks
 * at a lease again only then, so a tick costs what is due, not what exists.
 */
export function nextSendInstant(lease: LeaseSchedule, now: number): number | null {
  const at = (period: Period): DuePeriod => periodAt(period, lease);
  const [latest] = latestSentPeriods(lease, now, 1);
  let next = at(addMonths(latest?.period ?? periodOf(instantToZonedParts(now, lease.timezone).date), 1));
  // Jump (never walk month by month) past the start and past what was collected outside rentlink.
  const startPeriod = periodOf(lease.startsOn);
  if (next.period < startPeriod) next = at(startPeriod);
  if (next.dueDate < lease.startsOn) next = at(addMonths(next.period, 1));
  if (lease.paidThrough && next.period <= lease.paidThrough) next = at(addMonths(lease.paidThrough, 1));
  if (lease.endsOn !== null && next.dueDate > lease.endsOn) return null;
  return next.sendAt;
}

/** The `count` most recent periods whose send instant is ≤ `now`, oldest first. */
function latestSentPeriods(lease: LeaseSchedule, now: number, count: number): DuePeriod[] {
  const at = (period: Period): DuePeriod => periodAt(period, lease);
  // Lead days can move a period's send date into an earlier month (due the 1st, 5 days lead → sent
  // in the previous month), so start far enough ahead of today's local month. Send instants grow
  // with the period, so walking back, the first one that has come is the latest.
  const monthsAhead = 1 + Math.ceil(Math.max(0, lease.leadDays) / 28);
  let latest = at(addMonths(periodOf(instantToZonedParts(now, lease.timezone).date), monthsAhead));
  while (latest.sendAt > now) latest = at(addMonths(latest.period, -1));
  const periods = [latest];
  while (periods.length < count) periods.unshift(at(addMonths(periods[0]?.period ?? latest.period, -1)));
  return periods;
}

// A period's due date and send instant depend on (period, due day, lead days, zone) only, and a tick
// over 100,000 leases asks for the same few hundred combinations again and again: memoised (frozen, so
// a caller cannot change what the next one gets), bounded like the instant cache.
const periodCache = new Map<string, DuePeriod>();

function periodAt(period: Period, lease: Pick<LeaseSchedule, 'dueDay' | 'leadDays' | 'timezone'>): DuePeriod {
  const key = `${period}|${lease.dueDay}|${lease.leadDays}|${lease.timezone}`;
  const cached = periodCache.get(key);
  if (cached) return cached;
  if (periodCache.size >= INSTANT_CACHE_LIMIT) periodCache.clear();
  const dueDate = dueDateFor(period, lease.dueDay);
  const computed = Object.freeze({ period, dueDate, sendAt: sendAtFor(dueDate, lease.leadDays, lease.timezone) });
  periodCache.set(key, computed);
  return computed;
}
