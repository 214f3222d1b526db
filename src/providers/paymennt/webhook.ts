import { createHash, createHmac } from 'node:crypto';
import { secretsEqual } from '../../secrets.js';
import type { WebhookRequest, WebhookResult } from '../types.js';

/**
 * paymennt webhooks. Their format, headers and signing scheme are not documented publicly, so a
 * webhook is only a trigger: the hint carries ids, and the worker asks `GET /checkout/{id}` before
 * acting. Shared by the sandbox (which signs) and the client (which verifies), so both agree.
 *
 * Signature (assumed): HMAC-SHA256 over the raw body with the account's `hmacKey` (the key
 * `POST /webhooks` returns), in a configurable header. Accepted encodings: lower- or upper-case hex
 * (what the sandbox sends), base64, each optionally prefixed `sha256=`. No timestamp is signed, so
 * a captured delivery can be replayed: callers dedupe on the hint's dedupeKey.
 */

/** The account's webhook settings. */
export interface WebhookVerification {
  /** The account's `webhookHmacKey`; without one, webhooks are accepted unsigned (as hints only). */
  hmacKey?: string | undefined;
  /** Lower-cased header name the signature is read from. */
  signatureHeader: string;
}

/** hex(HMAC-SHA256(key, rawBody)): what the sandbox puts in the signature header. */
export function signPaymenntWebhook(rawBody: string, hmacKey: string): string {
  return createHmac('sha256', hmacKey).update(rawBody, 'utf8').digest('hex');
}

/**
 * Verifies (when a key is configured) and reads a webhook. Never throws: a missing or wrong
 * signature is `bad-signature`; a body that is not JSON or names no checkout is `ignored`.
 */
export function parsePaymenntWebhook(req: WebhookRequest, verification: WebhookVerification): WebhookResult {
  try {
    const signed = verification.hmacKey !== undefined;
    if (verification.hmacKey !== undefined) {
      const refusal = signatureRefusal(req, verification.hmacKey, verification.signatureHeader);
      if (refusal) return { kind: 'bad-signature', reason: refusal };
    }
    return readHint(req.rawBody, signed);
  } catch (err) {
    return { kind: 'ignored', reason: `unreadable webhook: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** Why the signature is not acceptable, or null when it matches. */
function signatureRefusal(req: WebhookRequest, hmacKey: string, header: string): string | null {
  const given = headerValue(req.headers, header)?.trim() ?? '';
  if (given === '') return `signature header ${header} missing`;
  const digest = createHmac('sha256', hmacKey).update(req.rawBody, 'utf8').digest();
  const value = given.replace(/^sha256=/i, '');
  // Both comparisons always run, so timing does not reveal which encoding was close.
  const hexOk = secretsEqual(value.toLowerCase(), digest.toString('hex'));
  const base64Ok = secretsEqual(value, digest.toString('base64'));
  return hexOk || base64Ok ? null : 'signature does not match';
}

function headerValue(headers: Record<string, string>, name: string): string | undefined {
  const wanted = name.toLowerCase();
  if (headers[wanted] !== undefined) return headers[wanted];
  return Object.entries(headers).find(([key]) => key.toLowerCase() === wanted)?.[1];
}

function readHint(rawBody: string, signed: boolean): WebhookResult {
  let body: unknown;
  try {
    body = JSON.parse(rawBody);
  } catch {
    return { kind: 'ignored', reason: 'body is not JSON' };
  }
  const checkout = checkoutPart(body);
  const providerLinkId = idText(checkout, rawBody, 'id') ?? idText(checkout, rawBody, 'checkoutId');
  const reference = plainText(checkout['requestId']);
  if (providerLinkId === null && reference === null) {
    return { kind: 'ignored', reason: 'no checkout id or requestId in the body' };
  }
  const status = plainText(checkout['status']);
  const timestamp = plainText(checkout['timestamp']);
  // Without a status or time the ids alone would fold every later event into the first one.
  const distinct = status === null && timestamp === null ? `|${sha256(rawBody).slice(0, 16)}` : '';
  return {
    kind: 'hint',
    hint: {
      providerLinkId,
      reference,
      dedupeKey: `${providerLinkId ?? ''}|${reference ?? ''}|${status ?? ''}|${timestamp ?? ''}${distinct}`,
      summary: { status, verified: signed ? 'hmac-sha256' : 'unsigned' },
    },
  };
}

/** The object carrying the checkout: the body itself, or a `result`/`checkout`/`data` wrapper. */
function checkoutPart(body: unknown): Record<string, unknown> {
  if (!isRecord(body)) return {};
  if (body['id'] !== undefined || body['checkoutId'] !== undefined || body['requestId'] !== undefined) return body;
  for (const key of ['result', 'checkout', 'data']) {
    const inner = body[key];
    if (isRecord(inner)) return inner;
  }
  return body;
}

/**
 * An id as text. Checkout ids are 19 digits: sent as a JSON number they lose precision in
 * JSON.parse, so such a number is re-read from the raw text.
 */
function idText(checkout: Record<string, unknown>, rawBody: string, key: string): string | null {
  const value = checkout[key];
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    return new RegExp(`"${key}"\\s*:\\s*(\\d+)`).exec(rawBody)?.[1] ?? null;
  }
  return plainText(value);
}

function plainText(value: unknown): string | null {
  if (typeof value === 'string') return value.trim() === '' ? null : value.trim();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
