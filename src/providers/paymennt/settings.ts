import { z } from 'zod';
import { isValidTimeZone } from '../../time/periods.js';

/**
 * One paymennt account as the accounts file describes it. Secrets (`apiKey`, `apiSecret`,
 * `webhookHmacKey`) arrive already resolved from their `env:VAR` references by the registry.
 *
 * The schema is strict on purpose: a misspelt optional key such as `webhookHmacKy` would otherwise
 * be dropped silently and webhooks would be accepted unsigned.
 */

/** Where paymennt's test environment lives (the live one is `https://api.paymennt.com/mer/v2.0`). */
const PAYMENNT_TEST_BASE_URL = 'https://api.test.paymennt.com/mer/v2.0';

/** The header the webhook signature is read from unless the account names another (not documented by paymennt). */
export const DEFAULT_SIGNATURE_HEADER = 'x-paymennt-signature';

/** paymennt is a UAE provider: its dashboard shows Gulf Standard Time. */
const DEFAULT_TIME_ZONE = 'Asia/Dubai';

/** An HTTP header name (RFC 9110 token characters). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const secret = (key: string) =>
  z
    .string({ error: `${key} is required (a string, usually "env:VAR")` })
    .refine((value) => value.trim() !== '', { message: `${key} must not be empty` });

/** The accounts-file entry of a paymennt account (see the file comment). */
export const paymenntSettingsSchema = z.strictObject(
  {
    name: z
      .string({ error: 'name is required: the account name jobs and events refer to' })
      .trim()
      .min(1, { message: 'name must not be empty' }),
    provider: z.literal('paymennt', { error: 'provider must be "paymennt" for this account entry' }),
    baseUrl: z
      .url({ protocol: /^https?$/, error: `baseUrl must be an http(s) URL, e.g. ${PAYMENNT_TEST_BASE_URL}` })
      .transform((url) => url.replace(/\/+$/, '')),
    apiKey: secret('apiKey'),
    apiSecret: secret('apiSecret'),
    webhookHmacKey: z
      .string({ error: 'webhookHmacKey must be a string when given' })
      .refine((value) => value.trim() !== '', {
        message: 'webhookHmacKey must not be empty (leave it out to accept unsigned webhooks as hints)',
      })
      .optional(),
    webhookSignatureHeader: z
      .string({ error: 'webhookSignatureHeader must be a string when given' })
      .regex(HEADER_NAME, { message: 'webhookSignatureHeader must be an HTTP header name, e.g. x-paymennt-signature' })
      // Webhook requests reach the provider with lower-cased header names.
      .transform((name) => name.toLowerCase())
      .default(DEFAULT_SIGNATURE_HEADER),
    timeZone: z
      .string({ error: 'timeZone must be a string when given' })
      .refine(isValidTimeZone, { message: 'timeZone must be an IANA time zone such as Asia/Dubai' })
      .default(DEFAULT_TIME_ZONE),
  },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown key(s) in a paymennt account: ${issue.keys.join(', ')}`
        : 'a paymennt account entry must be an object',
  },
);

/** A validated paymennt account entry. */
export type PaymenntSettings = z.infer<typeof paymenntSettingsSchema>;
