import type { PaymentLink } from '../db/schema.js';
import type { AccountRegistry } from '../providers/registry.js';

/**
 * When to ask the provider about a link next. `plan` is offsets from the link's creation followed by
 * a repeating interval: the default `15m,1h,6h,12h` means 15 min, 1 h and 6 h after creation, then
 * every 12 h. Jitter (a fraction of the gap) spreads the first of the month so it does not become one
 * spike. The check right after expiry + grace is never skipped: it decides expired-or-paid.
 */
export interface PollPlanInput {
  createdAt: number;
  expiresAt: number;
  /** Checks already made. */
  pollCount: number;
  now: number;
  plan: readonly number[];
  /** 0..1: at most this fraction of the gap is added at random. */
  jitter: number;
  /** How long after expiry the deciding check runs (EXPIRY_GRACE): a last-second payment has settled by then. */
  graceMs: number;
  random?: () => number;
}

export function nextCheckAt(input: PollPlanInput): number {
  const { plan, pollCount, createdAt, expiresAt, now } = input;
  const deciding = expiresAt + input.graceMs;
  // Between expiry and the deciding check there is nothing to ask until the grace has passed.
  if (now >= expiresAt && now < deciding) return deciding;
  const random = input.random ?? Math.random;
  const interval = plan[plan.length - 1] ?? 12 * 3_600_000;
  const offsets = plan.length > 1 ? plan.slice(0, -1) : [interval];
  const lastOffset = offsets[offsets.length - 1] ?? interval;
  const planned =
    pollCount < offsets.length
      ? createdAt + (offsets[pollCount] ?? interval)
      : createdAt + lastOffset + interval * (pollCount - offsets.length + 1);
  const base = Math.max(planned, now + 1000);
  const withJitter = base + Math.floor(random() * input.jitter * (base - now));
  return now < deciding ? Math.min(withJitter, deciding) : withJitter;
}

/** The settings the plans below read. */
export interface CheckTimings {
  /** EXPIRY_GRACE. */
  graceMs: number;
  /** FINAL_CHECK_AFTER: one more look this long after a closed link's expiry, for a payment that landed late. */
  finalCheckAfterMs: number;
}

/**
 * After a check found a closed (expired or superseded) link unpaid: one final look at expiry +
 * FINAL_CHECK_AFTER, unless that has passed or the provider confirmed it closed the link (nothing can
 * be paid on it any more).
 */
export function nextClosedCheck(link: PaymentLink, now: number, timings: CheckTimings): number | null {
  if (link.canceledAtProvider !== null) return null;
  const final = link.expiresAt + timings.finalCheckAfterMs;
  return now < final ? final : null;
}

/**
 * When a link that another link (or the operator) replaced is looked at next. Where its provider can
 * cancel links: now (the status job cancels it there, then confirms it is unpaid). Where it cannot
 * (MyFatoorah): the tenant may still pay it until it expires, so one look at expiry + FINAL_CHECK_AFTER
 * (webhooks and callbacks cover the time in between). A link whose create may have reached the
 * provider without rentlink learning its id is looked up by reference now.
 */
export function supersededCheckAt(registry: AccountRegistry, timings: CheckTimings, now: number) {
  return (link: PaymentLink): number | null => {
    if (!link.providerLinkId) return link.createCalls > 0 ? now : null;
    const canCancel = registry.has(link.account) && registry.get(link.account).canCancel;
    return canCancel ? now : link.expiresAt + timings.finalCheckAfterMs;
  };
}

/** The timings from the configuration. */
export function checkTimings(config: { EXPIRY_GRACE: number; FINAL_CHECK_AFTER: number }): CheckTimings {
  return { graceMs: config.EXPIRY_GRACE, finalCheckAfterMs: config.FINAL_CHECK_AFTER };
}
