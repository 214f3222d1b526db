import { toProviderDecimal } from '../../money.js';
import { MINUTE } from '../../time/clock.js';
import type { LinkRequest } from '../types.js';
import { channelSends, customerFor, type PaymenntCustomer } from './contact.js';

/**
 * The `POST /checkout/link` body, from rentlink's LinkRequest. Pure: the instant "now" comes in as
 * an argument (the client passes its injected clock's).
 */

/** paymennt's bounds for `expiresIn`, in minutes (OpenAPI: minimum 15, maximum 10080 = 7 days). */
const MIN_EXPIRES_IN_MINUTES = 15;
export const MAX_EXPIRES_IN_MINUTES = 10_080;

/** The body exactly as sent (field names are paymennt's). */
export interface CreateLinkBody {
  requestId: string;
  orderId: string;
  description: string;
  currency: string;
  amount: number;
  expiresIn: number;
  language: string;
  sendEmail: boolean;
  sendSms: boolean;
  customer?: PaymenntCustomer;
}

/**
 * Whole minutes from `now` to `expiresAt`, clamped to paymennt's 15…10080. Rounded down, so the
 * link never stays payable past the instant rentlink asked for (unless that is under 15 minutes
 * away, where paymennt's minimum wins).
 */
function expiresInMinutes(expiresAt: number, now: number): number {
  const minutes = Math.floor((expiresAt - now) / MINUTE);
  return Math.min(MAX_EXPIRES_IN_MINUTES, Math.max(MIN_EXPIRES_IN_MINUTES, minutes));
}

/** Builds the create body and the expiry paymennt will apply to it. */
export function createLinkBody(req: LinkRequest, now: number): { body: CreateLinkBody; expiresAt: number } {
  const expiresIn = expiresInMinutes(req.expiresAt, now);
  const sends = channelSends(req.channel);
  const customer = customerFor(req.customer);
  const body: CreateLinkBody = {
    requestId: req.reference,
    orderId: req.orderReference,
    description: req.description,
    currency: req.currency,
    // A JSON number printed from the exact decimal string: no float arithmetic on money.
    amount: toProviderDecimal(req.amountMinor, req.currency),
    expiresIn,
    // ISO 639-1, upper case as in paymennt's own examples ("EN").
    language: req.customer.language.toUpperCase(),
    sendEmail: sends.email,
    sendSms: sends.sms,
    ...(customer ? { customer } : {}),
  };
  return { body, expiresAt: now + expiresIn * MINUTE };
}
