import type { HttpBindings } from '@hono/node-server';
import type { Context, Hono } from 'hono';
import type { SandboxCore, SandboxRequest } from './core.js';
import type { Fault, FaultEndpoint } from '../faults.js';
import { paymentStatusData, sendPaymentData } from './models.js';
import { infrastructurePage } from './pay-page.js';
import type { SandboxInvoice } from './state.js';
import { validateSendPayment, type ValidationError } from './validation.js';

/**
 * The MyFatoorah API surface: `POST /v2/SendPayment` and `POST /v2/GetPaymentStatus`.
 * Order of checks per request: injected fault → Bearer auth → (GetPaymentStatus) rate limit → handler.
 * Faults come first because they stand for infrastructure in front of the API (load balancer, WAF).
 */

type Env = { Bindings: HttpBindings };
type Ctx = Context<Env>;

const FAULT_ENDPOINTS: readonly FaultEndpoint[] = ['SendPayment', 'GetPaymentStatus'];
const KEY_TYPES = ['InvoiceId', 'PaymentId', 'CustomerReference'] as const;
const DEFAULT_TIMEOUT_FAULT_MS = 30_000;

/** MyFatoorah's failure envelope. */
function failureEnvelope(message: string, errors: ValidationError[] | null): Record<string, unknown> {
  return { IsSuccess: false, Message: message, ValidationErrors: errors, Data: null };
}

/**
 * Tells @hono/node-server that the handler dealt with the socket itself (destroyed or left it for
 * close()), so it writes nothing. A fresh object each time: the library's shared constant is mutable.
 */
function alreadySent(): Response {
  return new Response(null, { headers: { 'x-hono-already-sent': 'true' } });
}

export function registerApiRoutes(app: Hono<Env>, core: SandboxCore): void {
  app.post('/v2/:endpoint', async (c) => {
    const endpoint = c.req.param('endpoint');
    const raw = await c.req.text();
    // A slow provider: the answer (fault or not) leaves after the latency; close() ends the wait.
    if (core.options.latencyMs > 0 && (await core.hold(core.options.latencyMs, c.env.outgoing)) !== 'elapsed')
      return alreadySent();
    const record: SandboxRequest = { endpoint, body: parseJsonOr(raw), status: 0, at: core.clock.now() };
    core.requests.push(record);
    const fault = isFaultEndpoint(endpoint) ? core.faults.take(endpoint) : undefined;
    if (fault) record.fault = fault.kind;
    const response =
      fault && fault.kind !== 'lost'
        ? await faultResponse(c, core, fault)
        : await normalResponse(c, core, endpoint, record);
    if (fault?.kind === 'lost') {
      // "Created but the response is lost": the work is done, the answer never leaves.
      c.env.incoming.socket.destroy();
      return alreadySent();
    }
    if (!response.headers.has('x-hono-already-sent')) record.status = response.status;
    return response;
  });
}

function isFaultEndpoint(endpoint: string): endpoint is FaultEndpoint {
  return (FAULT_ENDPOINTS as readonly string[]).includes(endpoint);
}

function parseJsonOr(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function isAuthorized(c: Ctx, token: string): boolean {
  const header = c.req.header('authorization') ?? '';
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  return match?.[1] === token;
}

async function normalResponse(c: Ctx, core: SandboxCore, endpoint: string, record: SandboxRequest): Promise<Response> {
  // A bad or missing token gets an EMPTY 401, like the real API.
  if (!isAuthorized(c, core.options.token)) return c.body(null, 401);
  if (endpoint === 'SendPayment') return sendPayment(c, core, record.body);
  if (endpoint === 'GetPaymentStatus') {
    if (!core.admitStatusRequest()) {
      record.fault = 'throttled';
      c.header('Retry-After', '1');
      return c.json(failureEnvelope('Too many requests', null), 429);
    }
    return getPaymentStatus(c, core, record.body);
  }
  return c.json(failureEnvelope(`The sandbox does not implement ${endpoint}`, null), 404);
}

function sendPayment(c: Ctx, core: SandboxCore, body: unknown): Response {
  if (typeof body === 'string') {
    return c.json(
      failureEnvelope('Invalid data', [{ Name: 'request', Error: 'The request body is not valid JSON.' }]),
      400,
    );
  }
  const result = validateSendPayment(body, {
    currency: core.options.currency,
    accountTimeZone: core.options.accountTimeZone,
    now: core.clock.now(),
  });
  if (!result.ok) return c.json(failureEnvelope('Invalid data', result.errors), 400);
  const invoice = core.store.create(result.value, body, core.clock.now());
  core.logger?.info({ invoiceId: invoice.id, reference: invoice.reference }, 'sandbox invoice created');
  return c.json({
    IsSuccess: true,
    Message: 'Invoice Created Successfully!',
    ValidationErrors: null,
    Data: sendPaymentData(invoice, core.invoiceUrl(invoice.id)),
  });
}

function getPaymentStatus(c: Ctx, core: SandboxCore, body: unknown): Response {
  const record = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const key = record['Key'];
  const keyTypeRaw = typeof record['KeyType'] === 'string' ? record['KeyType'].toLowerCase() : '';
  const keyType = KEY_TYPES.find((candidate) => candidate.toLowerCase() === keyTypeRaw);
  const errors: ValidationError[] = [];
  if ((typeof key !== 'string' && typeof key !== 'number') || String(key).trim() === '') {
    errors.push({ Name: 'Key', Error: 'The Key field is required.' });
  }
  if (!keyType)
    errors.push({ Name: 'KeyType', Error: 'KeyType must be one of InvoiceId, PaymentId, CustomerReference.' });
  if (errors.length > 0 || !keyType) return c.json(failureEnvelope('Invalid data', errors), 400);
  const invoice = findInvoice(core, String(key).trim(), keyType);
  if (!invoice) {
    return c.json(failureEnvelope('No data match!', [{ Name: 'Key', Error: 'No data match the provided key' }]), 400);
  }
  return c.json({ IsSuccess: true, Message: '', ValidationErrors: null, Data: paymentStatusData(invoice, core.model) });
}

function findInvoice(core: SandboxCore, key: string, keyType: (typeof KEY_TYPES)[number]): SandboxInvoice | undefined {
  switch (keyType) {
    case 'InvoiceId':
      return core.store.get(key);
    case 'PaymentId':
      return core.store.byPaymentId(key);
    case 'CustomerReference':
      // Not unique: the most recent invoice with this reference wins.
      return core.store.byReference(key).at(-1);
  }
}

async function faultResponse(c: Ctx, core: SandboxCore, fault: Exclude<Fault, { kind: 'lost' }>): Promise<Response> {
  switch (fault.kind) {
    case 'http': {
      const body =
        fault.body ??
        infrastructurePage(
          fault.status,
          fault.status === 500
            ? 'Internal Server Error'
            : fault.status === 502
              ? 'Bad Gateway'
              : 'Service Temporarily Unavailable',
        );
      return c.body(body, fault.status, { 'content-type': fault.contentType ?? 'text/html; charset=utf-8' });
    }
    case 'rate-limit':
      if (fault.retryAfter !== undefined) c.header('Retry-After', fault.retryAfter);
      return c.json(failureEnvelope('Too many requests', null), 429);
    case 'timeout': {
      const end = await core.hold(fault.ms ?? DEFAULT_TIMEOUT_FAULT_MS, c.env.outgoing);
      // After the hold a gateway would give up with a 504; if the client left or we are closing, nothing is written.
      return end === 'elapsed' ? c.html(infrastructurePage(504, 'Gateway Time-out'), 504) : alreadySent();
    }
    case 'reject':
      return c.json(failureEnvelope(fault.message, fault.errors ?? null), 400);
    case 'empty-401':
      return c.body(null, 401);
    case 'html-403':
      return c.html(infrastructurePage(403, 'Forbidden'), 403);
  }
}
