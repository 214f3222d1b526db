import type { AppContext } from '../context.js';
import type { PaymentLink } from '../db/schema.js';
import { hintJobId, statusJobOptions } from '../queues.js';

/** A hint check that finished less than this long ago is not repeated at once, only followed up after. */
const COOLDOWN_MS = 10_000;
const PENDING = new Set(['waiting', 'delayed', 'prioritized', 'waiting-children']);

/**
 * Callbacks and webhooks only hint: they queue an immediate status check on the link's own account,
 * and the provider's status API decides. Cost is bounded per link however many hints arrive: two job
 * slots per link (`status-<link>-hint` and its follow-up `…-next`). A hint joins a pending check; when a
 * check is running or ran in the last COOLDOWN_MS, it books the follow-up slot, delayed past the
 * cooldown, so news that came just after a check is still seen; when both slots are busy it is dropped
 * (a check is already due to see it). So a flood costs about one provider call per link per 10 s.
 */
export async function queueHintedCheck(ctx: AppContext, link: PaymentLink): Promise<void> {
  const queue = ctx.queues.status(link.account);
  const data = { linkId: link.id, reason: 'hint' as const };
  const options = statusJobOptions(ctx.config, 'hint');
  // Job timestamps are real time (BullMQ's), so the cooldown is too.
  const now = performance.timeOrigin + performance.now();
  const slots = [
    { jobId: hintJobId(link.id), delay: 0 },
    { jobId: `${hintJobId(link.id)}-next`, delay: COOLDOWN_MS },
  ];
  for (const slot of slots) {
    const job = await queue.getJob(slot.jobId);
    const state = job ? await job.getState() : 'unknown';
    if (PENDING.has(state)) return; // a check is coming: it will see the news
    const justRan = state !== 'unknown' && !(job?.finishedOn !== undefined && job.finishedOn + COOLDOWN_MS <= now);
    if (state === 'active' || justRan) continue; // running, or ran moments ago: try the follow-up slot
    await job?.remove().catch(() => undefined); // a check of long ago frees its slot
    await queue.add('status', data, { ...options, jobId: slot.jobId, delay: slot.delay });
    return;
  }
}
