import { html } from 'hono/html';
import type { PaymentLink } from '../../../db/schema.js';
import type { showCharge } from '../../../operations/charges.js';
import { chargeActions, statusCell } from './actions.js';
import { decimalMoney, instant, periodLabel } from './format.js';
import { page, type Flash, type Html } from './layout.js';

/** What showCharge returns for an existing charge. */
export type ChargeHistory = NonNullable<ReturnType<typeof showCharge>>;

/** Everything the charge history page shows. */
export interface ChargeModel {
  history: ChargeHistory;
  failedJobId: string | null;
  csrf: string | null;
  flash: Flash | null;
}

/** Event details arrive as an object or as its JSON text; either way show compact JSON. */
function detailsText(details: unknown): string {
  if (details === null || details === undefined) return '';
  if (typeof details === 'string') {
    try {
      return detailsText(JSON.parse(details) as unknown);
    } catch {
      return details;
    }
  }
  const text = JSON.stringify(details);
  return text === '{}' ? '' : text.replace(/","/g, '", "').replace(/,"/g, ', "');
}

function linkRow(link: PaymentLink, timeZone: string): Html {
  return html`<tr><td class="num">${link.attempt}</td><td class="small">${link.reference}</td>
<td><span class="badge b-${link.status}">${link.status}</span></td><td>${link.channel}</td>
<td class="nowrap">${instant(link.expiresAt, timeZone)}</td><td class="nowrap">${instant(link.paidAt, timeZone)}</td>
<td class="num">${link.pollCount}</td>
<td class="small">${link.url ? html`<a href="${link.url}" rel="noreferrer noopener" target="_blank">open link</a>` : '—'}${link.lastError ? html`<div class="reason">${link.lastError}</div>` : ''}</td></tr>`;
}

function facts(m: ChargeModel): Html {
  const c = m.history.charge;
  return html`<dl class="facts">
<dt>Tenant</dt><dd dir="auto">${c.tenantName}</dd>
<dt>Lease · unit</dt><dd>${c.leaseRef} · <span dir="auto">${c.unit}</span></dd>
<dt>Period</dt><dd>${periodLabel(c.period)} (due ${c.dueDate})</dd>
<dt>Time zone</dt><dd>${c.timezone} (the lease's; every time on this page is in it)</dd>
<dt>Amount</dt><dd>${decimalMoney(c.amount, c.currency)}</dd>
<dt>Status</dt><dd>${statusCell(c)}</dd>
<dt>Reissues</dt><dd>${c.reissueCount}</dd>
<dt>Paid at</dt><dd>${instant(c.paidAt, c.timezone)}</dd>
</dl>`;
}

/** `GET /admin/charges/:id`: the charge, every link attempt, and its full event timeline. */
export function chargePage(m: ChargeModel): Html {
  const c = m.history.charge;
  const back = `/admin/charges/${c.id}`;
  const links = m.history.links.length
    ? html`<table><thead><tr><th class="num">#</th><th>Reference</th><th>Status</th><th>Channel</th><th>Expires</th><th>Paid</th><th class="num">Polls</th><th>Link</th></tr></thead>
<tbody>${m.history.links.map((l) => linkRow(l, c.timezone))}</tbody></table>`
    : html`<p class="empty">No link was created yet.</p>`;
  const events = m.history.events.length
    ? html`<table class="timeline"><thead><tr><th>When</th><th>Event</th><th>By</th><th>Link</th><th>Details</th></tr></thead><tbody>
${m.history.events.map(
  (
    e,
  ) => html`<tr><td class="nowrap">${instant(e.at, c.timezone)}</td><td class="nowrap">${e.type}</td><td>${e.actor}</td>
<td class="num">${e.linkId ?? ''}</td><td><pre class="details">${detailsText(e.details)}</pre></td></tr>`,
)}</tbody></table>`
    : html`<p class="empty">No events.</p>`;
  const body = html`<div class="titlebar"><div><p class="sub"><a href="/admin">← Collection</a></p>
<h1><span dir="auto">${c.tenantName}</span> · ${periodLabel(c.period)}</h1><p class="sub">Charge #${c.id}</p></div>
${chargeActions(c, { csrf: m.csrf, back, failedJobId: m.failedJobId })}</div>
<section>${facts(m)}</section>
<section><h2>Payment links</h2>${links}</section>
<section><h2>History</h2>${events}</section>`;
  return page({ title: `Charge ${c.id}`, body, flash: m.flash, session: { csrf: m.csrf } });
}
