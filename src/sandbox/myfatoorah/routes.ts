import type { HttpBindings } from '@hono/node-server';
import type { Context, Hono } from 'hono';
import { errorCode, errorMessage } from '../../errors.js';
import type { SandboxCore } from './core.js';
import { faultRequestSchema, type Fault } from '../faults.js';
import { indexPage, invoicePage, messagePage, resultPage } from './pay-page.js';
import { snapshot, type PaymentOptions, type PaymentOutcome } from './state.js';

/**
 * Customer-facing pages (`/pay/:id`…) and the control endpoints (`/_sandbox/…`) for people running
 * the sandbox standalone. The sandbox is a local dev/test tool: the control endpoints have NO auth on
 * purpose — never expose it to a network you do not trust.
 */

type Env = { Bindings: HttpBindings };
type Ctx = Context<Env>;

export function registerPageRoutes(app: Hono<Env>, core: SandboxCore): void {
  app.get('/', (c) => c.html(indexPage(core.store.all(), core.options.accountTimeZone)));

  app.get('/pay/:invoiceId', (c) => {
    const invoice = core.store.get(c.req.param('invoiceId'));
    if (!invoice) return c.html(messagePage('Not found', 'There is no such invoice.'), 404);
    const now = core.clock.now();
    return c.html(
      invoicePage(invoice, { timeZone: core.options.accountTimeZone, expired: core.store.isExpired(invoice, now) }),
    );
  });

  app.post('/pay/:invoiceId/pay', (c) => browserAttempt(c, () => core.pay(c.req.param('invoiceId'))));
  app.post('/pay/:invoiceId/fail', (c) => browserAttempt(c, () => core.fail(c.req.param('invoiceId'))));

  app.get('/pay/:invoiceId/result', (c) => {
    const invoice = core.store.get(c.req.param('invoiceId'));
    if (!invoice) return c.html(messagePage('Not found', 'There is no such invoice.'), 404);
    return c.html(resultPage(invoice, c.req.query('paymentId') ?? ''));
  });
}

/** Runs a Pay/Fail click: 302 to where MyFatoorah would send the browser, or an explanatory page. */
function browserAttempt(c: Ctx, attempt: () => PaymentOutcome): Response {
  try {
    return c.redirect(attempt().redirectUrl, 302);
  } catch (err) {
    const notFound = errorCode(err) === 'NOT_FOUND';
    return c.html(
      messagePage(notFound ? 'Not found' : 'Payment not possible', errorMessage(err)),
      notFound ? 404 : 409,
    );
  }
}

export function registerControlRoutes(app: Hono<Env>, core: SandboxCore): void {
  app.post('/_sandbox/faults', async (c) => {
    const parsed = faultRequestSchema.safeParse(await c.req.json().catch(() => null));
    if (!parsed.success) return c.json({ error: parsed.error.issues }, 400);
    const { endpoint, fault, times } = parsed.data;
    core.faults.inject(endpoint, fault as Fault, times);
    return c.json({ ok: true, endpoint, pending: core.faults.pending(endpoint) });
  });

  app.delete('/_sandbox/faults', (c) => {
    core.faults.clear();
    return c.json({ ok: true });
  });

  app.get('/_sandbox/invoices', (c) => c.json(core.store.all().map(snapshot)));

  app.post('/_sandbox/invoices/:invoiceId/:action', async (c) => {
    const id = c.req.param('invoiceId');
    const action = c.req.param('action');
    const options = await paymentOptions(c);
    try {
      if (action === 'pay') return c.json(outcomeJson(core.pay(id, options)));
      if (action === 'fail') return c.json(outcomeJson(core.fail(id, options)));
      if (action === 'cancel') return c.json({ invoice: snapshot(core.store.cancel(id)) });
      return c.json({ error: `unknown action ${action} (pay, fail, cancel)` }, 404);
    } catch (err) {
      return c.json({ error: errorMessage(err) }, errorCode(err) === 'NOT_FOUND' ? 404 : 409);
    }
  });
}

/** Optional JSON body `{ "force": true }` on control pay/fail. */
async function paymentOptions(c: Ctx): Promise<PaymentOptions> {
  const body: unknown = await c.req.json().catch(() => null);
  const force = typeof body === 'object' && body !== null && (body as Record<string, unknown>)['force'] === true;
  return { force };
}

function outcomeJson(outcome: PaymentOutcome): Record<string, unknown> {
  return { paymentId: outcome.paymentId, redirectUrl: outcome.redirectUrl, invoice: snapshot(outcome.invoice) };
}
