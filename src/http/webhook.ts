import type { Context, Hono } from 'hono';
import type { AppContext } from '../context.js';
import { recordEvent } from '../db/events.js';
import { findLinkByProviderId, findLinkByReference } from '../db/queries.js';
import type { PaymentLink } from '../db/schema.js';
import { PROVIDER_IDS, type PaymentProvider, type WebhookHint, type WebhookResult } from '../providers/types.js';
import { queueHintedCheck } from './hints.js';
import { throttledWarning } from './throttled-log.js';

/**
 * `POST /webhooks/:provider` and `/webhooks/:provider/:account`: each provider module verifies its own
 * signature (constant time) over the body exactly as received. Verify first, then record: a request
 * that fails verification (or names no configured account) gets 401/404 and writes nothing — it is
 * counted in `rentlink_rejected_requests_total` and logged at most once a minute. A verified webhook is
 * recorded once (replays are deduped on the provider's own identifiers) and queues an immediate status
 * check through the link's account. Answers fast: no provider call happens here.
 */
export function registerWebhooks(app: Hono, ctx: AppContext): void {
  const warn = throttledWarning(ctx.logger, 60_000);
  const refuse = (c: Context, status: 401 | 404, reason: string) => {
    ctx.metrics.rejectedRequests.inc({ route: 'webhook', reason });
    warn(`webhook refused: ${reason}`, { path: c.req.path });
    return c.json({ error: reason }, status);
  };
  const handle = async (c: Context) => {
    const candidates = accountsFor(ctx, c.req.param('provider') ?? '', c.req.param('account'));
    if (candidates.length === 0) return refuse(c, 404, 'no such provider or account');
    const request = { headers: lowerCaseHeaders(c.req.raw.headers), rawBody: await c.req.text() };
    const { provider, result } = verify(candidates, request);
    if (result.kind === 'bad-signature') return refuse(c, 401, result.reason);
    if (result.kind === 'ignored') {
      ctx.metrics.rejectedRequests.inc({ route: 'webhook', reason: 'ignored' });
      return c.json({ ok: true, ignored: result.reason });
    }
    return accept(c, ctx, provider, result.hint);
  };
  app.post('/webhooks/:provider', handle);
  app.post('/webhooks/:provider/:account', handle);
}

/** The accounts a webhook may come from: the named one, or every account of the provider. */
function accountsFor(ctx: AppContext, provider: string, account: string | undefined): PaymentProvider[] {
  if (!(PROVIDER_IDS as readonly string[]).includes(provider)) return [];
  const ofProvider = ctx.registry.all().filter((p) => p.id === provider);
  return account === undefined ? ofProvider : ofProvider.filter((p) => p.account === account);
}

/** The first account whose secret verifies the request; otherwise the most telling refusal. */
function verify(
  candidates: PaymentProvider[],
  request: { headers: Record<string, string>; rawBody: string },
): { provider: PaymentProvider; result: WebhookResult } {
  let fallback: { provider: PaymentProvider; result: WebhookResult } | null = null;
  for (const provider of candidates) {
    const result = provider.parseWebhook(request);
    if (result.kind === 'hint') return { provider, result };
    if (result.kind === 'ignored' || !fallback) fallback = { provider, result };
  }
  return fallback as { provider: PaymentProvider; result: WebhookResult };
}

async function accept(c: Context, ctx: AppContext, provider: PaymentProvider, hint: WebhookHint) {
  const link = linkOf(ctx, provider, hint);
  const fresh = recordEvent(ctx.db, {
    at: ctx.clock.now(),
    type: link ? 'webhook.received' : 'webhook.unmatched',
    actor: 'webhook',
    chargeId: link?.chargeId ?? null,
    linkId: link?.id ?? null,
    dedupeKey: `${provider.id}:${provider.account}:${hint.dedupeKey}`,
    details: {
      account: provider.account,
      providerLinkId: hint.providerLinkId,
      reference: hint.reference,
      ...hint.summary,
    },
  });
  if (!fresh) return c.json({ ok: true, duplicate: true });
  if (link) await queueHintedCheck(ctx, link);
  return c.json({ ok: true });
}

/** The link the hint is about, within the verifying account: by the provider's id, else by our reference. */
function linkOf(ctx: AppContext, provider: PaymentProvider, hint: WebhookHint): PaymentLink | null {
  const byId = hint.providerLinkId ? findLinkByProviderId(ctx.db, provider.account, hint.providerLinkId) : null;
  if (byId) return byId;
  const byReference = hint.reference ? findLinkByReference(ctx.db, hint.reference) : null;
  return byReference?.account === provider.account ? byReference : null;
}

function lowerCaseHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, key) => (out[key.toLowerCase()] = value));
  return out;
}
