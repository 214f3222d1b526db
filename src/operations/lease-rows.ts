import { z } from 'zod';
import { ACCOUNT_NAME } from '../providers/accounts.js';
import {
  CHANNELS,
  LANGUAGES,
  parseChannel,
  type Channel,
  type Contact,
  type FieldProblem,
  type Language,
} from '../providers/types.js';
import { currencyExponent, isKnownCurrency, toMinorUnits } from '../money.js';
import { isValidLocalDate, isValidTimeZone } from '../time/periods.js';
import { FAST_FIELD_RULES, SLOW } from './lease-fast.js';

// Validation of one lease row: every column on its own, then the rules that tie columns together.
// Problems are collected (never thrown) so a file reports every bad field of every row at once.

/** The columns of a lease file, in the order the example file uses (any order is accepted). */
export const LEASE_CSV_COLUMNS = [
  'lease_ref',
  'tenant_name',
  'email',
  'mobile',
  'mobile_country_code',
  'language',
  'unit',
  'amount',
  'currency',
  'due_day',
  'lead_days',
  'valid_days',
  'timezone',
  'channel',
  'starts_on',
  'ends_on',
  'max_reissues',
  'account',
  'paid_through',
] as const;
export type LeaseCsvColumn = (typeof LEASE_CSV_COLUMNS)[number];

/** The columns a header must name; the others may be left out (they are then empty for every row). */
export const REQUIRED_LEASE_COLUMNS: readonly LeaseCsvColumn[] = [
  'lease_ref',
  'tenant_name',
  'unit',
  'amount',
  'currency',
  'due_day',
  'valid_days',
  'timezone',
  'channel',
  'starts_on',
];

/**
 * The rules of the account a lease names, for its contact fields: every provider has its own (phone
 * patterns, which fields a channel needs). `account` null is the default account.
 */
export interface ContactRules {
  /** Null when the account is configured; otherwise why not (e.g. the names that are). */
  unknownAccount(account: string): string | null;
  problems(account: string | null, contact: Contact, channel: Channel, currency: string): FieldProblem[];
}

/** One problem in a lease file. `line` is the 1-based file line (the header is line 1). */
export interface ImportIssue {
  line: number;
  field: string;
  message: string;
}

/** A validated row, in the units the database stores (minor units, normalised mobile, …). */
export interface LeaseRow {
  line: number;
  ref: string;
  tenantName: string;
  email: string | null;
  /** National number, without the country code. */
  mobile: string | null;
  /** `+<digits>`. */
  mobileCountryCode: string | null;
  language: Language;
  unit: string;
  amountMinor: number;
  currency: string;
  dueDay: number;
  leadDays: number;
  validDays: number;
  timezone: string;
  channel: Channel;
  startsOn: string;
  endsOn: string | null;
  maxReissues: number;
  /** The configured account its links are made with; null: the default account. */
  account: string | null;
  /** `YYYY-MM`: periods up to this one were collected outside rentlink and are not billed. */
  paidThrough: string | null;
}

// ---------------------------------------------------------------------------------------------
// Field rules. Each column is checked on its own (so every bad field of a row is reported), then
// the rules that tie columns together (amount × currency, channel × contact, start × end) by hand.
// ---------------------------------------------------------------------------------------------

/** The raw value as shown in a message: quoted when it would otherwise be hard to read. */
export function shown(raw: unknown): string {
  const text = String(raw);
  return /^[^\s,"]+$/.test(text) ? text : JSON.stringify(text);
}

function wholeNumber(field: string, min: number, max: number, whenEmpty?: number) {
  return z.string().transform((raw, ctx) => {
    if (raw === '' && whenEmpty !== undefined) return whenEmpty;
    const value = Number(raw);
    if (/^\d+$/.test(raw) && value >= min && value <= max) return value;
    const message =
      raw === ''
        ? `${field} is required (a whole number from ${min} to ${max})`
        : `${field} must be a whole number from ${min} to ${max}, got ${shown(raw)}`;
    ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  });
}

function required(field: string, what: string) {
  return z.string().min(1, { error: `${field} is required (${what})` });
}

/** Required text of at most `max` characters (code points, so an Arabic letter or an emoji is one). */
function requiredText(field: string, what: string, max: number) {
  return required(field, what).refine((value) => [...value].length <= max, {
    error: (iss) => `${field} must be at most ${max} characters, got ${[...String(iss.input)].length}`,
  });
}

/**
 * Characters no field may hold: C0 and C1 controls (NUL, tab, CR and LF included: line ends belong
 * to the CSV, not to a value), DEL, and the bidi embeddings, overrides and isolates that make a name
 * display as something else (U+202A–U+202E, U+2066–U+2069).
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const FORBIDDEN_CHARACTER = /[\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/;

const CHARACTER_NAMES: Readonly<Record<number, string>> = {
  0x00: 'NULL',
  0x09: 'CHARACTER TABULATION',
  0x0a: 'LINE FEED',
  0x0d: 'CARRIAGE RETURN',
  0x7f: 'DELETE',
  0x85: 'NEXT LINE',
  0x202a: 'LEFT-TO-RIGHT EMBEDDING',
  0x202b: 'RIGHT-TO-LEFT EMBEDDING',
  0x202c: 'POP DIRECTIONAL FORMATTING',
  0x202d: 'LEFT-TO-RIGHT OVERRIDE',
  0x202e: 'RIGHT-TO-LEFT OVERRIDE',
  0x2066: 'LEFT-TO-RIGHT ISOLATE',
  0x2067: 'RIGHT-TO-LEFT ISOLATE',
  0x2068: 'FIRST STRONG ISOLATE',
  0x2069: 'POP DIRECTIONAL ISOLATE',
};

/** `U+202E RIGHT-TO-LEFT OVERRIDE`, or `U+0007 (a control character)` for the unnamed ones. */
function characterLabel(codePoint: number): string {
  const hex = `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
  return `${hex} ${CHARACTER_NAMES[codePoint] ?? '(a control character)'}`;
}

/** The problem with the first forbidden character of a field, or null when it has none. */
function forbiddenCharacterProblem(field: string, value: string): string | null {
  if (!FORBIDDEN_CHARACTER.test(value)) return null;
  const characters = [...value];
  const index = characters.findIndex((ch) => FORBIDDEN_CHARACTER.test(ch));
  const label = characterLabel(characters[index]?.codePointAt(0) ?? 0);
  return `${field} contains ${label} at character ${index + 1}; control characters, line breaks and bidi overrides are not allowed`;
}

function localDate(field: string) {
  return z.string().refine(isValidLocalDate, {
    error: (iss) => `${field} must be a real date written YYYY-MM-DD, got ${shown(iss.input)}`,
  });
}

/** Longest tenant name and unit label, in characters: what fits an SMS, an invoice line and a table. */
export const TENANT_NAME_MAX = 100;
export const UNIT_MAX = 60;

/** The zod rule of each column: the authority on what a field may hold, and the author of every message. */
export const FIELD_RULES = {
  lease_ref: required('lease_ref', 'your own unique id for the lease')
    .max(40, {
      error: (iss) => `lease_ref must be at most 40 characters, got ${String(iss.input).length}`,
      abort: true,
    })
    .regex(/^[A-Za-z0-9._-]+$/, {
      error: (iss) => `lease_ref may only contain letters, digits, ".", "_" and "-", got ${shown(iss.input)}`,
    }),
  tenant_name: requiredText('tenant_name', "the tenant's full name", TENANT_NAME_MAX),
  unit: requiredText('unit', 'a label for the rented unit', UNIT_MAX),
  email: z
    .union([z.literal(''), z.email({ error: (iss) => `email is not a valid address, got ${shown(iss.input)}` })])
    .transform((v) => v || null),
  language: z
    .string()
    .transform((v) => v.toLowerCase() || 'en')
    .pipe(z.enum(LANGUAGES, { error: (iss) => `language must be en or ar, got ${shown(iss.input)}` })),
  amount: z.string().transform((raw, ctx) => {
    if (raw === '')
      ctx.addIssue({ code: 'custom', message: 'amount is required (the monthly rent in major units, e.g. 450.750)' });
    else if (/^-\d/.test(raw))
      ctx.addIssue({ code: 'custom', message: `amount must be greater than 0, got ${shown(raw)}` });
    else if (!/^\d+(?:\.\d+)?$/.test(raw)) {
      ctx.addIssue({
        code: 'custom',
        message: `amount must be a plain decimal in major units like 450.750 (no thousands separators or currency signs), got ${shown(raw)}`,
      });
    } else if (!/[1-9]/.test(raw))
      ctx.addIssue({ code: 'custom', message: `amount must be greater than 0, got ${shown(raw)}` });
    return raw;
  }),
  currency: z
    .string()
    .transform((v) => v.toUpperCase())
    .refine(isKnownCurrency, {
      error: (iss) =>
        `currency must be a supported ISO 4217 code (e.g. KWD, SAR, AED), got ${iss.input === '' ? 'nothing' : shown(iss.input)}`,
    }),
  due_day: wholeNumber('due_day', 1, 31),
  lead_days: wholeNumber('lead_days', 0, 27, 0),
  valid_days: wholeNumber('valid_days', 1, 90),
  max_reissues: wholeNumber('max_reissues', 0, 12, 2),
  timezone: z.string().refine(isValidTimeZone, {
    error: (iss) =>
      `timezone must be an IANA time zone such as Asia/Kuwait, got ${iss.input === '' ? 'nothing' : shown(iss.input)}`,
  }),
  channel: z.string().transform((raw, ctx) => {
    const channel = parseChannel(raw);
    if (channel) return channel;
    ctx.addIssue({
      code: 'custom',
      message: `channel must be one of ${CHANNELS.join(', ')} (or EML, SMS, ALL, LNK), got ${raw === '' ? 'nothing' : shown(raw)}`,
    });
    return z.NEVER;
  }),
  starts_on: localDate('starts_on'),
  ends_on: z
    .union([z.literal(''), localDate('ends_on')], {
      error: (iss) => `ends_on must be empty or a real date written YYYY-MM-DD, got ${shown(iss.input)}`,
    })
    .transform((v) => v || null),
  mobile: z.string().transform((v) => v.replace(/[\s\-()]/g, '')),
  mobile_country_code: z.string().transform((raw, ctx) => {
    if (raw === '') return null;
    const digits = /^(?:\+|00)?(\d{1,4})$/.exec(raw.replace(/[\s\-()]/g, ''))?.[1];
    if (digits !== undefined) return `+${digits}`;
    ctx.addIssue({
      code: 'custom',
      message: `mobile_country_code must be 1 to 4 digits with an optional leading + (e.g. +965), got ${shown(raw)}`,
    });
    return z.NEVER;
  }),
  account: z
    .string()
    .transform((v) => v.toLowerCase() || null)
    .refine((v) => v === null || ACCOUNT_NAME.test(v), {
      error: (iss) => `account must be the name of a configured account, got ${shown(iss.input)}`,
    }),
  paid_through: z
    .string()
    .refine((v) => v === '' || /^\d{4}-(0[1-9]|1[0-2])$/.test(v), {
      error: (iss) => `paid_through must be empty or a period written YYYY-MM, got ${shown(iss.input)}`,
    })
    .transform((v) => v || null),
} satisfies Record<LeaseCsvColumn, z.ZodType<unknown, string>>;

type Fields = { [K in LeaseCsvColumn]?: z.output<(typeof FIELD_RULES)[K]> };

function checkFields(raw: Record<LeaseCsvColumn, string>, line: number, issues: ImportIssue[]): Fields {
  const fields: Record<string, unknown> = {};
  for (const column of LEASE_CSV_COLUMNS) {
    const characterProblem = forbiddenCharacterProblem(column, raw[column]);
    if (characterProblem) {
      issues.push({ line, field: column, message: characterProblem });
      continue;
    }
    const fast = FAST_FIELD_RULES[column](raw[column]);
    if (fast !== SLOW) {
      fields[column] = fast;
      continue;
    }
    const result = FIELD_RULES[column].safeParse(raw[column]);
    if (result.success) fields[column] = result.data;
    else issues.push({ line, field: column, message: result.error.issues[0]?.message ?? `${column} is invalid` });
  }
  return fields as Fields;
}

/** Amount in minor units, once both amount and currency passed their own checks. */
function checkAmount(f: Fields, line: number, issues: ImportIssue[]): number | undefined {
  if (f.amount === undefined || f.currency === undefined) return undefined;
  const exponent = currencyExponent(f.currency);
  const decimals = f.amount.split('.')[1]?.length ?? 0;
  if (decimals > exponent) {
    issues.push({
      line,
      field: 'amount',
      message: `amount ${f.amount} has ${decimals} decimals but ${f.currency} allows at most ${exponent}`,
    });
    return undefined;
  }
  try {
    return toMinorUnits(f.amount, f.currency);
  } catch (err) {
    issues.push({ line, field: 'amount', message: `amount ${f.amount} cannot be stored: ${(err as Error).message}` });
    return undefined;
  }
}

/** Any provider's floor: a national number is digits only, 3 to 15 of them (E.164's limit). */
const NATIONAL_NUMBER = /^[0-9]{3,15}$/;

/** The national number: the country code is stripped when the mobile repeats it (`+965…`, `00965…`). */
function checkMobile(f: Fields, line: number, issues: ImportIssue[]): string | null | undefined {
  let mobile = f.mobile;
  if (mobile === undefined || mobile === '') return mobile === '' ? null : undefined;
  const code = f.mobile_country_code;
  if (code) {
    const digits = code.slice(1);
    const prefix = [`+${digits}`, `00${digits}`].find((p) => mobile?.startsWith(p));
    if (prefix) mobile = mobile.slice(prefix.length);
  }
  const problem = (message: string) => {
    issues.push({ line, field: 'mobile', message });
    return undefined;
  };
  // A prefix that is still there belongs to another country (or there was no code to split off).
  if (/^(?:\+|00)/.test(mobile)) {
    return problem(
      code
        ? `mobile ${shown(mobile)} starts with a country code other than mobile_country_code ${code}`
        : `mobile ${shown(mobile)} has an international prefix: put the country code in mobile_country_code and the national number in mobile`,
    );
  }
  if (!NATIONAL_NUMBER.test(mobile)) {
    return problem(
      `mobile must be 3 to 15 digits once spaces, dashes, parentheses and the country code are removed, got ${shown(mobile)}`,
    );
  }
  return mobile;
}

/**
 * The lease's account must exist, and the tenant's contact fields must satisfy that account's provider
 * (what the channel needs, phone rules): checked once every field passed on its own.
 */
function checkAccountRules(
  f: Fields,
  mobile: string | null,
  rules: ContactRules,
  line: number,
  issues: ImportIssue[],
): void {
  // Judged only on fields that passed their own checks (a bad email is reported once, as bad).
  const needed = [f.account, f.channel, f.currency, f.tenant_name, f.email, f.mobile_country_code, f.language];
  if (needed.some((v) => v === undefined)) return;
  if (f.account) {
    const unknown = rules.unknownAccount(f.account);
    if (unknown) {
      issues.push({ line, field: 'account', message: unknown });
      return;
    }
  }
  const contact: Contact = {
    name: f.tenant_name as string,
    email: f.email ?? null,
    mobile,
    mobileCountryCode: f.mobile_country_code ?? null,
    language: f.language ?? 'en',
  };
  for (const problem of rules.problems(f.account ?? null, contact, f.channel as Channel, f.currency as string)) {
    issues.push({ line, ...problem });
  }
}

/** Validates one record; returns the row when it has no problem (problems go to `issues`). */
export function checkRow(
  raw: Record<LeaseCsvColumn, string>,
  line: number,
  issues: ImportIssue[],
  rules: ContactRules,
): LeaseRow | null {
  const before = issues.length;
  const f = checkFields(raw, line, issues);
  const amountMinor = checkAmount(f, line, issues);
  const mobile = checkMobile(f, line, issues);
  // A mobile that failed its own check is not judged again by the provider's rules.
  if (mobile !== undefined) checkAccountRules(f, mobile, rules, line, issues);
  if (f.starts_on !== undefined && f.ends_on && f.ends_on < f.starts_on) {
    issues.push({ line, field: 'ends_on', message: `ends_on ${f.ends_on} is before starts_on ${f.starts_on}` });
  }
  if (issues.length > before) return null;
  // Every field passed, so none of these is undefined; the casts only tell TypeScript so.
  return {
    line,
    ref: f.lease_ref as string,
    tenantName: f.tenant_name as string,
    email: f.email ?? null,
    mobile: mobile ?? null,
    mobileCountryCode: f.mobile_country_code ?? null,
    language: f.language as Language,
    unit: f.unit as string,
    amountMinor: amountMinor as number,
    currency: f.currency as string,
    dueDay: f.due_day as number,
    leadDays: f.lead_days as number,
    validDays: f.valid_days as number,
    timezone: f.timezone as string,
    channel: f.channel as Channel,
    startsOn: f.starts_on as string,
    endsOn: f.ends_on ?? null,
    maxReissues: f.max_reissues as number,
    account: f.account ?? null,
    paidThrough: f.paid_through ?? null,
  };
}
