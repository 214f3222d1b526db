import { z } from 'zod';
import { ACCOUNT_NAME } from '../providers/accounts.js';
import { CHANNELS, LANGUAGES, parseChannel } from '../providers/types.js';
import { isKnownCurrency } from '../money.js';
import { isValidLocalDate, isValidTimeZone } from '../time/periods.js';
import type { LeaseCsvColumn } from './lease-rows.js';

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
export function forbiddenCharacterProblem(field: string, value: string): string | null {
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
const TENANT_NAME_MAX = 100;
const UNIT_MAX = 60;

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

export type Fields = { [K in LeaseCsvColumn]?: z.output<(typeof FIELD_RULES)[K]> };
