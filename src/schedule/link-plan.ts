import type { Config } from '../config.js';
import type { NextLinkPlan } from '../db/link-checks.js';
import { linkReference, type NewLink } from '../db/links.js';
import type { Charge, Lease, PaymentLink } from '../db/schema.js';
import type { AccountRegistry } from '../providers/registry.js';
import type { PaymentProvider } from '../providers/types.js';
import { expiresAtFor, instantToZonedParts } from '../time/periods.js';

/**
 * What a charge's next link looks like: which account makes it, on which channel, valid until when.
 * One place for the first link (the send job), a reminder after expiry (the status job), an operator
 * reissue and a renewal of a provider-capped validity.
 */

/** Slack under which a validity window counts as used up (clock rounding between provider and us). */
const WINDOW_SLACK_MS = 60_000;

/** A provider that caps a link's validity (paymennt: 7 days) gets the capped expiry; renewals follow. */
function capValidity(provider: PaymentProvider, windowEndsAt: number, now: number): number {
  return provider.maxValidityMs === null ? windowEndsAt : Math.min(windowEndsAt, now + provider.maxValidityMs);
}

/** 23:59:59 local, valid days from today in the lease's zone: what a reminder gets. */
function windowFromToday(lease: Lease, now: number): number {
  return expiresAtFor(instantToZonedParts(now, lease.timezone).date, lease.validDays, lease.timezone);
}

/**
 * The charge's first link, through the lease's account: valid until the due date + valid days (a late
 * first send gets a full window from today). An attempt > 1 without a prepared row (data from before
 * reissue rows were prepared) is planned like a reissue.
 */
export function firstLinkPlan(
  config: Pick<Config, 'REISSUE_CHANNEL'>,
  provider: PaymentProvider,
  charge: Charge,
  lease: Lease,
  attempt: number,
  now: number,
): NewLink {
  const fromToday = windowFromToday(lease, now);
  const windowEndsAt =
    attempt === 1 ? Math.max(expiresAtFor(charge.dueDate, lease.validDays, lease.timezone), fromToday) : fromToday;
  return {
    chargeId: charge.id,
    leaseId: lease.id,
    attempt,
    kind: attempt === 1 ? 'first' : 'reissue',
    reference: linkReference(lease.ref, charge.period, attempt),
    provider: provider.id,
    account: provider.account,
    channel: attempt > 1 && config.REISSUE_CHANNEL ? config.REISSUE_CHANNEL : lease.channel,
    expiresAt: capValidity(provider, windowEndsAt, now),
    windowEndsAt,
  };
}

/**
 * A reminder (or an operator reissue): through the lease's account as it is now — or, when that
 * account left the configuration, the account of the link it replaces — on REISSUE_CHANNEL when set,
 * valid from today.
 */
export function reissuePlan(
  registry: AccountRegistry,
  config: Pick<Config, 'REISSUE_CHANNEL'>,
  lease: Lease,
  previous: PaymentLink | null,
  now: number,
): NextLinkPlan {
  const leaseAccount = lease.account ?? registry.defaultAccount.account;
  const account = registry.has(leaseAccount) || !previous ? leaseAccount : previous.account;
  const provider = registry.get(account);
  const windowEndsAt = windowFromToday(lease, now);
  return {
    kind: 'reissue',
    link: {
      provider: provider.id,
      account: provider.account,
      channel: config.REISSUE_CHANNEL ?? lease.channel,
      expiresAt: capValidity(provider, windowEndsAt, now),
      windowEndsAt,
    },
  };
}

/** A fresh link for the rest of the validity window when the provider capped the expired one; else null. */
export function renewalPlan(provider: PaymentProvider, link: PaymentLink, now: number): NextLinkPlan | null {
  const windowEndsAt = link.windowEndsAt ?? link.expiresAt;
  if (provider.maxValidityMs === null || windowEndsAt <= link.expiresAt + WINDOW_SLACK_MS || windowEndsAt <= now) {
    return null;
  }
  return {
    kind: 'renewal',
    link: {
      provider: link.provider,
      account: link.account,
      channel: link.channel,
      expiresAt: capValidity(provider, windowEndsAt, now),
      windowEndsAt,
    },
  };
}
