import type { Context, Hono } from 'hono';
import { html } from 'hono/html';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { App } from '../../app.js';
import { addMonths, instantToZonedParts, periodOf } from '../../time/periods.js';
import { fillSeries, lastPeriods, type SeriesPoint } from './chart.js';
import { csrfOk, safeNext } from './auth.js';
import { attentionPage, chargesPage, reissueCharge, showCharge, voidCharge } from '../../operations/charges.js';
import { periodHasCharges } from '../../operations/listings.js';
import { InputError, parseId, statusForError } from './http-errors.js';
import { PAGE_SIZE, PERIOD_PATTERN, PERIOD_RULE } from '../../operations/rows.js';
import { failedSendJobsOf, retryFailedJobs } from '../../operations/jobs.js';
import { collectionReport, periodSeries } from '../../operations/report.js';
import { chargePage } from './views/charge.js';
import { dashboardPage } from './views/dashboard.js';
import { document, sendPage, type Flash } from './views/layout.js';

const FLASH_COOKIE = 'rentlink_flash';
const CHART_PERIODS = 12;

/** The message for the next page view: a short-lived cookie, so a reload does not repeat it. */
function setFlash(c: Context, flash: Flash): void {
  setCookie(c, FLASH_COOKIE, JSON.stringify(flash), { path: '/admin', httpOnly: true, sameSite: 'Strict', maxAge: 60 });
}

function takeFlash(c: Context): Flash | null {
  const raw = getCookie(c, FLASH_COOKIE);
  if (!raw) return null;
  deleteCookie(c, FLASH_COOKIE, { path: '/admin' });
  try {
    const value = JSON.parse(raw) as Partial<Flash>;
    return (value.kind === 'ok' || value.kind === 'error') && typeof value.text === 'string'
      ? { kind: value.kind, text: value.text }
      : null;
  } catch {
    return null;
  }
}

/** Calendar period "now" in the account's time zone (leases may use others; this is only the default view). */
function currentPeriod(app: App): string {
  return periodOf(instantToZonedParts(app.clock.now(), app.registry.defaultAccount.timeZone).date);
}

/**
 * Which period the page opens on: the one asked for, else this calendar month, except that before a
 * month's first charge exists while next month's links already went out (lead days), those are what
 * the manager is collecting. The caller has refused an asked period that does not match PERIOD_PATTERN.
 */
function choosePeriod(app: App, asked: string | undefined): string {
  if (asked) return asked;
  const now = currentPeriod(app);
  if (periodHasCharges(app.db, now)) return now;
  const next = addMonths(now, 1);
  return periodHasCharges(app.db, next) ? next : now;
}

/** `?<name>=N`, a page number from 1; anything else is the first page. */
function pageNumber(c: Context, name: string): number {
  const n = Number(c.req.query(name));
  return Number.isSafeInteger(n) && n >= 1 ? n : 1;
}

function seriesByCurrency(app: App, until: string): Array<{ currency: string; points: SeriesPoint[] }> {
  const periods = lastPeriods(until, CHART_PERIODS);
  const rows = periodSeries(app.db, { periods: CHART_PERIODS, until });
  const currencies = [...new Set(rows.map((r) => r.currency))].sort();
  return currencies.map((currency) => ({
    currency,
    points: fillSeries(
      periods,
      rows.filter((r) => r.currency === currency),
    ),
  }));
}

/** 400 for `?period=` outside 1970-01 … 2999-12 (or not a period at all), with the rule and a way back. */
function badPeriodPage(c: Context, asked: string): Response | Promise<Response> {
  return sendPage(
    c,
    document(
      'No such period',
      html`<div class="login"><h1>No such period</h1>
<p>The period must be ${PERIOD_RULE}; got <code>${asked}</code>.</p>
<p><a href="/admin">Back to this month</a></p></div>`,
    ),
    400,
  );
}

async function dashboard(c: Context, app: App): Promise<Response> {
  const asked = c.req.query('period') || undefined;
  if (asked !== undefined && !PERIOD_PATTERN.test(asked)) return badPeriodPage(c, asked);
  const period = choosePeriod(app, asked);
  const now = app.clock.now();
  const attention = attentionPage(app.db, now, { offset: (pageNumber(c, 'attention') - 1) * PAGE_SIZE });
  const periodCharges = chargesPage(app.db, { period }, { offset: (pageNumber(c, 'page') - 1) * PAGE_SIZE });
  return sendPage(
    c,
    dashboardPage({
      period,
      previous: addMonths(period, -1),
      next: addMonths(period, 1),
      now,
      timeZone: app.registry.defaultAccount.timeZone,
      report: collectionReport(app.db, { period }),
      series: seriesByCurrency(app, period),
      attention,
      periodCharges,
      failedSendJobs: await failedSendJobsOf(
        app,
        attention.rows.map((row) => row.id),
      ),
      csrf: c.get('adminAuth').csrf,
      flash: takeFlash(c),
    }),
  );
}

async function chargeHistory(c: Context, app: App): Promise<Response> {
  const id = Number(c.req.param('id'));
  const history = Number.isSafeInteger(id) && id > 0 ? showCharge(app.db, id) : null;
  if (!history) return c.notFound();
  return sendPage(
    c,
    chargePage({
      history,
      failedJobId: (await failedSendJobsOf(app, [id])).get(id) ?? null,
      csrf: c.get('adminAuth').csrf,
      flash: takeFlash(c),
    }),
  );
}

type Form = Record<string, string | File | (string | File)[]>;

function field(form: Form, name: string): string {
  const value = form[name];
  return typeof value === 'string' ? value.trim() : '';
}

/**
 * A button on a page: checks the CSRF token, runs the action, and redirects back (303, so a reload
 * does not post again) with the outcome as a flash message.
 */
function pageAction(app: App, run: (c: Context, form: Form) => Promise<string> | string) {
  return async (c: Context) => {
    const form = await c.req.parseBody();
    if (!csrfOk(c, form['_csrf']))
      return c.text('This form is stale or was not sent from the admin page: reload it and try again.', 403);
    try {
      setFlash(c, { kind: 'ok', text: await run(c, form) });
    } catch (err) {
      const mapped = statusForError(err);
      if (!mapped)
        app.logger.error(
          { err: err instanceof Error ? err.message : String(err), path: c.req.path },
          'admin action failed',
        );
      setFlash(c, { kind: 'error', text: mapped?.message ?? 'The action failed; see the worker log.' });
    }
    return c.redirect(safeNext(field(form, 'back')), 303);
  };
}

/** `GET /admin`, `GET /admin/charges/:id` and the page buttons (reissue, void, retry). */
export function registerPages(http: Hono, app: App): void {
  http.get('/admin', (c) => dashboard(c, app));
  http.get('/admin/', (c) => c.redirect('/admin', 301));
  http.get('/admin/charges/:id', (c) => chargeHistory(c, app));

  http.post(
    '/admin/charges/:id/reissue',
    pageAction(app, async (c, form) => {
      const id = parseId(c.req.param('id'));
      const { attempt } = await reissueCharge(app, id, field(form, 'reason') || 'reissued from the admin console');
      return `Charge #${id}: a new link (attempt ${attempt}) is on its way.`;
    }),
  );

  http.post(
    '/admin/charges/:id/void',
    pageAction(app, (c, form) => {
      const id = parseId(c.req.param('id'));
      const reason = field(form, 'reason');
      if (!reason) throw new InputError('A reason is required to void a charge.');
      voidCharge(app, id, reason.slice(0, 500));
      return `Charge #${id} is void: no more sends or status checks.`;
    }),
  );

  http.post(
    '/admin/jobs/retry',
    pageAction(app, async (_c, form) => {
      const jobId = field(form, 'jobId');
      if (!jobId) throw new InputError('Which job? The form carried no job id.');
      const { retried, skipped } = await retryFailedJobs(app, {
        jobIds: [jobId],
        reason: 'retried from the admin console',
      });
      if (retried.length === 0)
        throw new InputError(`Job ${jobId} was not retried: ${skipped[0]?.reason ?? 'it no longer exists'}.`);
      return `Retrying ${jobId}: the link is being created again with the lease's current details.`;
    }),
  );
}
