import type { Context, Hono } from 'hono';
import { verifyApsSignature } from '../../providers/aps/signature.js';
import { dropConnection, type SandboxEnv } from '../host.js';
import { createdAnswer, refusal, statusAnswer, type Answer } from './answers.js';
import type { ApsSandboxCore, ApsSandboxRequest } from './core.js';
import { APS_COMMANDS, infrastructurePage, performsWork, type ApsCommand, type ApsFault } from './faults.js';
import { validatePaymentLink, validateStatusQuery } from './validation.js';

/**
 * `POST /FortAPI/paymentApi`, dispatched on service_command / query_command. Order per request:
 * injected fault (infrastructure in front of the API) → JSON → status rate limit → credentials →
 * request signature (`00008` on mismatch) → the command. Every APS answer is signed with the
 * response phrase, refusals included, and answered with HTTP 200 as APS does.
 */

type Ctx = Context<SandboxEnv>;

const DEFAULT_TIMEOUT_FAULT_MS = 30_000;
const OK = 200;

export function registerApi(app: Hono<SandboxEnv>, core: ApsSandboxCore): void {
  app.post('/FortAPI/paymentApi', async (c) => {
    const raw = await c.req.text();
    const body = parseObject(raw);
    const command = commandOf(body);
    const record: ApsSandboxRequest = { command, body: body ?? raw, status: 0, at: core.now() };
    core.requests.push(record);
    const fault = isApsCommand(command) ? core.faults.take(command) : undefined;
    if (fault) record.fault = fault.kind;
    if (!performsWork(fault)) return faultResponse(c, core, fault as ApsFault, record);
    const answer = answerFor(c, core, body, command, record);
    if (answer instanceof Response) return answer;
    record.responseCode = String(answer['response_code'] ?? '');
    if (fault?.kind === 'lost') return dropConnection(c); // done, but the answer never leaves
    record.status = OK;
    return c.json(core.sign(answer, fault), OK);
  });
}

/** The APS answer to a request that reached the API, or a 429 Response when throttled. */
function answerFor(
  c: Ctx,
  core: ApsSandboxCore,
  body: Record<string, unknown> | null,
  command: string,
  record: ApsSandboxRequest,
): Answer | Response {
  if (!body) return refusal({}, '00002', 'Invalid request format: the body is not a JSON object');
  if (command === 'CHECK_PAYMENT_LINK_STATUS' && !core.admitStatusQuery()) {
    record.fault = 'throttled';
    record.status = 429;
    c.header('Retry-After', '1');
    return c.json({ message: 'Too many requests' }, 429);
  }
  if (body['access_code'] !== core.options.accessCode) return refusal(body, '00002', 'Invalid access_code');
  if (body['merchant_identifier'] !== core.options.merchantIdentifier) {
    return refusal(body, '00002', 'Invalid merchant_identifier');
  }
  if (!verifyApsSignature(body, core.options.requestPhrase, core.shaType)) {
    return refusal(body, '00008', 'Signature mismatch');
  }
  if (command === 'PAYMENT_LINK' && body['service_command'] !== undefined) return createLink(core, body);
  if (command === 'CHECK_PAYMENT_LINK_STATUS' && body['query_command'] !== undefined) return checkStatus(core, body);
  return refusal(body, '00002', `Invalid parameter format: unknown command ${command || '(none)'}`);
}

function createLink(core: ApsSandboxCore, body: Record<string, unknown>): Answer {
  const checked = validatePaymentLink(body, core.now());
  if (!checked.ok) return refusal(body, checked.responseCode, checked.message);
  if (core.store.byReference(checked.value.reference).length > 0) {
    const code = core.options.duplicateReferenceCode ?? '066';
    return refusal(body, `00${code}`, 'Merchant reference already exists');
  }
  const link = core.store.create(checked.value, body, core.now());
  core.ctx.logger?.info({ linkId: link.linkId, reference: link.reference }, 'APS sandbox payment link created');
  return createdAnswer(body, link, core.payPageUrl(link.linkId));
}

function checkStatus(core: ApsSandboxCore, body: Record<string, unknown>): Answer {
  const checked = validateStatusQuery(body);
  if (!checked.ok) return refusal(body, checked.responseCode, checked.message);
  const lookup = checked.value;
  const link = lookup.by === 'id' ? core.store.get(lookup.linkId) : core.store.byReference(lookup.reference).at(-1);
  if (!link) return refusal(body, '11036', 'Order not found');
  return statusAnswer(body, link, core.now(), core.payPageUrl(link.linkId));
}

async function faultResponse(c: Ctx, core: ApsSandboxCore, fault: ApsFault, record: ApsSandboxRequest) {
  switch (fault.kind) {
    case 'http':
      record.status = fault.status;
      return c.body(fault.body ?? infrastructurePage(fault.status), fault.status, {
        'content-type': fault.contentType ?? 'text/html; charset=utf-8',
      });
    case 'rate-limit':
      record.status = 429;
      if (fault.retryAfter !== undefined) c.header('Retry-After', fault.retryAfter);
      return c.json({ message: 'Too many requests' }, 429);
    case 'timeout': {
      const end = await core.hold(fault.ms ?? DEFAULT_TIMEOUT_FAULT_MS, c.env.outgoing);
      if (end !== 'elapsed') return new Response(null, { headers: { 'x-hono-already-sent': 'true' } });
      record.status = 504;
      return c.html(infrastructurePage(504), 504);
    }
    case 'reject': {
      const body = record.body && typeof record.body === 'object' ? (record.body as Record<string, unknown>) : {};
      const code = fault.responseCode ?? (record.command === 'PAYMENT_LINK' ? '49000' : '11000');
      record.status = OK;
      record.responseCode = code;
      return c.json(core.sign(refusal(body, code, fault.message)), OK);
    }
    default:
      throw new Error(`APS sandbox: fault ${fault.kind} performs the request and is not answered here`);
  }
}

function parseObject(raw: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

function commandOf(body: Record<string, unknown> | null): string {
  const command = body?.['service_command'] ?? body?.['query_command'];
  return typeof command === 'string' ? command : '';
}

function isApsCommand(command: string): command is ApsCommand {
  return (APS_COMMANDS as readonly string[]).includes(command);
}
