import { createHash } from 'node:crypto';
import type { AppContext } from '../context.js';
import type { PaymentLink } from '../db/schema.js';
import { statusJobId, statusJobOptions } from '../queues.js';

/**
 * Callbacks and webhooks only hint: they queue an immediate status check, and the provider's status API
 * decides. The job id is derived from the hint, so the same hint twice queues one check.
 */
export async function queueHintedCheck(
  ctx: AppContext,
  link: PaymentLink,
  hintKey: string,
  paymentId: string | null,
): Promise<void> {
  const slot = `hint-${createHash('sha256').update(hintKey).digest('hex').slice(0, 16)}`;
  await ctx.queues.status.add(
    'status',
    { linkId: link.id, reason: 'hint', ...(paymentId ? { paymentId } : {}) },
    {
      ...statusJobOptions(ctx.config),
      jobId: statusJobId(link.id, slot),
    },
  );
}
