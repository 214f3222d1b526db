import type { Channel, Contact, FieldProblem, Language } from '../providers/types.js';
import { currencyExponent, toMinorUnits } from '../money.js';
import { FAST_FIELD_RULES, SLOW } from './lease-fast.js';
import { FIELD_RULES, forbiddenCharacterProblem, shown, type Fields } from './lease-fields.js';

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
