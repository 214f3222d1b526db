import type { Context, Hono } from 'hono';
import { errorCode, errorMessage } from '../../errors.js';
import { toDecimalString } from '../../money.js';
import type { SandboxEnv } from '../host.js';
import type { ApsSandboxCore } from './core.js';
import { linkStatusAt, type ApsPaymentOutcome, type ApsSandboxLink } from './state.js';

/**
 * The tenant's side of the fake: `GET /aps` (every link), `GET /aps/pay/:linkId` (the payment page,
 * with Pay / Fail buttons while the link is payable), `POST /aps/pay/:linkId/pay|fail` (302 to the
 * link's return_url with the signed result fields as query parameters, like APS' redirect; the fake's
 * own result page when there is none). Dev/test only: no auth, plain HTML, no assets.
 */

type Ctx = Context<SandboxEnv>;

export function registerPayPages(app: Hono<SandboxEnv>, core: ApsSandboxCore): void {
  app.get('/aps', (c) => c.html(indexPage(core)));
  app.get('/aps/pay/:linkId', (c) => {
    const link = core.store.get(c.req.param('linkId'));
    if (!link) return c.html(messagePage('Not found', 'There is no such payment link.'), 404);
    return c.html(linkPage(link, core.now()));
  });
  app.post('/aps/pay/:linkId/pay', (c) => attempt(c, core, () => core.pay(c.req.param('linkId'))));
  app.post('/aps/pay/:linkId/fail', (c) => attempt(c, core, () => core.fail(c.req.param('linkId'))));
  app.get('/aps/pay/:linkId/result', (c) => {
    const success = c.req.query('response_code') === '14000';
    return c.html(
      messagePage(success ? 'Payment received' : 'Payment declined', c.req.query('response_message') ?? ''),
    );
  });
}

/** Runs a Pay/Fail click: 302 to where APS would send the browser, or a page saying why not. */
function attempt(c: Ctx, core: ApsSandboxCore, run: () => ApsPaymentOutcome): Response {
  try {
    const outcome = run();
    const query = new URLSearchParams(core.signedFeedback(outcome)).toString();
    const target = outcome.link.returnUrl ?? `${core.payPageUrl(outcome.link.linkId)}/result`;
    return c.redirect(`${target}${target.includes('?') ? '&' : '?'}${query}`, 302);
  } catch (err) {
    const notFound = errorCode(err) === 'NOT_FOUND';
    return c.html(
      messagePage(notFound ? 'Not found' : 'Payment not possible', errorMessage(err)),
      notFound ? 404 : 409,
    );
  }
}

function linkPage(link: ApsSandboxLink, now: number): string {
  const status = linkStatusAt(link, now);
  const id = encodeURIComponent(link.linkId);
  const actions =
    status === 'Open'
      ? `<div class="buttons">
  <form method="post" action="/aps/pay/${id}/pay"><button class="pay" type="submit">Pay</button></form>
  <form method="post" action="/aps/pay/${id}/fail"><button class="fail" type="submit">Fail (simulate a decline)</button></form>
</div>`
      : `<p class="note" data-state="${escapeHtml(status.toLowerCase())}">This link is ${escapeHtml(status.toLowerCase())}.</p>`;
  return layout(
    `Payment link ${link.linkId}`,
    `<h1>${escapeHtml(link.orderDescription ?? 'Payment')}</h1>
<dl>
  <dt>Customer</dt><dd>${escapeHtml(link.customerName ?? link.customerEmail)}</dd>
  <dt>Amount</dt><dd class="amount">${escapeHtml(formatAmount(link))}</dd>
  <dt>Expires</dt><dd>${escapeHtml(link.requestExpiryDate)}</dd>
  <dt>Status</dt><dd data-status="${escapeHtml(status)}">${escapeHtml(status)}</dd>
  <dt>Reference</dt><dd>${escapeHtml(link.reference)}</dd>
</dl>
${actions}`,
  );
}

function indexPage(core: ApsSandboxCore): string {
  const now = core.now();
  const rows = core.store
    .all()
    .map(
      (link) =>
        `<tr><td><a href="/aps/pay/${encodeURIComponent(link.linkId)}">${escapeHtml(link.linkId)}</a></td>` +
        `<td>${escapeHtml(link.reference)}</td><td>${escapeHtml(formatAmount(link))}</td>` +
        `<td>${escapeHtml(linkStatusAt(link, now))}</td><td>${escapeHtml(link.requestExpiryDate)}</td></tr>`,
    )
    .join('\n');
  const table = rows
    ? `<table><thead><tr><th>Link</th><th>Reference</th><th>Amount</th><th>Status</th><th>Expires</th></tr></thead>
<tbody>
${rows}
</tbody></table>`
    : '<p class="note">No payment links yet. Create one with POST /FortAPI/paymentApi.</p>';
  return layout('APS sandbox', `<h1>APS sandbox</h1>\n${table}`);
}

function messagePage(title: string, message: string): string {
  return layout(title, `<h1>${escapeHtml(title)}</h1><p class="note">${escapeHtml(message)}</p>`);
}

function formatAmount(link: ApsSandboxLink): string {
  try {
    return `${toDecimalString(link.amountMinor, link.currency)} ${link.currency}`;
  } catch {
    return `${link.amountMinor} (minor units) ${link.currency}`;
  }
}

function escapeHtml(value: string): string {
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
  body { font-family: system-ui, sans-serif; background: #f4f1ec; color: #232f3e; margin: 0; }
  main { max-width: 30rem; margin: 3rem auto; background: #fff; border-radius: 10px; padding: 2rem; box-shadow: 0 2px 12px rgba(0,0,0,.08); }
  dl { display: grid; grid-template-columns: auto 1fr; gap: .5rem 1rem; } dt { color: #5b6b7c; } dd { margin: 0; font-weight: 600; }
  .amount { font-size: 1.5rem; } .note { padding: .75rem 1rem; border-radius: 8px; background: #eef3f8; }
  .buttons { display: flex; gap: .75rem; margin-top: 1.5rem; } .buttons form { flex: 1; }
  button { width: 100%; font-size: 1rem; padding: .75rem; border: 0; border-radius: 8px; cursor: pointer; }
  .pay { background: #ff9900; color: #232f3e; } .fail { background: #e8ecf0; color: #8a1c1c; }
  table { border-collapse: collapse; width: 100%; } td, th { padding: .4rem; border-bottom: 1px solid #e3e8ee; text-align: start; }
  footer { margin-top: 2rem; font-size: .8rem; color: #7a8794; }
</style>
</head>
<body><main>
${body}
<footer>Amazon Payment Services sandbox — no real money moves.</footer>
</main></body>
</html>`;
}
