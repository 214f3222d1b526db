/**
 * When to ask the provider about an open link next. `plan` is offsets from the link's creation
 * followed by a repeating interval: the default `15m,1h,6h,12h` means 15 min, 1 h and 6 h after
 * creation, then every 12 h. Jitter (a fraction of the gap) spreads the first of the month so it does
 * not become one spike. The check right after expiry is never skipped: it decides expired-or-paid.
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
  random?: () => number;
}

/** Wait after expiry before the deciding check, so a payment made in the last second has settled. */
export const EXPIRY_GRACE_MS = 60_000;

export function nextCheckAt(input: PollPlanInput): number {
  const { plan, pollCount, createdAt, expiresAt, now } = input;
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
  const afterExpiry = expiresAt + EXPIRY_GRACE_MS;
  return now < afterExpiry ? Math.min(withJitter, afterExpiry) : withJitter;
}
