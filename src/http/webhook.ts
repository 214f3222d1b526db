import type { Hono } from 'hono';
import type { AppContext } from '../context.js';
import { recordEvent } from '../db/events.js';
import { findLinkByInvoiceId, findLinkByReference } from '../db/links.js';
import { MYFATOORAH_SIGNATURE_HEADER, verifyMyFatoorahWebhook } from '../providers/myfatoorah/webhook.js';
import { queueHintedCheck } from './hints.js';

/**
 * `POST /webhooks/myfatoorah`: verifies `MyFatoorah-Signature` (HMAC-SHA256, constant-time compare).
 * A bad or missing signature gets 401 and changes nothing but an audit event. A good one is recorded
 * once (replays are deduped on invoice, payment and status) and queues an immediate status check.
 * Answers fast: no provider call happens here.
 */
export function registerWebhook(app: Hono, ctx: AppContext, secret: string | undefined): void {
  app.post('/webhooks/myfatoorah', async (c) => {
    const now = ctx.clock.now();
    if (!secret) {
      ctx.logger.warn('webhook received but MYFATOORAH_WEBHOOK_SECRET is not set: refused');
      return c.json({ error: 'webhooks are not configured (set MYFATOORAH_WEBHOOK_SECRET)' }, 503);
    }
    const raw = await c.req.text();
    const otherEvent = v2EventCodeOtherThanPayment(raw);
    if (otherEvent !== null) {
      // Refund, supplier and other events sign other fields and ask nothing of rentlink: acknowledge
      // them (so MyFatoorah stops retrying) and record that they came, without acting on them.
      recordEvent(ctx.db, {
        at: now,
        type: 'webhook.ignored',
        actor: 'webhook',
        details: { eventCode: otherEvent, bytes: raw.length },
      });
      return c.json({ ok: true, ignored: true });
    }
    const hint = verifyMyFatoorahWebhook(raw, c.req.header(MYFATOORAH_SIGNATURE_HEADER), secret);
    if (!hint) {
      recordEvent(ctx.db, {
        at: now,
        type: 'webhook.rejected',
        actor: 'webhook',
        details: {
          reason: c.req.header(MYFATOORAH_SIGNATURE_HEADER) ? 'signature does not match' : 'signature header missing',
          bytes: raw.length,
        },
      });
      ctx.logger.warn('webhook with a bad or missing signature: 401');
      return c.json({ error: 'invalid signature' }, 401);
    }
    const link =
      (hint.invoiceId ? findLinkByInvoiceId(ctx.db, hint.invoiceId) : null) ??
      (hint.reference ? findLinkByReference(ctx.db, hint.reference) : null);
    const fresh = recordEvent(ctx.db, {
      at: now,
      type: link ? 'webhook.received' : 'webhook.unmatched',
      actor: 'webhook',
      chargeId: link?.chargeId ?? null,
      linkId: link?.id ?? null,
      dedupeKey: `myfatoorah:${hint.dedupeKey}`,
      details: { ...hint },
    });
    if (!fresh) return c.json({ ok: true, duplicate: true });
    if (link) await queueHintedCheck(ctx, link, `webhook|${hint.dedupeKey}`, hint.paymentId);
    return c.json({ ok: true });
  });
}

/** The `Event.Code` of a V2 webhook that is not PAYMENT_STATUS_CHANGED (1); null otherwise. */
function v2EventCodeOtherThanPayment(raw: string): number | null {
  try {
    const code = (JSON.parse(raw) as { Event?: { Code?: unknown } }).Event?.Code;
    return typeof code === 'number' && code !== 1 ? code : null;
  } catch {
    return null;
  }
}
