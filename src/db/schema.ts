import { sql } from 'drizzle-orm';
import { check, index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { CHANNELS, LANGUAGES } from '../providers/types.js';

/**
 * The only source of truth. Instants are epoch milliseconds (UTC); calendar dates are local
 * `YYYY-MM-DD` strings in the lease's time zone; money is integer minor units + ISO 4217 currency.
 */

export { CHANNELS, LANGUAGES, type Channel, type Language } from '../providers/types.js';
export const LEASE_STATES = ['active', 'paused', 'ended'] as const;
export type LeaseState = (typeof LEASE_STATES)[number];
export const CHARGE_STATUSES = ['scheduled', 'invoiced', 'paid', 'expired', 'failed', 'void'] as const;
export type ChargeStatus = (typeof CHARGE_STATUSES)[number];
export const OPEN_CHARGE_STATUSES = ['scheduled', 'invoiced'] as const satisfies readonly ChargeStatus[];
const LINK_STATUSES = ['creating', 'open', 'paid', 'expired', 'canceled', 'failed'] as const;
export type LinkStatusValue = (typeof LINK_STATUSES)[number];
/** A link in one of these states may still change; every other state is final. */
export const OPEN_LINK_STATUSES = ['creating', 'open'] as const satisfies readonly LinkStatusValue[];
/** Why a link exists: the charge's first link, an expiry reminder or operator reissue, or a renewal of a capped validity. */
const LINK_KINDS = ['first', 'reissue', 'renewal'] as const;
export type LinkKind = (typeof LINK_KINDS)[number];
const ACTORS = ['tick', 'worker', 'webhook', 'callback', 'admin', 'import'] as const;
export type Actor = (typeof ACTORS)[number];

const timestamps = {
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
};

export const tenants = sqliteTable('tenants', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull(),
  email: text('email'),
  /** National number without country code, digits only (MyFatoorah's CustomerMobile). */
  mobile: text('mobile'),
  /** With the plus sign, e.g. `+965`. */
  mobileCountryCode: text('mobile_country_code'),
  language: text('language', { enum: LANGUAGES }).notNull().default('en'),
  ...timestamps,
});

export const leases = sqliteTable(
  'leases',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    ref: text('ref').notNull().unique(),
    tenantId: integer('tenant_id')
      .notNull()
      .references(() => tenants.id),
    unit: text('unit').notNull(),
    amountMinor: integer('amount_minor').notNull(),
    currency: text('currency').notNull(),
    dueDay: integer('due_day').notNull(),
    leadDays: integer('lead_days').notNull().default(0),
    validDays: integer('valid_days').notNull(),
    timezone: text('timezone').notNull(),
    channel: text('channel', { enum: CHANNELS }).notNull(),
    /** The configured account its links are made with; null: the default account. */
    account: text('account'),
    maxReissues: integer('max_reissues').notNull().default(0),
    startsOn: text('starts_on').notNull(),
    endsOn: text('ends_on'),
    /** `YYYY-MM`: periods up to and including this one were collected outside rentlink and are never billed. */
    paidThrough: text('paid_through'),
    state: text('state', { enum: LEASE_STATES }).notNull().default('active'),
    /**
     * When the tick next has to look at this lease: the send instant of its next unbilled period (0:
     * at once, after an import or edit). Null when no period is left. The tick selects by it.
     */
    nextSendAt: integer('next_send_at'),
    ...timestamps,
  },
  (t) => [
    check('leases_due_day', sql`${t.dueDay} BETWEEN 1 AND 31`),
    check('leases_amount_positive', sql`${t.amountMinor} > 0`),
    index('leases_next_send')
      .on(t.nextSendAt)
      .where(sql`${t.state} = 'active' AND ${t.nextSendAt} IS NOT NULL`),
  ],
);

export const charges = sqliteTable(
  'charges',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    leaseId: integer('lease_id')
      .notNull()
      .references(() => leases.id),
    /** `YYYY-MM`. */
    period: text('period').notNull(),
    /** Local calendar date in the lease's time zone. */
    dueDate: text('due_date').notNull(),
    /** The instant the first link is due to be sent (due date − lead days, local midnight). */
    sendAt: integer('send_at').notNull(),
    amountMinor: integer('amount_minor').notNull(),
    currency: text('currency').notNull(),
    status: text('status', { enum: CHARGE_STATUSES }).notNull().default('scheduled'),
    /** Number of links issued after the first (reminders, operator reissues); renewals do not count. */
    reissueCount: integer('reissue_count').notNull().default(0),
    /** The attempt number of the charge's current (or next) link: 1 + reissues + renewals. */
    linkAttempt: integer('link_attempt').notNull().default(1),
    /** Why the charge failed/was voided, for the operator. */
    statusReason: text('status_reason'),
    paidAt: integer('paid_at'),
    /** When a link has to be sent for the current attempt; null while none is needed. */
    nextSendAt: integer('next_send_at'),
    /** The send job queued for it (so the tick does not queue it again) and when; null: not queued. */
    sendJob: text('send_job'),
    sendQueuedAt: integer('send_queued_at'),
    /** Successful payments beyond the one that settled the charge (a superseded link paid too, a void charge paid). */
    extraPayments: integer('extra_payments').notNull().default(0),
    extraPaidMinor: integer('extra_paid_minor').notNull().default(0),
    /** When an operator settled the extra payments (refunded, kept as credit); null while they need a look. */
    extraReviewedAt: integer('extra_reviewed_at'),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('charges_lease_period').on(t.leaseId, t.period),
    // (status, due_date): the attention list reads the overdue open charges and each status in due-date order.
    index('charges_status_due').on(t.status, t.dueDate),
    index('charges_period').on(t.period, t.currency),
    index('charges_send_due')
      .on(t.nextSendAt)
      .where(sql`${t.nextSendAt} IS NOT NULL AND ${t.sendQueuedAt} IS NULL`),
    index('charges_send_queued')
      .on(t.sendQueuedAt)
      .where(sql`${t.nextSendAt} IS NOT NULL AND ${t.sendQueuedAt} IS NOT NULL`),
    index('charges_extra_payments')
      .on(t.extraPayments)
      .where(sql`${t.extraPayments} > 0`),
  ],
);

export const paymentLinks = sqliteTable(
  'payment_links',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    chargeId: integer('charge_id')
      .notNull()
      .references(() => charges.id),
    attempt: integer('attempt').notNull(),
    kind: text('kind', { enum: LINK_KINDS }).notNull().default('first'),
    /** Our reference (CustomerReference / merchant_reference / requestId), deterministic from charge and attempt. */
    reference: text('reference').notNull().unique(),
    provider: text('provider').notNull(),
    /** The account that created it: it is polled, verified and canceled through this one, always. */
    account: text('account').notNull().default('default'),
    channel: text('channel', { enum: CHANNELS }).notNull(),
    status: text('status', { enum: LINK_STATUSES }).notNull().default('creating'),
    /** The provider's id for the link (MyFatoorah InvoiceId, APS payment_link_id, paymennt checkout id). */
    providerLinkId: text('provider_invoice_id'),
    url: text('url'),
    /** Instant the link stops being payable. */
    expiresAt: integer('expires_at').notNull(),
    /**
     * When the lease wants the tenant able to pay until (due date or reissue day + valid days). Later than
     * expiresAt only where the provider caps a link's validity (paymennt: 7 days): renewals cover the rest.
     */
    windowEndsAt: integer('window_ends_at'),
    /** How many times createLink was called for this row: > 0 means a retry must look up first. */
    createCalls: integer('create_calls').notNull().default(0),
    paymentId: text('payment_id'),
    gateway: text('gateway'),
    paidAmountMinor: integer('paid_amount_minor'),
    paidAt: integer('paid_at'),
    pollCount: integer('poll_count').notNull().default(0),
    /** When the next status check is due; null when none is planned (paid, or final checks done). */
    nextCheckAt: integer('next_check_at'),
    /** The status job queued for that check and when; null: not queued. */
    checkJob: text('check_job'),
    checkQueuedAt: integer('check_queued_at'),
    /** When the provider confirmed it closed the link (superseded links that could be canceled there). */
    canceledAtProvider: integer('canceled_at_provider'),
    lastError: text('last_error'),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('payment_links_charge_attempt').on(t.chargeId, t.attempt),
    // Invariant 1: at most one link per charge that may still change.
    uniqueIndex('payment_links_one_open_per_charge')
      .on(t.chargeId)
      .where(sql`${t.status} IN ('creating', 'open')`),
    index('payment_links_check_due')
      .on(t.nextCheckAt)
      .where(sql`${t.nextCheckAt} IS NOT NULL AND ${t.checkQueuedAt} IS NULL`),
    index('payment_links_check_queued')
      .on(t.checkQueuedAt)
      .where(sql`${t.nextCheckAt} IS NOT NULL AND ${t.checkQueuedAt} IS NOT NULL`),
    index('payment_links_provider_link').on(t.account, t.providerLinkId),
    index('payment_links_payment').on(t.paymentId),
  ],
);

export const events = sqliteTable(
  'events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    at: integer('at').notNull(),
    type: text('type').notNull(),
    actor: text('actor', { enum: ACTORS }).notNull(),
    leaseId: integer('lease_id'),
    chargeId: integer('charge_id'),
    linkId: integer('link_id'),
    /** JSON object. */
    details: text('details').notNull().default('{}'),
    /** Set for events that must be recorded once (webhook replays): UNIQUE, so a replay is ignored. */
    dedupeKey: text('dedupe_key').unique(),
  },
  (t) => [
    index('events_charge').on(t.chargeId),
    index('events_link').on(t.linkId),
    index('events_lease').on(t.leaseId),
    index('events_type_at').on(t.type, t.at),
  ],
);

/** Small facts the processes share: the last queue incarnation seen, the callback signing key. */
export const settings = sqliteTable('settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

/** Admin console sessions: the cookie holds a random id, this table its hash, so logout ends it everywhere. */
export const adminSessions = sqliteTable(
  'admin_sessions',
  {
    idHash: text('id_hash').primaryKey(),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('admin_sessions_expires').on(t.expiresAt)],
);

export type Tenant = typeof tenants.$inferSelect;
export type Lease = typeof leases.$inferSelect;
export type Charge = typeof charges.$inferSelect;
export type PaymentLink = typeof paymentLinks.$inferSelect;
