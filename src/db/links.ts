import { and, eq, inArray, lte, sql } from 'drizzle-orm';
import type { Db } from './open.js';
import {
  charges,
  leases,
  paymentLinks,
  tenants,
  type Charge,
  type Lease,
  type PaymentLink,
  type Tenant,
} from './schema.js';

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
      .where(and(eq(paymentLinks.chargeId, chargeId), inArray(paymentLinks.status, ['creating', 'open'])))
      .get() ?? null
  );
}

export function findLinkByInvoiceId(db: Db, invoiceId: string): PaymentLink | null {
  return db.select().from(paymentLinks).where(eq(paymentLinks.providerLinkId, invoiceId)).get() ?? null;
}

export function findLinkByReference(db: Db, reference: string): PaymentLink | null {
  return db.select().from(paymentLinks).where(eq(paymentLinks.reference, reference)).get() ?? null;
}

export function findLinkByPaymentId(db: Db, paymentId: string): PaymentLink | null {
  return db.select().from(paymentLinks).where(eq(paymentLinks.paymentId, paymentId)).get() ?? null;
}

/** Charges that need a link: due, unpaid, and with no open link. The attempt is 1 + reissues. */
export function chargesNeedingSend(db: Db): Array<{ chargeId: number; attempt: number }> {
  return db
    .select({ chargeId: charges.id, attempt: sql<number>`${charges.reissueCount} + 1` })
    .from(charges)
    .innerJoin(leases, eq(leases.id, charges.leaseId))
    .where(
      and(
        inArray(charges.status, ['scheduled', 'invoiced']),
        eq(leases.state, 'active'),
        sql`NOT EXISTS (SELECT 1 FROM ${paymentLinks} WHERE ${paymentLinks.chargeId} = ${charges.id} AND ${paymentLinks.status} = 'open')`,
      ),
    )
    .all();
}

/** Open links whose next check time has come (the poll plan sets it, including one right after expiry). */
export function linksDueForCheck(db: Db, now: number): Array<{ linkId: number; nextCheckAt: number }> {
  return db
    .select({ linkId: paymentLinks.id, nextCheckAt: sql<number>`${paymentLinks.nextCheckAt}` })
    .from(paymentLinks)
    .where(and(eq(paymentLinks.status, 'open'), lte(paymentLinks.nextCheckAt, now)))
    .all();
}
