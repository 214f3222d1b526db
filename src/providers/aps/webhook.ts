import type { WebhookRequest, WebhookResult } from '../types.js';
import { text } from './answer.js';
import { verifyApsSignature, type ApsShaType } from './signature.js';

/**
 * APS transaction feedback (the notification POSTed after a payment attempt on a link). The old
 * docs send form fields, the current docs and the SDK JSON: both are read. The body carries its own
 * `signature`, computed over every other field with the response phrase. There is no timestamp, so a
 * captured notification can be replayed: it is only a hint, deduplicated and confirmed with
 * CHECK_PAYMENT_LINK_STATUS before anything changes.
 */

/** The HTTP layer caps bodies at 64 KB; this holds for callers that do not. */
const MAX_BODY_CHARS = 65_536;
/** Real notifications carry a few dozen fields. */
const MAX_FIELDS = 200;

export interface WebhookKeys {
  responsePhrase: string;
  shaType: ApsShaType;
}

/** Verifies and reads one notification. Never throws. */
export function parseApsWebhook(req: WebhookRequest, keys: WebhookKeys): WebhookResult {
  const parsed = parseFields(req);
  if (typeof parsed === 'string') return { kind: 'bad-signature', reason: parsed };
  if (typeof parsed['signature'] !== 'string' || parsed['signature'].trim() === '') {
    return { kind: 'bad-signature', reason: 'the notification has no signature field' };
  }
  if (!verifyApsSignature(parsed, keys.responsePhrase, keys.shaType)) {
    return { kind: 'bad-signature', reason: 'the signature does not match the fields (response phrase)' };
  }
  return hintFrom(parsed);
}

/** The verified fields rentlink uses; everything else in the body is ignored. */
function hintFrom(fields: Record<string, unknown>): WebhookResult {
  const providerLinkId = text(fields['payment_link_id']);
  const reference = text(fields['merchant_reference']);
  if (!providerLinkId && !reference) {
    return { kind: 'ignored', reason: 'signed, but names neither payment_link_id nor merchant_reference' };
  }
  const summary = {
    command: text(fields['command']) ?? text(fields['service_command']),
    responseCode: text(fields['response_code']),
    responseMessage: text(fields['response_message']),
    status: text(fields['status']),
    fortId: text(fields['fort_id']),
    amount: text(fields['amount']),
    currency: text(fields['currency']),
    paymentOption: text(fields['payment_option']),
  };
  const dedupeKey = [providerLinkId, reference, summary.fortId, summary.responseCode, summary.status]
    .map((part) => part ?? '')
    .join('|');
  return { kind: 'hint', hint: { providerLinkId, reference, dedupeKey, summary } };
}

/** The body's fields, or why they cannot be read. */
function parseFields(req: WebhookRequest): Record<string, unknown> | string {
  const body = req.rawBody;
  if (typeof body !== 'string' || body.trim() === '') return 'empty body';
  if (body.length > MAX_BODY_CHARS) return `body longer than ${MAX_BODY_CHARS} characters`;
  const contentType = (req.headers['content-type'] ?? '').toLowerCase();
  const looksJson = contentType.includes('json') || (!contentType.includes('form') && body.trimStart().startsWith('{'));
  const fields = looksJson ? parseJsonFields(body) : parseFormFields(body);
  if (typeof fields === 'string') return fields;
  if (Object.keys(fields).length > MAX_FIELDS) return `more than ${MAX_FIELDS} fields`;
  return fields;
}

function parseJsonFields(body: string): Record<string, unknown> | string {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return 'body is not valid JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'JSON body is not an object';
  return value as Record<string, unknown>;
}

/** Form fields; a name given twice is refused (which value was signed would be ambiguous). */
function parseFormFields(body: string): Record<string, unknown> | string {
  const fields: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  let count = 0;
  for (const [name, value] of new URLSearchParams(body)) {
    if (++count > MAX_FIELDS) return `more than ${MAX_FIELDS} fields`;
    if (Object.hasOwn(fields, name)) return `field "${name.slice(0, 40)}" appears more than once`;
    fields[name] = value;
  }
  return count === 0 ? 'no form fields' : fields;
}
