import { html } from 'hono/html';
import type { ChargeRow } from '../../../operations/charges.js';
import { statusLabel } from './format.js';
import { csrfField, type Html } from './layout.js';

/** Statuses an operator can still act on (a paid or void charge never changes again). */
const ACTIONABLE = new Set(['scheduled', 'invoiced', 'expired', 'failed']);

/** The status pill, with the reason underneath when the charge failed or was voided. */
export function statusCell(charge: Pick<ChargeRow, 'status' | 'statusReason'>): Html {
  const reason =
    charge.statusReason && (charge.status === 'failed' || charge.status === 'void' || charge.status === 'expired')
      ? html`<div class="reason small">${charge.statusReason}</div>`
      : '';
  return html`<span class="badge b-${charge.status}">${statusLabel(charge.status)}</span>${reason}`;
}

/** How the action buttons of one charge are wired. */
export interface ActionOptions {
  csrf: string | null;
  /** Where the action redirects back to (an /admin path). */
  back: string;
  /** The failed send job for this charge, when there is one: Retry re-runs it instead of reissuing. */
  failedJobId: string | null;
}

/**
 * Retry (a failed send job: same link attempt, with the lease data as it is now), otherwise Reissue
 * (a new link), and Void behind a reason field. Nothing for paid or void charges.
 */
export function chargeActions(charge: Pick<ChargeRow, 'id' | 'status'>, options: ActionOptions): Html | string {
  if (!ACTIONABLE.has(charge.status)) return '';
  const hidden = html`${csrfField(options.csrf)}<input type="hidden" name="back" value="${options.back}">`;
  const primary = options.failedJobId
    ? html`<form method="post" action="/admin/jobs/retry">${hidden}<input type="hidden" name="jobId" value="${options.failedJobId}"><button class="btn primary" type="submit" data-action="retry">Retry</button></form>`
    : html`<form method="post" action="/admin/charges/${charge.id}/reissue">${hidden}<button class="btn" type="submit" data-action="reissue">Reissue</button></form>`;
  return html`<div class="actions">${primary}
<details class="void"><summary data-action="void">Void…</summary><form method="post" action="/admin/charges/${charge.id}/void">${hidden}<input type="text" name="reason" placeholder="Reason" required maxlength="500"><button class="btn danger" type="submit">Void</button></form></details></div>`;
}
