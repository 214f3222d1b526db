import type { Context, Hono } from 'hono';
import { errorCode, errorMessage } from '../../errors.js';
import { toProviderDecimal } from '../../money.js';
import { secretsEqual } from '../../secrets.js';
import { dropConnection, type SandboxEnv } from '../host.js';
import type { SandboxCheckout } from './checkouts.js';
import type { PaymenntFakeCore, PaymenntFakeRequest } from './core.js';
import { DEFAULT_TIMEOUT_FAULT_MS, type PaymenntFault, type PaymenntFaultEndpoint } from './faults.js';
import { gatewayPage } from './pay-page.js';
import { validateCreateLink } from './validation.js';

/**
 * paymennt's Merchant API v2.0 as far as payment links go, under `/mer/v2.0`. Order of checks per
 * request: injected fault → API key and secret → (GET) rate limit → handler. Every answer is the
 * `{success, elapsed, error?, result?}` envelope; refusals are HTTP 400 with `success:false`.
 */

type Ctx = Context<SandboxEnv>;
type Handler = (c: Ctx, core: PaymenntFakeCore, reply: Reply, body: unknown) => Response;

const PREFIX = '/mer/v2.0';
const DEFAULT_PAGE_SIZE = 20;

/** Mounts `POST /checkout/link`, `GET /checkout`, `GET /checkout/:id`, `POST /checkout/:id/cancel`. */
export function registerApiRoutes(app: Hono<SandboxEnv>, core: PaymenntFakeCore): void {
  app.post(`${PREFIX}/checkout/link`, (c) => serve(c, core, 'create', createLink));
  app.get(`${PREFIX}/checkout`, (c) => serve(c, core, 'search', searchCheckouts));
  app.get(`${PREFIX}/checkout/:id`, (c) => serve(c, core, 'get', getCheckout));
  app.post(`${PREFIX}/checkout/:id/cancel`, (c) => serve(c, core, 'cancel', cancelCheckout));
}

/** The checkout as paymennt's CheckoutResponse shows it (amounts as decimals of its currency). */
function checkoutJson(core: PaymenntFakeCore, checkout: SandboxCheckout): Record<string, unknown> {
  const { currency, customer } = checkout;
  return {
    id: checkout.id,
    displayId: checkout.displayId,
    checkoutKey: checkout.checkoutKey,
    requestId: checkout.requestId,
    orderId: checkout.orderId,
    currency,
    amount: toProviderDecimal(checkout.amountMinor, currency),
    cashAmount: 0,
    status: core.book.statusOf(checkout, core.now()),
    totalRefunded: toProviderDecimal(checkout.refundedMinor, currency),
    redirectUrl: core.payPageUrl(checkout),
    ...(checkout.paidAt !== null ? { usedPaymentMethod: 'CARD' } : {}),
    ...(customer
      ? {
          customer: {
            firstName: customer.firstName,
            lastName: customer.lastName,
            email: customer.email,
            ...(customer.phone ? { phone: customer.phone } : {}),
          },
        }
      : {}),
    timestamp: new Date(checkout.createdAt).toISOString(),
  };
}

interface Reply {
  ok(result: unknown): Response;
  error(message: string, status?: 400 | 401 | 429): Response;
}

function replier(c: Ctx, started: number): Reply {
  const elapsed = () => Math.max(0, Math.round(performance.now() - started));
  return {
    ok: (result) => c.json({ success: true, elapsed: elapsed(), result }),
    error: (message, status = 400) => c.json({ success: false, elapsed: elapsed(), error: message }, status),
  };
}

async function serve(c: Ctx, core: PaymenntFakeCore, endpoint: PaymenntFaultEndpoint, handler: Handler) {
  const started = performance.now();
  const raw = await c.req.text();
  const record: PaymenntFakeRequest = {
    endpoint,
    method: c.req.method,
    path: c.req.path,
    query: c.req.query(),
    body: parseJsonOr(raw),
    status: 0,
    at: core.now(),
  };
  core.requests.push(record);
  const reply = replier(c, started);
  const fault = core.faults.take(endpoint);
  if (fault) record.fault = fault.kind;
  if (fault && fault.kind !== 'lost') return recorded(record, await faultResponse(c, core, reply, fault));
  const response = normalResponse(c, core, reply, record, handler);
  // "Done, but the answer never left": the work above happened, the client sees a reset.
  if (fault?.kind === 'lost') return dropConnection(c);
  return recorded(record, response);
}

function normalResponse(c: Ctx, core: PaymenntFakeCore, reply: Reply, record: PaymenntFakeRequest, handler: Handler) {
  if (!isAuthorized(c, core)) {
    record.fault = 'unauthorized';
    return reply.error('Invalid API key or secret', 401);
  }
  if ((record.endpoint === 'get' || record.endpoint === 'search') && !core.admitStatusRequest()) {
    record.fault = 'throttled';
    c.header('Retry-After', '1');
    return reply.error('Too many requests', 429);
  }
  return handler(c, core, reply, record.body);
}

function recorded(record: PaymenntFakeRequest, response: Response): Response {
  if (!response.headers.has('x-hono-already-sent')) record.status = response.status;
  return response;
}

function isAuthorized(c: Ctx, core: PaymenntFakeCore): boolean {
  const key = c.req.header('x-paymennt-api-key') ?? '';
  const secret = c.req.header('x-paymennt-api-secret') ?? '';
  // Both comparisons always run: which one failed is not observable.
  const keyOk = secretsEqual(key, core.options.apiKey);
  const secretOk = secretsEqual(secret, core.options.apiSecret);
  return keyOk && secretOk;
}

function createLink(c: Ctx, core: PaymenntFakeCore, reply: Reply, body: unknown): Response {
  const validation = validateCreateLink(body);
  if (!validation.ok) return reply.error(validation.error);
  try {
    const checkout = core.book.create(validation.value, body, core.now());
    core.ctx.logger?.info({ checkoutId: checkout.id, requestId: checkout.requestId }, 'sandbox paymennt checkout');
    return reply.ok(checkoutJson(core, checkout));
  } catch (err) {
    return reply.error(errorMessage(err));
  }
}

function getCheckout(c: Ctx, core: PaymenntFakeCore, reply: Reply): Response {
  const checkout = core.book.get(c.req.param('id') ?? '');
  return checkout ? reply.ok(checkoutJson(core, checkout)) : reply.error('Checkout not found for API merchant');
}

function searchCheckouts(c: Ctx, core: PaymenntFakeCore, reply: Reply): Response {
  const query = c.req.query();
  const page = readPaging(query['page'], 0, 0);
  const size = readPaging(query['size'], DEFAULT_PAGE_SIZE, 1);
  if (page === null) return reply.error('page parameter must be a non-negative integer');
  if (size === null) return reply.error('page size parameter must be a positive integer');
  const statuses = (query['status'] ?? '')
    .split(',')
    .map((word) => word.trim().toUpperCase().replace(/\s+/g, '_'))
    .filter(Boolean);
  const found = core.book.search(
    {
      ...(query['requestId'] ? { requestId: query['requestId'] } : {}),
      ...(query['orderId'] ? { orderId: query['orderId'] } : {}),
      statuses,
    },
    core.now(),
  );
  return reply.ok({
    page,
    size,
    totalPages: Math.ceil(found.length / size),
    totalElements: found.length,
    content: found.slice(page * size, (page + 1) * size).map((checkout) => checkoutJson(core, checkout)),
  });
}

function cancelCheckout(c: Ctx, core: PaymenntFakeCore, reply: Reply): Response {
  try {
    return reply.ok(checkoutJson(core, core.cancel(c.req.param('id') ?? '')));
  } catch (err) {
    const known = errorCode(err) === 'NOT_FOUND' || errorCode(err) === 'INVALID_STATE';
    return reply.error(known ? errorMessage(err) : 'Checkout cannot be cancelled');
  }
}

function readPaging(value: string | undefined, fallback: number, min: number): number | null {
  if (value === undefined || value === '') return fallback;
  const number = Number(value);
  return Number.isInteger(number) && number >= min ? number : null;
}

async function faultResponse(
  c: Ctx,
  core: PaymenntFakeCore,
  reply: Reply,
  fault: Exclude<PaymenntFault, { kind: 'lost' }>,
) {
  switch (fault.kind) {
    case 'http':
      return c.body(fault.body ?? gatewayPage(fault.status), fault.status, {
        'content-type': fault.contentType ?? 'text/html; charset=utf-8',
      });
    case 'rate-limit':
      if (fault.retryAfter !== undefined) c.header('Retry-After', fault.retryAfter);
      return reply.error('Too many requests', 429);
    case 'reject':
      return reply.error(fault.error);
    case 'timeout': {
      const end = await core.hold(fault.ms ?? DEFAULT_TIMEOUT_FAULT_MS, c.env.outgoing);
      // After a full hold a gateway gives up with a 504; when the client left or the fake closes, nothing is written.
      return end === 'elapsed'
        ? c.html(gatewayPage(504), 504)
        : new Response(null, { headers: { 'x-hono-already-sent': 'true' } });
    }
  }
}

function parseJsonOr(raw: string): unknown {
  if (raw.trim() === '') return null;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}
