import { describe, expect, it } from 'vitest';
import {
  addDays,
  addMonths,
  dueDateFor,
  duePeriods,
  expiresAtFor,
  formatWallClock,
  instantToZonedParts,
  isValidLocalDate,
  isValidTimeZone,
  periodOf,
  sendAtFor,
  zonedWallClockToInstant,
  type LeaseSchedule,
} from '../src/time/periods.js';

const HOUR = 3_600_000;
const utc = (iso: string): number => Date.parse(iso);

describe('dueDateFor', () => {
  it.each([
    ['2026-01', 31, '2026-01-31'],
    ['2026-02', 31, '2026-02-28'], // not a leap year
    ['2026-02', 29, '2026-02-28'],
    ['2028-02', 31, '2028-02-29'], // leap year
    ['2028-02', 29, '2028-02-29'],
    ['2100-02', 29, '2100-02-28'], // century, not a leap year
    ['2026-04', 31, '2026-04-30'],
    ['2026-04', 30, '2026-04-30'],
    ['2026-06', 15, '2026-06-15'],
    ['2026-12', 1, '2026-12-01'],
  ])('period %s, due day %i → %s', (period, dueDay, expected) => {
    expect(dueDateFor(period, dueDay)).toBe(expected);
  });

  it('rejects a due day outside 1–31 and a malformed period', () => {
    expect(() => dueDateFor('2026-01', 0)).toThrow(RangeError);
    expect(() => dueDateFor('2026-01', 32)).toThrow(RangeError);
    expect(() => dueDateFor('2026-13', 1)).toThrow(RangeError);
  });
});

describe('calendar arithmetic', () => {
  it.each([
    ['2026-01-31', 1, '2026-02-01'],
    ['2026-03-01', -1, '2026-02-28'],
    ['2028-03-01', -1, '2028-02-29'],
    ['2027-01-01', -5, '2026-12-27'],
    ['2026-12-31', 1, '2027-01-01'],
    ['2026-03-28', 3, '2026-03-31'], // across London's DST change: calendar days, not 24 h blocks
  ])('addDays(%s, %i) = %s', (date, days, expected) => {
    expect(addDays(date, days)).toBe(expected);
  });

  it.each([
    ['2026-12', 1, '2027-01'],
    ['2027-01', -1, '2026-12'],
    ['2026-01', -13, '2024-12'],
    ['2026-05', 0, '2026-05'],
    ['2026-11', 14, '2028-01'],
  ])('addMonths(%s, %i) = %s', (period, n, expected) => {
    expect(addMonths(period, n)).toBe(expected);
  });

  it('periodOf and isValidLocalDate', () => {
    expect(periodOf('2026-12-27')).toBe('2026-12');
    expect(isValidLocalDate('2028-02-29')).toBe(true);
    expect(isValidLocalDate('2026-02-29')).toBe(false);
    expect(isValidLocalDate('2026-4-01')).toBe(false);
    expect(() => periodOf('2026-02-30')).toThrow(RangeError);
  });
});

describe('send dates', () => {
  it('lead days move the send date into the previous month', () => {
    expect(instantToZonedParts(sendAtFor('2026-03-03', 5, 'Asia/Kuwait'), 'Asia/Kuwait').date).toBe('2026-02-26');
    expect(instantToZonedParts(sendAtFor('2028-03-03', 5, 'Asia/Kuwait'), 'Asia/Kuwait').date).toBe('2028-02-27');
  });

  it('crosses the year boundary: period 2026-12 with lead days, period 2027-01 due the 1st with lead 5', () => {
    expect(sendAtFor(dueDateFor('2026-12', 15), 7, 'Asia/Kuwait')).toBe(utc('2026-12-07T21:00:00Z')); // 12-08 local
    const january = sendAtFor(dueDateFor('2027-01', 1), 5, 'Asia/Kuwait');
    expect(instantToZonedParts(january, 'Asia/Kuwait')).toEqual({ date: '2026-12-27', time: '00:00:00' });
    expect(january).toBe(utc('2026-12-26T21:00:00Z'));
  });

  it('Kuwait and Riyadh share +03:00; Dubai is an hour ahead', () => {
    const kuwait = sendAtFor('2026-12-01', 0, 'Asia/Kuwait');
    const riyadh = sendAtFor('2026-12-01', 0, 'Asia/Riyadh');
    const dubai = sendAtFor('2026-12-01', 0, 'Asia/Dubai');
    expect(kuwait).toBe(utc('2026-11-30T21:00:00Z'));
    expect(riyadh).toBe(kuwait);
    expect(dubai).toBe(utc('2026-11-30T20:00:00Z'));
  });

  it('Europe/London local midnights move by an hour around the last Sundays of March and October', () => {
    const london = (date: string) => sendAtFor(date, 0, 'Europe/London');
    expect(london('2026-03-29')).toBe(utc('2026-03-29T00:00:00Z')); // GMT
    expect(london('2026-03-30')).toBe(utc('2026-03-29T23:00:00Z')); // BST
    expect(london('2026-03-30') - london('2026-03-29')).toBe(23 * HOUR);
    expect(london('2026-10-25')).toBe(utc('2026-10-24T23:00:00Z')); // BST
    expect(london('2026-10-26')).toBe(utc('2026-10-26T00:00:00Z')); // GMT
    expect(london('2026-10-26') - london('2026-10-25')).toBe(25 * HOUR);
  });

  it('a wall time in a DST gap moves forward to the transition; an ambiguous one takes the earlier instant', () => {
    expect(zonedWallClockToInstant('2026-03-29', '01:30:00', 'Europe/London')).toBe(utc('2026-03-29T01:00:00Z'));
    expect(zonedWallClockToInstant('2026-10-25', '01:30:00', 'Europe/London')).toBe(utc('2026-10-25T00:30:00Z'));
    expect(zonedWallClockToInstant('2026-03-08', '02:30:00', 'America/New_York')).toBe(utc('2026-03-08T07:00:00Z'));
    expect(zonedWallClockToInstant('2026-11-01', '01:30:00', 'America/New_York')).toBe(utc('2026-11-01T05:30:00Z'));
    // Santiago starts DST at midnight: local midnight does not exist, the day starts at 01:00.
    expect(sendAtFor('2026-09-06', 0, 'America/Santiago')).toBe(utc('2026-09-06T04:00:00Z'));
  });

  it('round-trips wall clock and instant', () => {
    for (const tz of ['Asia/Kuwait', 'Asia/Dubai', 'Europe/London', 'America/New_York']) {
      const ms = zonedWallClockToInstant('2026-07-14', '13:45:07', tz);
      expect(instantToZonedParts(ms, tz)).toEqual({ date: '2026-07-14', time: '13:45:07' });
    }
  });
});

describe('expiry and MyFatoorah wall clock', () => {
  it('expires at local 23:59:59 of due date + valid days, written without offset', () => {
    const expires = expiresAtFor('2026-12-01', 10, 'Asia/Kuwait');
    expect(expires).toBe(utc('2026-12-11T20:59:59Z'));
    expect(formatWallClock(expires, 'Asia/Kuwait')).toBe('2026-12-11T23:59:59');
    expect(formatWallClock(utc('2026-12-31T21:00:00Z'), 'Asia/Kuwait')).toBe('2027-01-01T00:00:00');
    expect(formatWallClock(utc('2026-01-01T00:00:00.999Z'), 'Asia/Dubai')).toBe('2026-01-01T04:00:00');
  });
});

describe('isValidTimeZone', () => {
  it.each([
    ['Asia/Kuwait', true],
    ['America/Argentina/Buenos_Aires', true],
    ['UTC', true],
    ['Mars/Olympus_Mons', false],
    ['+03:00', false],
    ['', false],
  ])('%s → %s', (tz, expected) => {
    expect(isValidTimeZone(tz)).toBe(expected);
  });
});

describe('duePeriods', () => {
  const lease = (over: Partial<LeaseSchedule> = {}): LeaseSchedule => ({
    dueDay: 1,
    leadDays: 5,
    timezone: 'Asia/Kuwait',
    startsOn: '2026-01-01',
    endsOn: null,
    ...over,
  });
  const periods = (l: LeaseSchedule, now: number, catchUp = 0) => duePeriods(l, now, catchUp).map((p) => p.period);

  it('is empty before the lease starts', () => {
    expect(duePeriods(lease({ startsOn: '2026-06-01' }), utc('2026-03-10T12:00:00Z'), 3)).toEqual([]);
  });

  it('is empty once the lease has ended', () => {
    expect(duePeriods(lease({ endsOn: '2026-06-30' }), utc('2026-12-01T00:00:00Z'), 2)).toEqual([]);
  });

  it('stops at ends_on inside the catch-up window', () => {
    expect(periods(lease({ endsOn: '2026-11-30' }), utc('2026-12-01T00:00:00Z'), 2)).toEqual(['2026-10', '2026-11']);
  });

  it('catches up at most 1 + N periods, oldest first', () => {
    const now = utc('2026-12-01T00:00:00Z');
    expect(periods(lease(), now, 0)).toEqual(['2026-12']);
    expect(periods(lease(), now, 2)).toEqual(['2026-10', '2026-11', '2026-12']);
    expect(periods(lease({ startsOn: '2026-11-01' }), now, 5)).toEqual(['2026-11', '2026-12']);
  });

  it('the send instant itself is due; a millisecond before is not', () => {
    const l = lease({ startsOn: '2027-01-01' });
    const sendAt = utc('2026-12-26T21:00:00Z'); // 2026-12-27 00:00 in Kuwait
    expect(duePeriods(l, sendAt, 0)).toEqual([{ period: '2027-01', dueDate: '2027-01-01', sendAt }]);
    expect(duePeriods(l, sendAt - 1, 0)).toEqual([]);
  });

  it('looks into next month when lead days reach back into this one', () => {
    expect(periods(lease(), utc('2026-12-28T09:00:00Z'), 1)).toEqual(['2026-12', '2027-01']);
  });

  it('clamps due day 31 and uses each zone for the send instant', () => {
    const l = lease({ dueDay: 31, leadDays: 0, timezone: 'Asia/Dubai' });
    expect(duePeriods(l, utc('2026-04-29T20:00:00Z'), 1)).toEqual([
      { period: '2026-03', dueDate: '2026-03-31', sendAt: utc('2026-03-30T20:00:00Z') },
      { period: '2026-04', dueDate: '2026-04-30', sendAt: utc('2026-04-29T20:00:00Z') },
    ]);
  });
});
