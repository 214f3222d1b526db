import { z } from 'zod';
import { isValidTimeZone } from '../../time/periods.js';

/**
 * One Amazon Payment Services account as the accounts file describes it. The secrets (phrases, access
 * code) arrive already resolved: the registry replaces `env:VAR` references before parsing. Messages
 * name the key and never repeat the value, which may be a secret.
 */

/** Sandbox https://sbpaymentservices.payfort.com, live https://paymentservices.payfort.com. */
const baseUrl = z
  .string({ error: 'baseUrl is required (e.g. https://sbpaymentservices.payfort.com)' })
  .refine(isHttpUrl, { error: 'baseUrl must be an http(s) URL such as https://sbpaymentservices.payfort.com' })
  .transform((url) => url.replace(/\/+$/, ''));

/** A dashboard credential of at most `max` characters (APS: access_code, merchant_identifier ≤ 20). */
function credential(key: string, what: string, max: number) {
  return z
    .string({ error: `${key} is required (${what})` })
    .trim()
    .min(1, { error: `${key} must not be empty (${what})` })
    .max(max, { error: `${key} must be at most ${max} characters (${what})` });
}

/** A SHA phrase is used exactly as typed in the dashboard: spaces are part of it, so no trim. */
function phrase(key: string, what: string) {
  return z.string({ error: `${key} is required (${what})` }).min(1, { error: `${key} must not be empty (${what})` });
}

/** `sha256` / `sha512`; the dashboard's spelling (`SHA-256`, `SHA512`) is accepted too. */
const shaType = z
  .preprocess(
    (value) => (typeof value === 'string' ? value.trim().toLowerCase().replace(/-/g, '') : value),
    z.enum(['sha256', 'sha512'], { error: 'shaType must be sha256 or sha512 (the dashboard\u2019s SHA Type)' }),
  )
  .default('sha256');

const timeZone = z
  .string({ error: 'timeZone must be an IANA time zone such as Asia/Dubai' })
  .refine(isValidTimeZone, { error: 'timeZone must be an IANA time zone such as Asia/Dubai or Asia/Riyadh' })
  .default('Asia/Dubai');

export const apsSettingsSchema = z.object({
  name: z
    .string({ error: 'name is required (the account name used by leases)' })
    .trim()
    .min(1, { error: 'name must not be empty' }),
  provider: z.literal('aps', { error: 'provider must be "aps" for an Amazon Payment Services account' }),
  baseUrl,
  accessCode: credential('accessCode', 'APS access_code, from Integration Settings', 20),
  merchantIdentifier: credential('merchantIdentifier', 'APS merchant_identifier, from Integration Settings', 20),
  requestPhrase: phrase('requestPhrase', 'the SHA Request Phrase that signs requests'),
  responsePhrase: phrase('responsePhrase', 'the SHA Response Phrase that signs answers and notifications'),
  shaType,
  /** The zone whose UTC offset request_expiry_date carries; display only, APS stores the instant. */
  timeZone,
});

/** A parsed, defaulted APS account entry. */
export type ApsSettings = z.output<typeof apsSettingsSchema>;

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname !== '';
  } catch {
    return false;
  }
}
