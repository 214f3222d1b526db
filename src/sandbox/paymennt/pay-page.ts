import type { Context, Hono } from 'hono';
import { errorCode, errorMessage } from '../../errors.js';
import { toDecimalString } from '../../money.js';
import type { SandboxEnv } from '../host.js';
import type { CheckoutStatus, SandboxCheckout } from './checkouts.js';
import type { PaymenntFakeCore } from './core.js';

/**
 * The tenant-facing side of the paymennt fake: the checkout page behind `redirectUrl`
 * (`/paymennt/pay/:checkoutKey`) with Pay / Fail buttons, and the result page the browser is sent
 * to afterwards (payment links carry no return URL at paymennt). Plain server-rendered HTML.
 */

type Ctx = Context<SandboxEnv>;

const PAGE = '/paymennt/pay/:checkoutKey';

const CLOSED_NOTICE: Partial<Record<CheckoutStatus, string>> = {
  PAID: 'This checkout has been paid. Thank you!',
  FAILED: 'The payment failed. Ask for a new payment link.',
  CANCELLED: 'This checkout has been cancelled.',
  EXPIRED: 'This payment link has expired.',
  REFUNDED: 'This checkout was paid and refunded.',
  PARTIALLY_REFUNDED: 'This checkout was paid and partly refunded.',
};

/** Mounts the checkout page, its Pay / Fail actions and the result page. */
export function registerPayPageRoutes(app: Hono<SandboxEnv>, core: PaymenntFakeCore): void {
  app.get(PAGE, (c) => {
    const checkout = core.book.byKey(c.req.param('checkoutKey'));
    if (!checkout) return c.html(messagePage('Not found', 'There is no such checkout.'), 404);
    return c.html(checkoutPage(checkout, core.book.statusOf(checkout, core.now())));
  });
  app.post(`${PAGE}/pay`, (c) => browserAttempt(c, core, (id) => core.pay(id)));
  app.post(`${PAGE}/fail`, (c) => browserAttempt(c, core, (id) => core.fail(id)));
  app.get(`${PAGE}/result`, (c) => {
    const checkout = core.book.byKey(c.req.param('checkoutKey'));
    if (!checkout) return c.html(messagePage('Not found', 'There is no such checkout.'), 404);
    return c.html(resultPage(checkout, core.book.statusOf(checkout, core.now())));
  });
}

/** Runs a Pay/Fail click: 303 to the result page, or a page saying why it is not possible. */
function browserAttempt(c: Ctx, core: PaymenntFakeCore, attempt: (id: string) => SandboxCheckout): Response {
  const key = c.req.param('checkoutKey') ?? '';
  const checkout = core.book.byKey(key);
  if (!checkout) return c.html(messagePage('Not found', 'There is no such checkout.'), 404);
  try {
    attempt(checkout.id);
    return c.redirect(`/paymennt/pay/${key}/result`, 303);
  } catch (err) {
    const notFound = errorCode(err) === 'NOT_FOUND';
    return c.html(
      messagePage(notFound ? 'Not found' : 'Payment not possible', errorMessage(err)),
      notFound ? 404 : 409,
    );
  }
}

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
  body { font-family: system-ui, -apple-system, "Segoe UI", Tahoma, sans-serif; background: #eef1f6; color: #18202b; margin: 0; }
  main { max-width: 28rem; margin: 3rem auto; background: #fff; border-radius: 12px; padding: 2rem; box-shadow: 0 2px 12px rgba(0,0,0,.08); }
  h1 { font-size: 1.3rem; margin-top: 0; }
  dl { display: grid; grid-template-columns: auto 1fr; gap: .5rem 1rem; }
  dt { color: #5b6b7c; } dd { margin: 0; font-weight: 600; }
  .amount { font-size: 1.6rem; }
  .note { padding: .75rem 1rem; border-radius: 8px; background: #eef3f8; }
  .buttons { display: flex; gap: .75rem; margin-top: 1.5rem; }
  .buttons form { flex: 1; }
  button { width: 100%; font-size: 1rem; padding: .75rem; border: 0; border-radius: 8px; cursor: pointer; }
  .pay { background: #4b2bd6; color: #fff; } .fail { background: #e8ecf0; color: #8a1c1c; }
  footer { margin-top: 2rem; font-size: .8rem; color: #7a8794; }
</style>
</head>
<body><main>
${body}
<footer>paymennt sandbox — no real money moves.</footer>
</main></body>
</html>`;
}

function amountText(checkout: SandboxCheckout): string {
  return `${toDecimalString(checkout.amountMinor, checkout.currency)} ${checkout.currency}`;
}

function details(checkout: SandboxCheckout, status: CheckoutStatus): string {
  const customer = checkout.customer ? `${checkout.customer.firstName} ${checkout.customer.lastName}` : '—';
  return `<dl>
  <dt>Order</dt><dd>${escapeHtml(checkout.orderId)}</dd>
  <dt>Description</dt><dd>${escapeHtml(checkout.description)}</dd>
  <dt>Customer</dt><dd>${escapeHtml(customer)}</dd>
  <dt>Amount</dt><dd class="amount" dir="ltr">${escapeHtml(amountText(checkout))}</dd>
  <dt>Expires</dt><dd dir="ltr">${escapeHtml(new Date(checkout.expiresAt).toISOString())}</dd>
  <dt>Status</dt><dd data-status="${status}">${escapeHtml(status)}</dd>
</dl>`;
}

/** The page behind redirectUrl. Pay/Fail buttons only while the checkout can be paid. */
function checkoutPage(checkout: SandboxCheckout, status: CheckoutStatus): string {
  const notice = CLOSED_NOTICE[status];
  const action = `/paymennt/pay/${checkout.checkoutKey}`;
  const buttons = notice
    ? `<p class="note" data-state="closed">${escapeHtml(notice)}</p>`
    : `<div class="buttons">
  <form method="post" action="${action}/pay"><button class="pay" type="submit">Pay</button></form>
  <form method="post" action="${action}/fail"><button class="fail" type="submit">Fail (simulate a failed payment)</button></form>
</div>`;
  const body = `<h1>Checkout ${escapeHtml(checkout.displayId)}</h1>\n${details(checkout, status)}\n${buttons}`;
  return layout(`Checkout ${checkout.displayId}`, body);
}

/** Where the browser lands after Pay or Fail. */
export function resultPage(checkout: SandboxCheckout, status: CheckoutStatus): string {
  const message = CLOSED_NOTICE[status] ?? 'Awaiting payment.';
  const body = `<h1>${escapeHtml(message)}</h1>\n${details(checkout, status)}
<p><a href="/paymennt/pay/${checkout.checkoutKey}">Back to the checkout</a></p>`;
  return layout(message, body);
}

/** A short page for refusals and unknown checkouts. */
export function messagePage(title: string, message: string): string {
  return layout(title, `<h1>${escapeHtml(title)}</h1><p class="note">${escapeHtml(message)}</p>`);
}

const REASONS: Record<number, string> = {
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Temporarily Unavailable',
  504: 'Gateway Time-out',
};

/** A load balancer's error page: deliberately not paymennt's JSON envelope. */
export function gatewayPage(status: number): string {
  const reason = REASONS[status] ?? 'Error';
  return `<html><head><title>${status} ${reason}</title></head><body><center><h1>${status} ${reason}</h1></center><hr><center>sandbox-gateway</center></body></html>`;
}
