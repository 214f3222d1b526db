import { createHmac } from 'node:crypto';
import { secretsEqual } from '../../secrets.js';
import { ambiguityInSignedBody } from './webhook-shape.js';

/**
 * MyFatoorah webhook signatures, shared by the sandbox (which signs) and the worker's HTTP server
 * (which verifies), so both sides agree on one recipe.
 *
 * The header `MyFatoorah-Signature` is Base64(HMAC-SHA256(secret, text)). The text is NOT the raw body:
 * - V2 (`Event.Code`): for Code 1 `PAYMENT_STATUS_CHANGED` a fixed list of fields in a fixed order,
 *   `Invoice.Id=<v>,Invoice.Status=<v>,Transaction.Status=<v>,Transaction.PaymentId=<v>,Invoice.ExternalIdentifier=<v>`.
 * - V1 (`EventType`): every `Data` property as `key=value`, keys sorted case-insensitively, joined by `,`.
 * In both, a null/absent value becomes the empty string and the key stays.
 *
 * That text escapes nothing, so several bodies share it; after the HMAC matches, verification also
 * refuses every body whose text another structure could produce (webhook-shape.ts), so a signature
 * vouches for exactly one set of fields.
 *
 * The signature carries no timestamp, so a captured delivery can be replayed: callers dedupe on
 * {@link WebhookHint.dedupeKey} and confirm the state with GetPaymentStatus before acting.
 */

/** The header MyFatoorah puts the signature in (HTTP headers are case-insensitive). */
export const MYFATOORAH_SIGNATURE_HEADER = 'MyFatoorah-Signature';

/** What a verified webhook tells the worker; a hint only — the worker confirms with GetPaymentStatus. */
export interface WebhookHint {
  version: 'v1' | 'v2';
  /** MyFatoorah InvoiceId as a string (V2 `Data.Invoice.Id`, V1 `Data.InvoiceId`). */
  invoiceId: string | null;
  /** V2 `Data.Transaction.PaymentId`, V1 `Data.PaymentId`. */
  paymentId: string | null;
  /** OUR reference, i.e. the CustomerReference sent with SendPayment (V2 `Data.Invoice.ExternalIdentifier`, V1 `Data.CustomerReference`). */
  reference: string | null;
  /** V2 `Data.Invoice.Status` (`PAID`, `PENDING`, …); V1 has no invoice status, so null. */
  invoiceStatus: string | null;
  /** V2 `Data.Transaction.Status` (`SUCCESS`, `FAILED`, …); V1 `Data.TransactionStatus`. */
  transactionStatus: string | null;
  /** `${invoiceId}|${paymentId}|${invoiceStatus}|${transactionStatus}` — equal for a replay of the same event. */
  dedupeKey: string;
}

/** The dotted paths MyFatoorah signs for V2 Code 1, in the order it signs them. */
const V2_PAYMENT_STATUS_FIELDS = [
  'Invoice.Id',
  'Invoice.Status',
  'Transaction.Status',
  'Transaction.PaymentId',
  'Invoice.ExternalIdentifier',
] as const;

/**
 * The text MyFatoorah signs for a V2 webhook body. Only Code 1 (`PAYMENT_STATUS_CHANGED`) is supported:
 * it is the only event rentlink acts on, and other codes sign other field lists.
 * @throws Error when the body is not a V2 Code 1 event.
 */
export function webhookSignatureTextV2(body: unknown): string {
  return joinSigned(signedFieldsV2(body));
}

/**
 * The text MyFatoorah signs for a V1 webhook: every property of `Data` as `key=value`, sorted by key
 * case-insensitively (ordinal on the lower-cased keys, like PHP's strcasecmp in the official SDK), joined by `,`.
 */
export function webhookSignatureTextV1(data: unknown): string {
  return joinSigned(signedFieldsV1(data));
}

/** A signed field: its name in the text and its value in the body. */
type SignedField = [name: string, value: unknown];

function signedFieldsV2(body: unknown): SignedField[] {
  const code = field(field(body, 'Event'), 'Code');
  if (Number(code) !== 1) throw new Error(`unsupported MyFatoorah V2 webhook event code ${String(code)}`);
  const data = field(body, 'Data');
  return V2_PAYMENT_STATUS_FIELDS.map((path) => [path, fieldAtPath(data, path)]);
}

function signedFieldsV1(data: unknown): SignedField[] {
  if (!isRecord(data)) throw new Error('MyFatoorah V1 webhook Data must be an object');
  return Object.keys(data)
    .sort(compareCaseInsensitive)
    .map((key) => [key, data[key]]);
}

function joinSigned(fields: SignedField[]): string {
  return fields.map(([name, value]) => `${name}=${signedValue(value)}`).join(',');
}

/**
 * Base64(HMAC-SHA256(secret, text)) for a parsed webhook body: V2 when `body.Event.Code` exists,
 * V1 when `body.EventType` exists.
 * @throws Error when the body is neither shape (or an unsupported V2 code).
 */
export function signMyFatoorahWebhook(body: unknown, secret: string): string {
  return hmacBase64(secret, joinSigned(signedFields(body)));
}

/**
 * Verifies a received webhook and extracts what the worker needs. Returns null — never throws — when
 * the header is missing, the body is not JSON of a known shape, the signature does not match, or the
 * signed text could also stand for another body (see webhook-shape.ts).
 * @param rawBody the request body exactly as received (the worker must not re-serialise it).
 * @param signatureHeader the `MyFatoorah-Signature` header value.
 */
export function verifyMyFatoorahWebhook(
  rawBody: string,
  signatureHeader: string | undefined,
  secret: string,
): WebhookHint | null {
  if (!signatureHeader || !secret) return null;
  let body: unknown;
  let signed: SignedField[];
  try {
    body = JSON.parse(rawBody);
    signed = signedFields(body);
  } catch {
    return null;
  }
  if (!secretsEqual(signatureHeader.trim(), hmacBase64(secret, joinSigned(signed)))) return null;
  const values = signed.map(([, value]) => value);
  if (ambiguityInSignedBody(rawBody, body, values) !== null) return null;
  return isV2(body) ? hintV2(body) : hintV1(body);
}

function signedFields(body: unknown): SignedField[] {
  if (isV2(body)) return signedFieldsV2(body);
  if (isV1(body)) return signedFieldsV1(field(body, 'Data'));
  throw new Error('not a MyFatoorah webhook body (neither Event.Code nor EventType)');
}

function isV2(body: unknown): boolean {
  const event = field(body, 'Event');
  return isRecord(event) && event['Code'] !== undefined && event['Code'] !== null;
}

function isV1(body: unknown): boolean {
  return isRecord(body) && body['EventType'] !== undefined && body['EventType'] !== null;
}

function hintV2(body: unknown): WebhookHint {
  const data = field(body, 'Data');
  return makeHint('v2', {
    invoiceId: text(fieldAtPath(data, 'Invoice.Id')),
    paymentId: text(fieldAtPath(data, 'Transaction.PaymentId')),
    reference: text(fieldAtPath(data, 'Invoice.ExternalIdentifier')),
    invoiceStatus: text(fieldAtPath(data, 'Invoice.Status')),
    transactionStatus: text(fieldAtPath(data, 'Transaction.Status')),
  });
}

function hintV1(body: unknown): WebhookHint {
  const data = field(body, 'Data');
  return makeHint('v1', {
    invoiceId: text(field(data, 'InvoiceId')),
    paymentId: text(field(data, 'PaymentId')),
    reference: text(field(data, 'CustomerReference')),
    invoiceStatus: null,
    transactionStatus: text(field(data, 'TransactionStatus')),
  });
}

function makeHint(version: 'v1' | 'v2', parts: Omit<WebhookHint, 'version' | 'dedupeKey'>): WebhookHint {
  const dedupeKey = `${parts.invoiceId}|${parts.paymentId}|${parts.invoiceStatus}|${parts.transactionStatus}`;
  return { version, ...parts, dedupeKey };
}

function hmacBase64(secret: string, signed: string): string {
  return createHmac('sha256', secret).update(signed, 'utf8').digest('base64');
}

function compareCaseInsensitive(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
}

/** How a value appears in the signed text: null/undefined → '', objects as JSON, the rest via String(). */
function signedValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** A hint field: the signed text cannot tell `""` from null, so neither does the hint. */
function text(value: unknown): string | null {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function field(value: unknown, key: string): unknown {
  return isRecord(value) ? value[key] : undefined;
}

function fieldAtPath(value: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((current, key) => field(current, key), value);
}
