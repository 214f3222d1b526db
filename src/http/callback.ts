import type { Hono } from 'hono';
import { html } from 'hono/html';
import { callbackTokenValid } from '../callbacks.js';
import type { AppContext } from '../context.js';
import { recordEvent } from '../db/events.js';
import { findLinkByReference, loadChargeContext } from '../db/queries.js';
import type { Language } from '../db/schema.js';
import { callbackKey } from '../db/settings.js';
import { queueHintedCheck } from './hints.js';

const TEXT = {
  en: {
    okTitle: 'Payment received',
    ok: 'Thank you. We received your payment and are confirming it with the bank. You can close this page.',
    failTitle: 'Payment did not go through',
    fail: 'Your payment was not completed. You can try again from the link you received.',
  },
  ar: {
    okTitle: 'تم استلام الدفعة',
    ok: 'شكراً لك. استلمنا دفعتك ونقوم بتأكيدها مع البنك. يمكنك إغلاق هذه الصفحة.',
    failTitle: 'لم تتم عملية الدفع',
    fail: 'لم تكتمل عملية الدفع. يمكنك المحاولة مرة أخرى من الرابط الذي وصلك.',
  },
} as const;

/**
 * `GET /callback?ref=<our reference>&t=<token>` — where the provider sends the tenant's browser after
 * paying (MyFatoorah appends `paymentId`; ErrorUrl adds `error=1`). It answers a small page in the
 * tenant's language and only hints: it queues a status check of that link through its account. Its
 * cost is bounded however it is called: without a valid token (an HMAC of the reference) nothing is
 * looked up, queued or written; with one, the link is found by our reference only (never by the
 * caller's paymentId), at most two hint checks are pending per link, and at most one event row is
 * written per link and outcome.
 */
export function registerCallback(app: Hono, ctx: AppContext): void {
  let key: string | null = null;
  app.get('/callback', async (c) => {
    const reference = c.req.query('ref') ?? '';
    const failed = c.req.query('error') === '1';
    key ??= callbackKey(ctx.db, ctx.clock.now());
    if (!reference || !callbackTokenValid(key, reference, c.req.query('t'))) {
      ctx.metrics.rejectedRequests.inc({ route: 'callback', reason: 'unknown reference or bad token' });
      return c.html(resultPage('en', failed), 200);
    }
    const link = findLinkByReference(ctx.db, reference);
    const found = link ? loadChargeContext(ctx.db, link.chargeId) : null;
    if (!link || !found) return c.html(resultPage('en', failed), 200);
    recordEvent(ctx.db, {
      at: ctx.clock.now(),
      type: 'callback.received',
      actor: 'callback',
      leaseId: found.lease.id,
      chargeId: link.chargeId,
      linkId: link.id,
      dedupeKey: `callback:${link.id}:${failed ? 'error' : 'ok'}`,
      details: { reference, failed, paymentId: cleanPaymentId(c.req.query('paymentId') ?? c.req.query('PaymentId')) },
    });
    await queueHintedCheck(ctx, link);
    return c.html(resultPage(found.tenant.language, failed), 200);
  });
}

/** A provider's payment id is digits (MyFatoorah) or short tokens; anything else is not worth keeping. */
function cleanPaymentId(value: string | undefined): string | null {
  return value && /^[A-Za-z0-9_-]{1,40}$/.test(value) ? value : null;
}

function resultPage(language: Language, failed: boolean) {
  const t = TEXT[language];
  const title = failed ? t.failTitle : t.okTitle;
  return html`<!doctype html>
<html lang="${language}" dir="${language === 'ar' ? 'rtl' : 'ltr'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#1f2933}
h1{font-size:1.4rem;color:${failed ? '#b42318' : '#067647'}}</style></head>
<body><h1>${title}</h1><p>${failed ? t.fail : t.ok}</p></body></html>`;
}
