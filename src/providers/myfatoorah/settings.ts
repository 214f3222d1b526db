import { z } from 'zod';
import { isKnownCurrency } from '../../money.js';
import { isValidTimeZone } from '../../time/periods.js';

/**
 * One MyFatoorah account as the accounts file (or the MYFATOORAH_* shorthand) describes it. MyFatoorah
 * issues one token and one base URL per country, and reads ExpiryDate as wall-clock time in the
 * country's zone, so each account carries its zone and base currency.
 */
export const myfatoorahSettingsSchema = z.object({
  name: z.string(),
  provider: z.literal('myfatoorah'),
  baseUrl: z.url({ protocol: /^https?$/, error: 'baseUrl must be an http(s) URL, e.g. https://api.myfatoorah.com' }),
  token: z.string().min(1, 'token is required (portal → Integration settings → API key)'),
  timeZone: z
    .string()
    .refine(isValidTimeZone, {
      error: (iss) => `timeZone must be an IANA zone such as Asia/Kuwait, got "${String(iss.input)}"`,
    })
    .default('Asia/Kuwait'),
  currency: z
    .string()
    .refine(isKnownCurrency, {
      error: (iss) => `currency must be an ISO 4217 code rentlink knows, got "${String(iss.input)}"`,
    })
    .default('KWD'),
  /** The portal's webhook secret key; without it this account's webhooks are refused. */
  webhookSecret: z.string().min(1).optional(),
});

export type MyFatoorahSettings = z.infer<typeof myfatoorahSettingsSchema>;
