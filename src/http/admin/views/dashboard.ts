import { html } from 'hono/html';
import type { AttentionCounts, ChargeRow } from '../../../operations/charges.js';
import type { Page } from '../../../operations/rows.js';
import { collectionChart, SERIES, type SeriesPoint } from '../chart.js';
import type { ReportRow } from '../../../operations/report.js';
import { chargeActions, statusCell } from './actions.js';
import { decimalMoney, instant, money, percent, periodLabel } from './format.js';
import { page, type Flash, type Html } from './layout.js';

/** Everything the collection page shows, gathered by the route. */
export interface DashboardModel {
  period: string;
  previous: string;
  next: string;
  now: number;
  /** The zone of the "As of" line (the account's); each charge's times are shown in its lease's zone. */
  timeZone: string;
  report: ReportRow[];
  /** One series per currency, already filled to the full period axis. */
  series: Array<{ currency: string; points: SeriesPoint[] }>;
  /** One page of what needs attention, with the counts by reason. */
  attention: Page<ChargeRow> & { counts: AttentionCounts };
  /** One page of the period's charges. */
  periodCharges: Page<ChargeRow>;
  /** chargeId → id of its failed send job. */
  failedSendJobs: Map<number, string>;
  csrf: string | null;
  flash: Flash | null;
}

function summaryCard(row: ReportRow): Html {
  const parts = [
    { minor: row.paidMinor, color: SERIES[0].color },
    { minor: row.openMinor, color: SERIES[1].color },
    { minor: row.expiredMinor, color: SERIES[2].color },
  ];
  // Bar widths are display geometry; the amounts themselves are printed from minor units.
  const segments = parts.map((p) =>
    row.totalMinor > 0 && p.minor > 0
      ? html`<span style="width:${((p.minor * 100) / row.totalMinor).toFixed(2)}%;background:${p.color}"></span>`
      : '',
  );
  return html`<div class="card" data-currency="${row.currency}">
<div class="cur">${row.currency} · ${row.charges} charge${row.charges === 1 ? '' : 's'}</div>
<div class="big">${money(row.paidMinor, row.currency)}</div>
<div class="of">collected of ${money(row.totalMinor, row.currency)} expected · <strong>${percent(row.paidMinor, row.totalMinor)}</strong></div>
<div class="bar">${segments}</div>
<div class="counts"><span><i class="dot" style="background:${SERIES[0].color}"></i>${row.paidCount} paid</span>
<span><i class="dot" style="background:${SERIES[1].color}"></i>${row.open} open · ${money(row.openMinor, row.currency)}</span>
<span><i class="dot" style="background:${SERIES[2].color}"></i>${row.expired} expired</span>
${row.failed ? html`<span><i class="dot" style="background:var(--failed)"></i>${row.failed} failed</span>` : ''}${row.void ? html`<span>${row.void} void</span>` : ''}</div>
</div>`;
}

function tenantCell(c: ChargeRow): Html {
  return html`<td class="name"><a href="/admin/charges/${c.id}" dir="auto">${c.tenantName}</a>
<div class="muted small">${c.leaseRef} · <span dir="auto">${c.unit}</span></div></td>`;
}

/**
 * "51–100 of 100,000" with links to the previous and next page (`?<param>=N`, other parameters kept):
 * a page holds at most PAGE_SIZE rows, however many the list has.
 */
function pager(page: Page<unknown>, href: (n: number) => string): Html | string {
  if (page.total <= page.limit && page.offset === 0) return '';
  const n = Math.floor(page.offset / page.limit) + 1;
  const last = Math.max(1, Math.ceil(page.total / page.limit));
  const from = page.total === 0 ? 0 : page.offset + 1;
  const to = Math.min(page.total, page.offset + page.rows.length);
  return html`<div class="pager list-pager"><span class="muted">${from.toLocaleString('en-US')}–${to.toLocaleString('en-US')} of ${page.total.toLocaleString('en-US')}</span>${n > 1 ? html`<a href="${href(n - 1)}">‹ Previous</a>` : ''}${n < last ? html`<a href="${href(n + 1)}">Next ›</a>` : ''}</div>`;
}

/** The dashboard's URL for a period and page numbers (first pages are left out of it). */
function dashboardHref(period: string, page: number, attention: number): string {
  return `/admin?period=${period}${page > 1 ? `&page=${page}` : ''}${attention > 1 ? `&attention=${attention}` : ''}`;
}

function pageNumber(page: Page<unknown>): number {
  return Math.floor(page.offset / page.limit) + 1;
}

function attentionTable(m: DashboardModel, back: string): Html {
  if (m.attention.total === 0)
    return html`<p class="empty">Nothing needs attention: every charge is paid, on its way, or void.</p>`;
  const rows = m.attention.rows.map(
    (c) => html`<tr data-charge-id="${c.id}">${tenantCell(c)}
<td class="nowrap">${periodLabel(c.period)}</td><td class="nowrap">${c.dueDate}</td>
<td class="num">${decimalMoney(c.amount, c.currency)}</td><td>${statusCell(c)}</td>
<td class="act">${chargeActions(c, { csrf: m.csrf, back, failedJobId: m.failedSendJobs.get(c.id) ?? null })}</td></tr>`,
  );
  const href = (n: number) => `${dashboardHref(m.period, pageNumber(m.periodCharges), n)}#attention`;
  return html`<table class="attention"><thead><tr><th>Tenant</th><th>Period</th><th>Due</th><th class="num">Amount</th><th>Status</th><th>Actions</th></tr></thead>
<tbody>${rows}</tbody></table>${pager(m.attention, href)}`;
}

function periodTable(m: DashboardModel): Html {
  if (m.periodCharges.total === 0) return html`<p class="empty">No charges for ${periodLabel(m.period)} yet.</p>`;
  const rows = m.periodCharges.rows.map(
    (c) => html`<tr>${tenantCell(c)}<td class="nowrap">${c.dueDate}</td>
<td class="num">${decimalMoney(c.amount, c.currency)}</td><td>${statusCell(c)}</td>
<td class="nowrap">${instant(c.paidAt, c.timezone)}</td></tr>`,
  );
  const href = (n: number) => `${dashboardHref(m.period, n, pageNumber(m.attention))}#charges`;
  return html`<table><thead><tr><th>Tenant</th><th>Due</th><th class="num">Amount</th><th>Status</th><th>Paid at</th></tr></thead><tbody>${rows}</tbody></table>${pager(m.periodCharges, href)}`;
}

/** The reasons behind the attention count, when there is more than one page of them. */
function attentionSummary(c: AttentionCounts): Html | string {
  const parts = [
    [c.doublePaid, 'paid twice'],
    [c.failed, 'failed'],
    [c.expired, 'expired'],
    [c.overdue, 'overdue'],
  ] as const;
  const shown = parts.filter(([n]) => n > 0).map(([n, what]) => `${n.toLocaleString('en-US')} ${what}`);
  return shown.length > 1 ? html`<p class="muted small">${shown.join(' · ')}</p>` : '';
}

function charts(m: DashboardModel): Html {
  if (m.series.length === 0) return html`<p class="empty">No charges in the last 12 periods.</p>`;
  return html`<div class="charts">${m.series.map((s) => html`<div class="chart"><h3>${s.currency}</h3>${collectionChart(s.currency, s.points)}</div>`)}</div>`;
}

/** `GET /admin`: this period at a glance, 12 periods of history, and what needs a decision. */
export function dashboardPage(m: DashboardModel): Html {
  const back = dashboardHref(m.period, pageNumber(m.periodCharges), pageNumber(m.attention));
  const body = html`<div class="titlebar"><div><h1>Collection · ${periodLabel(m.period)}</h1>
<p class="sub">As of ${instant(m.now, m.timeZone)} · paid times in each lease's zone</p></div>
<div class="pager"><a href="/admin?period=${m.previous}">‹ ${periodLabel(m.previous)}</a><a href="/admin?period=${m.next}">${periodLabel(m.next)} ›</a></div></div>
<div class="cards">${m.report.length ? m.report.map(summaryCard) : html`<div class="card"><div class="cur">No charges</div><p class="muted">Nothing was billed for ${periodLabel(m.period)}.</p></div>`}</div>
<section><h2>Paid, open and expired, last 12 periods</h2>${charts(m)}</section>
<section id="attention"><h2>Needs attention (${m.attention.total.toLocaleString('en-US')})</h2>${attentionSummary(m.attention.counts)}${attentionTable(m, back)}</section>
<section id="charges"><h2>${periodLabel(m.period)} charges (${m.periodCharges.total.toLocaleString('en-US')})</h2>${periodTable(m)}</section>`;
  return page({ title: `Collection ${m.period}`, body, flash: m.flash, session: { csrf: m.csrf } });
}
