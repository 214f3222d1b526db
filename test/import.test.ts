import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/time/clock.js';
import { closeDb, openDb, type Db } from '../src/db/open.js';
import { events, leases, tenants } from '../src/db/schema.js';
import { RentlinkError } from '../src/errors.js';
import { loadConfig } from '../src/config.js';
import { createRegistry } from '../src/providers/registry.js';
import {
  contactRulesOf,
  formatImportIssues,
  ImportError,
  importLeases,
  LEASE_CSV_COLUMNS,
  parseLeasesCsv,
  type ImportIssue,
  type LeaseCsvColumn,
} from '../src/operations/import-leases.js';
import { decodeLeaseFile } from '../src/operations/lease-file.js';

const EXAMPLE = readFileSync(new URL('../examples/leases.csv', import.meta.url), 'utf8');
const HEADER = LEASE_CSV_COLUMNS.join(',');
/** The accounts of a configuration without credentials (the sandbox ones), and their providers' rules. */
const RULES = contactRulesOf(createRegistry(loadConfig({}).accounts, { clock: new ManualClock(0), timeoutMs: 1000 }));

const GOOD: Record<LeaseCsvColumn, string> = {
  lease_ref: 'KW-TEST-1',
  tenant_name: 'Noura Al-Mutairi',
  email: 'noura@example.com',
  mobile: '51234567',
  mobile_country_code: '+965',
  language: 'en',
  unit: 'Salmiya 4 - Flat 2',
  amount: '450.750',
  currency: 'KWD',
  due_day: '1',
  lead_days: '5',
  valid_days: '10',
  timezone: 'Asia/Kuwait',
  channel: 'ALL',
  starts_on: '2026-01-01',
  ends_on: '',
  max_reissues: '',
  account: '',
  paid_through: '',
};

function csvLine(values: readonly string[]): string {
  return values.map((v) => (/[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v)).join(',');
}

function row(over: Partial<Record<LeaseCsvColumn, string>>): string {
  return csvLine(LEASE_CSV_COLUMNS.map((c) => over[c] ?? GOOD[c]));
}

/** Header (line 1), a good row (line 2), the bad row (line 3), another good row (line 4). */
function fileWithBadRow(over: Partial<Record<LeaseCsvColumn, string>>): string {
  return (
    [HEADER, row({ lease_ref: 'GOOD-1' }), row({ lease_ref: 'BAD-1', ...over }), row({ lease_ref: 'GOOD-2' })].join(
      '\n',
    ) + '\n'
  );
}

let dir: string;
let db: Db;
const clock = new ManualClock('2026-11-20T08:00:00Z');

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rentlink-import-'));
  db = openDb(join(dir, 'test.db'));
});

afterEach(() => {
  closeDb(db);
  rmSync(dir, { recursive: true, force: true });
});

function count(table: 'tenants' | 'leases' | 'events'): number {
  return (db.$client.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
}

function importFails(text: string): ImportIssue[] {
  try {
    importLeases(db, clock, text, RULES);
  } catch (err) {
    expect(err).toBeInstanceOf(ImportError);
    expect(err).toBeInstanceOf(RentlinkError);
    expect((err as ImportError).code).toBe('IMPORT_INVALID');
    return (err as ImportError).issues;
  }
  throw new Error('import should have failed');
}

function expectNothingWritten(): void {
  expect({ tenants: count('tenants'), leases: count('leases'), events: count('events') }).toEqual({
    tenants: 0,
    leases: 0,
    events: 0,
  });
}

describe('importing the example file', () => {
  it('creates every lease with exact amounts, normalised mobiles and Arabic names intact', () => {
    const summary = importLeases(db, clock, EXAMPLE, RULES);
    expect(summary).toMatchObject({ created: 8, updated: 0, unchanged: 0 });
    expect(summary.leases).toHaveLength(8);
    expect(count('leases')).toBe(8);
    expect(count('tenants')).toBe(8);
    expect(db.select().from(events).where(eq(events.type, 'lease.created')).all()).toHaveLength(8);

    const kw = db.select().from(leases).where(eq(leases.ref, 'KW-SLM-A12')).get();
    expect(kw).toMatchObject({
      amountMinor: 450750,
      currency: 'KWD',
      dueDay: 1,
      leadDays: 5,
      state: 'active',
      account: null,
    });
    expect(kw?.createdAt).toBe(clock.now());
    const fatima = db
      .select()
      .from(tenants)
      .where(eq(tenants.id, kw?.tenantId ?? -1))
      .get();
    expect(fatima).toMatchObject({
      name: 'فاطمة العلي',
      language: 'ar',
      mobile: '51234567',
      mobileCountryCode: '+965',
    });

    const sar = db.select().from(leases).where(eq(leases.ref, 'SA-JED-RWD-22')).get();
    expect(sar?.amountMinor).toBe(425050);
    const sara = db
      .select()
      .from(tenants)
      .where(eq(tenants.id, sar?.tenantId ?? -1))
      .get();
    expect(sara).toMatchObject({ mobile: '509876543', mobileCountryCode: '+966' }); // "+966 50 987 6543", "966"

    const omar = db.select().from(leases).where(eq(leases.ref, 'AE-AUH-RHA-41')).get();
    expect(omar?.maxReissues).toBe(2); // empty → default
    const ended = db.select().from(leases).where(eq(leases.ref, 'KW-FNT-7B')).get();
    expect(ended).toMatchObject({ dueDay: 31, endsOn: '2026-12-31', amountMinor: 1200000 });
  });

  it('accepts a BOM, CRLF line ends and columns in any order; a quoted line break inside a field is refused', () => {
    const columns = [...LEASE_CSV_COLUMNS].reverse();
    const line = (over: Partial<Record<LeaseCsvColumn, string>>) => csvLine(columns.map((c) => over[c] ?? GOOD[c]));
    const text =
      '\uFEFF' +
      [columns.join(','), line({ unit: 'Tower B\nFlat 9' }), line({ lease_ref: 'X-2', due_day: '40' })].join('\r\n');
    const { errors } = parseLeasesCsv(text, RULES);
    expect(errors).toEqual([
      {
        line: 2,
        field: 'unit',
        message: expect.stringContaining('unit contains U+000A LINE FEED at character 8') as string,
      },
      { line: 4, field: 'due_day', message: 'due_day must be a whole number from 1 to 31, got 40' },
    ]);
  });
});

describe('a bad field rejects the whole file', () => {
  it.each<[string, Partial<Record<LeaseCsvColumn, string>>, LeaseCsvColumn, RegExp]>([
    ['invalid mobile', { mobile: '12' }, 'mobile', /3 to 15 digits/],
    ['mobile too long', { mobile: '5123456789012' }, 'mobile', /3 to 11 digits/],
    ['mobile of another country', { mobile: '+966551234567' }, 'mobile', /country code other than/],
    ['unknown currency', { currency: 'XYZ' }, 'currency', /got XYZ/],
    ['due_day 32', { due_day: '32' }, 'due_day', /^due_day must be a whole number from 1 to 31, got 32$/],
    ['bad time zone', { timezone: 'Asia/Atlantis' }, 'timezone', /IANA time zone.*Asia\/Atlantis/],
    [
      'channel outside the set',
      { channel: 'WHATSAPP' },
      'channel',
      /email, sms, both, link \(or EML, SMS, ALL, LNK\), got WHATSAPP/,
    ],
    ['EML without email', { channel: 'EML', email: '' }, 'email', /email is required/],
    ['invalid email', { email: 'noura.example.com' }, 'email', /not a valid address/],
    ['SMS without country code', { channel: 'SMS', mobile_country_code: '' }, 'mobile_country_code', /required/],
    ['SMS without mobile', { channel: 'SMS', mobile: '' }, 'mobile', /mobile is required/],
    [
      'too many decimals for KWD',
      { amount: '450.7505' },
      'amount',
      /amount 450\.7505 has 4 decimals but KWD allows at most 3/,
    ],
    ['decimals on SAR', { amount: '100.005', currency: 'SAR' }, 'amount', /SAR allows at most 2/],
    ['zero amount', { amount: '0.000' }, 'amount', /greater than 0/],
    ['negative amount', { amount: '-5' }, 'amount', /greater than 0/],
    ['bad starts_on', { starts_on: '2026-02-30' }, 'starts_on', /real date/],
    ['ends_on before starts_on', { ends_on: '2025-12-31' }, 'ends_on', /before starts_on 2026-01-01/],
    ['lead_days 28', { lead_days: '28' }, 'lead_days', /0 to 27, got 28/],
    ['valid_days missing', { valid_days: '' }, 'valid_days', /required/],
    ['max_reissues 13', { max_reissues: '13' }, 'max_reissues', /0 to 12, got 13/],
    ['language fr', { language: 'fr' }, 'language', /en or ar/],
    ['lease_ref with a space', { lease_ref: 'BAD 1' }, 'lease_ref', /letters, digits/],
    ['lease_ref too long', { lease_ref: 'L'.repeat(41) }, 'lease_ref', /at most 40 characters, got 41/],
    ['missing tenant_name', { tenant_name: '' }, 'tenant_name', /required/],
    [
      'tenant_name of 101 characters',
      { tenant_name: 'ن'.repeat(101) },
      'tenant_name',
      /at most 100 characters, got 101$/,
    ],
    ['unit of 61 characters', { unit: 'U'.repeat(61) }, 'unit', /^unit must be at most 60 characters, got 61$/],
    ['NUL in tenant_name', { tenant_name: 'Noura\u0000' }, 'tenant_name', /contains U\+0000 NULL at character 6/],
    [
      'a right-to-left override in tenant_name',
      { tenant_name: 'Noura \u202Efdp.exe' },
      'tenant_name',
      /^tenant_name contains U\+202E RIGHT-TO-LEFT OVERRIDE at character 7/,
    ],
    ['a bidi isolate in unit', { unit: 'Flat \u2066 9' }, 'unit', /contains U\+2066 LEFT-TO-RIGHT ISOLATE/],
    ['a pop isolate in unit', { unit: 'Flat \u2069 9' }, 'unit', /contains U\+2069 POP DIRECTIONAL ISOLATE/],
    ['a tab inside tenant_name', { tenant_name: 'Noura\tAl' }, 'tenant_name', /U\+0009 CHARACTER TABULATION/],
    ['a bare CR inside unit', { unit: 'Flat\r9' }, 'unit', /U\+000D CARRIAGE RETURN/],
    ['a C1 control in email', { email: 'noura\u0085@example.com' }, 'email', /U\+0085 NEXT LINE/],
    ['another C0 control in lease_ref', { lease_ref: 'BAD\u0007' }, 'lease_ref', /U\+0007 \(a control character\)/],
  ])('%s', (_name, over, field, message) => {
    const issues = importFails(fileWithBadRow(over));
    expect(issues).toEqual([{ line: 3, field, message: expect.stringMatching(message) }]);
    expectNothingWritten();
  });

  it('duplicate lease_ref: the later line is reported', () => {
    const text = [HEADER, row({ lease_ref: 'DUP' }), row({ lease_ref: 'OTHER' }), row({ lease_ref: 'DUP' })].join('\n');
    expect(importFails(text)).toEqual([
      { line: 4, field: 'lease_ref', message: 'lease_ref DUP already appears on line 2' },
    ]);
    expectNothingWritten();
  });

  it('missing column in the header', () => {
    const columns = LEASE_CSV_COLUMNS.filter((c) => c !== 'unit');
    const text = [columns.join(','), csvLine(columns.map((c) => GOOD[c]))].join('\n');
    expect(importFails(text)).toEqual([{ line: 1, field: 'unit', message: 'column unit is missing from the header' }]);
    expectNothingWritten();
  });

  it('optional columns may be left out of the header', () => {
    const optional = [
      'email',
      'mobile',
      'mobile_country_code',
      'language',
      'lead_days',
      'ends_on',
      'max_reissues',
      'account',
      'paid_through',
    ];
    const columns = LEASE_CSV_COLUMNS.filter((c) => !optional.includes(c));
    const text = [columns.join(','), csvLine(columns.map((c) => (c === 'channel' ? 'link' : GOOD[c])))].join('\n');
    const summary = importLeases(db, clock, text, RULES);
    expect(summary.created).toBe(1);
    expect(db.select().from(leases).get()).toMatchObject({
      leadDays: 0,
      maxReissues: 2,
      account: null,
      paidThrough: null,
    });
  });

  it("contact fields are checked by the lease's account's provider rules", () => {
    // MyFatoorah (the default account) takes at most 11 digits: a 12-digit national number passes the
    // generic check but not the provider's.
    const issues = importFails(fileWithBadRow({ mobile: '512345678901' }));
    expect(issues).toEqual([
      { line: 3, field: 'mobile', message: expect.stringMatching(/3 to 11 digits .*MyFatoorah/) },
    ]);
    expect(importFails(fileWithBadRow({ account: 'nope' }))).toEqual([
      { line: 3, field: 'account', message: expect.stringMatching(/account "nope" is not configured/) },
    ]);
  });

  it('extra column in the header', () => {
    const text = [`${HEADER},notes`, `${row({})},hello`].join('\n');
    expect(importFails(text)).toEqual([expect.objectContaining({ line: 1, field: 'notes' })]);
    expectNothingWritten();
  });

  it('a row with the wrong number of values', () => {
    expect(importFails([HEADER, row({}), 'A,B,C'].join('\n'))).toEqual([
      expect.objectContaining({ line: 3, field: 'row' }),
    ]);
  });

  it('collects every problem of every row, in file order', () => {
    const text = [
      HEADER,
      row({ lease_ref: 'A', due_day: '0', currency: 'XXX' }),
      row({ lease_ref: 'B' }),
      row({ lease_ref: 'C', channel: 'FAX' }),
    ].join('\n');
    const issues = importFails(text);
    expect(issues.map((i) => `${i.line}:${i.field}`)).toEqual(['2:currency', '2:due_day', '4:channel']);
    expect(formatImportIssues(issues).split('\n')[0]).toBe(
      'line 2, field currency: currency must be a supported ISO 4217 code (e.g. KWD, SAR, AED), got XXX',
    );
    expectNothingWritten();
  });

  it('an empty file is an error', () => {
    expect(importFails('')).toEqual([expect.objectContaining({ line: 1, field: 'header' })]);
  });
});

describe('lengths and characters', () => {
  it('accepts a 100-character Arabic name and a 60-character unit', () => {
    const { errors, rows } = parseLeasesCsv(
      [HEADER, row({ tenant_name: 'نورة'.repeat(25), unit: 'U'.repeat(60) })].join('\n'),
      RULES,
    );
    expect(errors).toEqual([]);
    expect([...(rows[0]?.tenantName ?? '')]).toHaveLength(100);
  });
});

describe('a file that is not UTF-8', () => {
  it('is refused, saying so and where (line and byte), and nothing is written', () => {
    const latin1 = Buffer.from(
      [HEADER, row({ lease_ref: 'A' }), row({ lease_ref: 'B', tenant_name: 'Zoë' })].join('\n'),
      'latin1',
    );
    let issues: ImportIssue[] = [];
    try {
      decodeLeaseFile(latin1);
    } catch (err) {
      expect(err).toBeInstanceOf(ImportError);
      issues = (err as ImportError).issues;
    }
    expect(issues).toEqual([
      {
        line: 3,
        field: 'file',
        message: expect.stringMatching(/^the file is not UTF-8: byte 0xEB at line 3, byte 5 /),
      },
    ]);
    expectNothingWritten();
  });

  it('a UTF-8 file decodes, with or without a byte-order mark', () => {
    const text = [HEADER, row({ tenant_name: 'فاطمة' })].join('\n');
    expect(decodeLeaseFile(Buffer.from(text))).toBe(text);
    expect(parseLeasesCsv(decodeLeaseFile(Buffer.from(`\uFEFF${text}`)), RULES).errors).toEqual([]);
  });

  it('names the first bad byte of overlong, surrogate, truncated and out-of-range sequences', () => {
    const at = (bytes: number[]) => {
      try {
        decodeLeaseFile(Buffer.from([0x61, 0x0a, 0x62, ...bytes]));
      } catch (err) {
        return (err as ImportError).issues[0]?.message
          .match(/byte (0x[0-9A-F]{2}) at line (\d+), byte (\d+)/)
          ?.slice(1);
      }
      return null;
    };
    expect(at([0xc0, 0xaf])).toEqual(['0xC0', '2', '2']); // overlong "/"
    expect(at([0xed, 0xa0, 0x80])).toEqual(['0xED', '2', '2']); // a UTF-16 surrogate
    expect(at([0xe2, 0x82])).toEqual(['0xE2', '2', '2']); // cut short at the end
    expect(at([0xf4, 0x90, 0x80, 0x80])).toEqual(['0xF4', '2', '2']); // above U+10FFFF
    expect(at([0xe2, 0x82, 0xac, 0x80])).toEqual(['0x80', '2', '5']); // € then a stray continuation byte
    expect(at([0xe2, 0x82, 0xac])).toBeNull();
  });
});

describe('normalisation', () => {
  it('strips spaces, dashes, parentheses and a repeated country code; lowercases language', () => {
    const { rows, errors } = parseLeasesCsv(
      [
        HEADER,
        row({ lease_ref: 'A', mobile: '(+965) 5123-4567', mobile_country_code: '00965', language: 'AR' }),
        row({ lease_ref: 'B', mobile: '0096551234567', mobile_country_code: '965', channel: 'lnk', language: '' }),
      ].join('\n'),
      RULES,
    );
    expect(errors).toEqual([]);
    expect(rows.map((r) => [r.mobile, r.mobileCountryCode, r.language, r.channel])).toEqual([
      ['51234567', '+965', 'ar', 'both'],
      ['51234567', '+965', 'en', 'link'],
    ]);
  });
});

describe('re-importing', () => {
  it('the same file changes nothing and duplicates nothing', () => {
    importLeases(db, clock, EXAMPLE, RULES);
    clock.advance(60_000);
    const again = importLeases(db, clock, EXAMPLE, RULES);
    expect(again).toMatchObject({ created: 0, updated: 0, unchanged: 8 });
    expect({ tenants: count('tenants'), leases: count('leases'), events: count('events') }).toEqual({
      tenants: 8,
      leases: 8,
      events: 8,
    });
  });

  it('a changed mobile updates the tenant, keeps the lease state and records lease.updated', () => {
    importLeases(db, clock, EXAMPLE, RULES);
    db.update(leases).set({ state: 'paused' }).where(eq(leases.ref, 'KW-HWL-204')).run();
    clock.advance(60_000);

    const changed = EXAMPLE.replace('+965 6612 3456', '+965 6698 7654');
    expect(changed).not.toBe(EXAMPLE);
    expect(importLeases(db, clock, changed, RULES)).toMatchObject({ created: 0, updated: 1, unchanged: 7 });

    const lease = db.select().from(leases).where(eq(leases.ref, 'KW-HWL-204')).get();
    expect(lease?.state).toBe('paused');
    const tenant = db
      .select()
      .from(tenants)
      .where(eq(tenants.id, lease?.tenantId ?? -1))
      .get();
    expect(tenant).toMatchObject({ mobile: '66987654', updatedAt: clock.now() });
    expect(count('tenants')).toBe(8);

    const updates = db.select().from(events).where(eq(events.type, 'lease.updated')).all();
    expect(updates).toHaveLength(1);
    expect(updates[0]).toMatchObject({ actor: 'import', leaseId: lease?.id, at: clock.now() });
    expect(JSON.parse(updates[0]?.details ?? '{}')).toMatchObject({
      ref: 'KW-HWL-204',
      lease: {},
      tenant: { mobile: { from: '66123456', to: '66987654' } },
    });
  });
});
