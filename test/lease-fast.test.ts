import { describe, expect, it } from 'vitest';
import { FAST_FIELD_RULES, SLOW } from '../src/operations/lease-fast.js';
import { FIELD_RULES } from '../src/operations/lease-fields.js';
import { LEASE_CSV_COLUMNS, type LeaseCsvColumn } from '../src/operations/lease-rows.js';

/**
 * The import's fast paths must never disagree with the zod rules: whatever a fast path decides, zod
 * accepts too, with the same output; anything else is left to zod (and its messages).
 */
const SAMPLES: Record<LeaseCsvColumn, string[]> = {
  lease_ref: ['', 'A', 'KW-SLM-A12', 'a.b_c-d', 'x'.repeat(40), 'x'.repeat(41), 'bad ref', 'ü', 'a/b'],
  tenant_name: ['', 'Fatima', 'فاطمة العلي', 'x'.repeat(100), 'x'.repeat(101), '😀'.repeat(60), '😀'.repeat(101)],
  unit: ['', 'Unit 1', 'x'.repeat(60), 'x'.repeat(61), '😀'.repeat(40)],
  email: [
    '',
    'a@b.co',
    'first.last+tag@example.com',
    'no-at',
    'a@b',
    'a@b.c',
    "o'brien@x.org",
    'a..b@x.org',
    ' a@b.co',
  ],
  language: ['', 'en', 'AR', 'En', 'fr', 'english'],
  amount: ['', '1', '0', '0.000', '450.750', '-1', '1,000', '1e3', '.5', '5.', '007', '0.001'],
  currency: ['', 'KWD', 'kwd', 'SAR', 'XYZ', 'jpy', 'K W D'],
  due_day: ['', '0', '1', '31', '32', '01', '1.0', '-1', ' 1', '٣'],
  lead_days: ['', '0', '27', '28', '5x'],
  valid_days: ['', '0', '1', '90', '91'],
  max_reissues: ['', '0', '12', '13', 'two'],
  timezone: ['', 'Asia/Kuwait', 'UTC', 'Etc/GMT-3', '+03:00', 'Mars/Olympus', 'asia/kuwait'],
  channel: ['', 'EML', 'sms', 'ALL', 'LNK', 'email', 'both', 'link', 'fax', ' eml '],
  starts_on: ['', '2026-12-01', '2026-02-29', '2028-02-29', '2026-13-01', '26-12-01', '2026-12-1'],
  ends_on: ['', '2027-11-30', '2027-02-30', 'never'],
  mobile: ['', '51234567', '5123 4567', '(512) 345-67', '+96551234567', 'abc'],
  mobile_country_code: ['', '+965', '965', '00965', '+ 965', '+12345', 'x', '(+1)'],
  account: ['', 'default', 'KW', 'saudi_1', 'a-b', '-x', 'x'.repeat(32), 'x'.repeat(33), 'ü'],
  paid_through: ['', '2026-11', '2026-13', '2026-1', 'x'],
};

describe('lease-file fast paths', () => {
  it('cover every column', () => {
    expect(Object.keys(FAST_FIELD_RULES).sort()).toEqual([...LEASE_CSV_COLUMNS].sort());
  });

  for (const column of LEASE_CSV_COLUMNS) {
    it(`${column}: a fast answer is zod's answer`, () => {
      let decided = 0;
      for (const raw of SAMPLES[column]) {
        const fast = FAST_FIELD_RULES[column](raw);
        if (fast === SLOW) continue;
        decided++;
        const slow = FIELD_RULES[column].safeParse(raw);
        expect(slow.success, `${column} ${JSON.stringify(raw)}`).toBe(true);
        expect(fast, `${column} ${JSON.stringify(raw)}`).toEqual(slow.data);
      }
      // The common, valid case must take the fast path (or the import is slow again).
      expect(decided).toBeGreaterThan(0);
    });
  }
});
