import { sql } from 'drizzle-orm';
import { check, index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/**
 * The only source of truth. Instants are epoch milliseconds (UTC); calendar dates are local
 * `YYYY-MM-DD` strings in the lease's time zone; money is integer minor units + ISO 4217 currency.
 */

export const CHANNELS = ['EML', 'SMS', 'ALL', 'LNK'] as const;
export type Channel = (typeof CHANNELS)[number];
export const LANGUAGES = ['en', 'ar'] as const;
export type Language = (typeof LANGUAGES)[number];
export const LEASE_STATES = ['active', 'paused', 'ended'] as const;
export type LeaseState = (typeof LEASE_STATES)[number];
export const CHARGE_STATUSES = ['scheduled', 'invoiced', 'paid', 'expired', 'failed', 'void'] as const;
export type ChargeStatus = (typeof CHARGE_STATUSES)[number];
export const LINK_STATUSES = ['creating', 'open', 'paid', 'expired', 'canceled', 'failed'] as const;
export type LinkStatusValue = (typeof LINK_STATUSES)[number];
/** A link in one of these states may still change; every other state is final. */
export const OPEN_LINK_STATUSES = ['creating', 'open'] as const satisfies readonly LinkStatusValue[];
export const ACTORS = ['tick', 'worker', 'webhook', 'callback', 'admin', 'import'] as const;
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
    provider: text('provider').notNull().default('myfatoorah'),
    maxReissues: integer('max_reissues').notNull().default(0),
    startsOn: text('starts_on').notNull(),
    endsOn: text('ends_on'),
    state: text('state', { enum: LEASE_STATES }).notNull().default('active'),
    ...timestamps,
  },
  (t) => [
    check('leases_due_day', sql`${t.dueDay} BETWEEN 1 AND 31`),
    check('leases_amount_positive', sql`${t.amountMinor} > 0`),
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
    /** Number of links issued after the first (reminders). */
    reissueCount: integer('reissue_count').notNull().default(0),
    /** Why the charge failed/was voided, for the operator. */
    statusReason: text('status_reason'),
    paidAt: integer('paid_at'),
    ...timestamps,
  },
  (t) => [uniqueIndex('charges_lease_period').on(t.leaseId, t.period), index('charges_status').on(t.status)],
);

export const paymentLinks = sqliteTable(
  'payment_links',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    chargeId: integer('charge_id')
      .notNull()
      .references(() => charges.id),
    attempt: integer('attempt').notNull(),
    /** Our reference (CustomerReference), deterministic from charge and attempt. */
    reference: text('reference').notNull().unique(),
    provider: text('provider').notNull(),
    channel: text('channel', { enum: CHANNELS }).notNull(),
    status: text('status', { enum: LINK_STATUSES }).notNull().default('creating'),
    providerInvoiceId: text('provider_invoice_id'),
    url: text('url'),
    /** Instant the link stops being payable. */
    expiresAt: integer('expires_at').notNull(),
    /** How many times createLink was called for this row: > 0 means a retry must look up first. */
    createCalls: integer('create_calls').notNull().default(0),
    paymentId: text('payment_id'),
    gateway: text('gateway'),
    paidAmountMinor: integer('paid_amount_minor'),
    paidAt: integer('paid_at'),
    pollCount: integer('poll_count').notNull().default(0),
    nextCheckAt: integer('next_check_at'),
    lastError: text('last_error'),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('payment_links_charge_attempt').on(t.chargeId, t.attempt),
    // Invariant 1: at most one link per charge that may still change.
    uniqueIndex('payment_links_one_open_per_charge')
      .on(t.chargeId)
      .where(sql`${t.status} IN ('creating', 'open')`),
    index('payment_links_next_check').on(t.status, t.nextCheckAt),
    index('payment_links_invoice').on(t.providerInvoiceId),
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
  (t) => [index('events_charge').on(t.chargeId), index('events_type_at').on(t.type, t.at)],
);

export type Tenant = typeof tenants.$inferSelect;
export type Lease = typeof leases.$inferSelect;
export type Charge = typeof charges.$inferSelect;
export type PaymentLink = typeof paymentLinks.$inferSelect;
export type EventRow = typeof events.$inferSelect;
