import type { Hono } from 'hono';
import { html } from 'hono/html';
import type { AppContext } from '../context.js';
import { recordEvent } from '../db/events.js';
import { findLinkByReference, loadChargeContext } from '../db/links.js';
import type { Language } from '../db/schema.js';
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
 * `GET /callback?ref=<our reference>&paymentId=…` — where MyFatoorah sends the tenant's browser
 * (CallBackUrl; ErrorUrl adds `error=1`). Answers a small page in the tenant's language and queues an
 * immediate status check by PaymentId. It never marks anything paid by itself.
 */
export function registerCallback(app: Hono, ctx: AppContext): void {
  app.get('/callback', async (c) => {
    const reference = c.req.query('ref') ?? '';
    const paymentId = c.req.query('paymentId') ?? c.req.query('PaymentId') ?? null;
    const failed = c.req.query('error') === '1';
    const link = reference ? findLinkByReference(ctx.db, reference) : null;
    const found = link ? loadChargeContext(ctx.db, link.chargeId) : null;
    const now = ctx.clock.now();
    recordEvent(ctx.db, {
      at: now,
      type: link ? 'callback.received' : 'callback.unmatched',
      actor: 'callback',
      leaseId: found?.lease.id ?? null,
      chargeId: link?.chargeId ?? null,
      linkId: link?.id ?? null,
      details: { reference, paymentId, failed },
    });
    if (link) await queueHintedCheck(ctx, link, `callback|${link.id}|${paymentId ?? ''}`, paymentId);
    return c.html(resultPage(found?.tenant.language ?? 'en', failed), 200);
  });
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
