import { and, eq, inArray } from 'drizzle-orm';
import type { Db } from './open.js';
import {
  charges,
  leases,
  OPEN_LINK_STATUSES,
  paymentLinks,
  tenants,
  type Charge,
  type Lease,
  type PaymentLink,
  type Tenant,
} from './schema.js';

/** Reads the jobs and the HTTP hints share. Changes live in the tables' own modules (charges.ts, links.ts). */

/** A charge with the lease and tenant it belongs to: what a send job needs to build a request. */
export interface ChargeContext {
  charge: Charge;
  lease: Lease;
  tenant: Tenant;
}

export function loadChargeContext(db: Db, chargeId: number): ChargeContext | null {
  const row = db
    .select({ charge: charges, lease: leases, tenant: tenants })
    .from(charges)
    .innerJoin(leases, eq(leases.id, charges.leaseId))
    .innerJoin(tenants, eq(tenants.id, leases.tenantId))
    .where(eq(charges.id, chargeId))
    .get();
  return row ?? null;
}

export function getLink(db: Db, linkId: number): PaymentLink | null {
  return db.select().from(paymentLinks).where(eq(paymentLinks.id, linkId)).get() ?? null;
}

export function getLinkByAttempt(db: Db, chargeId: number, attempt: number): PaymentLink | null {
  return (
    db
      .select()
      .from(paymentLinks)
      .where(and(eq(paymentLinks.chargeId, chargeId), eq(paymentLinks.attempt, attempt)))
      .get() ?? null
  );
}

/** The charge's link that may still change (`creating` or `open`), if any: at most one exists. */
export function getOpenLink(db: Db, chargeId: number): PaymentLink | null {
  return (
    db
      .select()
      .from(paymentLinks)
      .where(and(eq(paymentLinks.chargeId, chargeId), inArray(paymentLinks.status, OPEN_LINK_STATUSES)))
      .get() ?? null
  );
}

/** Our reference is unique across accounts (it embeds lease, period and attempt). */
export function findLinkByReference(db: Db, reference: string): PaymentLink | null {
  return db.select().from(paymentLinks).where(eq(paymentLinks.reference, reference)).get() ?? null;
}

/** A provider's link id is unique only within its account. */
export function findLinkByProviderId(db: Db, account: string, providerLinkId: string): PaymentLink | null {
  return (
    db
      .select()
      .from(paymentLinks)
      .where(and(eq(paymentLinks.account, account), eq(paymentLinks.providerLinkId, providerLinkId)))
      .get() ?? null
  );
}
