import type { AppContext } from '../src/context.js';
import { markLinkExpired } from '../src/db/link-checks.js';
import type { ChargeContext } from '../src/db/queries.js';
import type { PaymentLink } from '../src/db/schema.js';
import type { LinkStatus, PaymentProvider } from '../src/providers/types.js';
import { reissuePlan, renewalPlan } from '../src/schedule/link-plan.js';

/**
 * An open link's expiry + grace passed unpaid. Decides what replaces it — a renewal while the lease's
 * validity window lasts beyond a provider's cap (same account, not counted against max_reissues), a
 * reissue while reissues last, or nothing (the charge expires) — and applies it in one transaction.
 * Returns the new attempt to send, if any.
 */
export async function expireLink(
  ctx: AppContext,
  provider: PaymentProvider,
  found: ChargeContext,
  link: PaymentLink,
  status: LinkStatus,
  now: number,
): Promise<{ kind: 'reissue' | 'renewal'; attempt: number; account: string } | null> {
  const finalCheckAt = link.expiresAt + ctx.config.FINAL_CHECK_AFTER;
  const result = markLinkExpired(
    ctx.db,
    link.id,
    {
      rawStatus: status.rawStatus,
      finalCheckAt: finalCheckAt > now ? finalCheckAt : null,
      plan: (reissuesLeft) =>
        renewalPlan(provider, link, now) ??
        (reissuesLeft ? reissuePlan(ctx.registry, ctx.config, found.lease, link, now) : null),
    },
    now,
  );
  if (result.outcome !== 'next-link') return null;
  ctx.logger.debug(
    { chargeId: found.charge.id, attempt: result.attempt, kind: result.kind },
    result.kind === 'renewal' ? 'link validity capped by the provider: renewing' : 'link expired unpaid: reissuing',
  );
  return result;
}
