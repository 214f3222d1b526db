import { asc, eq, sql } from 'drizzle-orm';
import type { Clock } from '../time/clock.js';
import { changeLeaseState } from '../db/leases.js';
import type { Db } from '../db/open.js';
import { charges, leases, tenants, type Lease, type Tenant } from '../db/schema.js';
import { toDecimalString } from '../money.js';
import { cleanReason, selectChargeRows, type ChargeRow } from './rows.js';

/** Operator views of leases (with each tenant's ledger) and pausing/resuming a lease. */

/** One line of `leases list`. */
export interface LeaseSummary {
  ref: string;
  tenantName: string;
  unit: string;
  /** Monthly rent as a decimal, e.g. "450.750". */
  amount: string;
  amountMinor: number;
  currency: string;
  dueDay: number;
  channel: string;
  state: string;
  /** Charges ever created for the lease. */
  charges: number;
  /** Charges not paid and not void (scheduled, invoiced, failed, expired). */
  unpaid: number;
}

/** Every lease with its tenant and charge counts, by ref. */
export function listLeases(db: Db): LeaseSummary[] {
  const rows = db
    .select({
      lease: leases,
      tenantName: tenants.name,
      charges: sql<number>`(SELECT COUNT(*) FROM ${charges} WHERE ${charges.leaseId} = ${leases.id})`,
      unpaid: sql<number>`(SELECT COUNT(*) FROM ${charges} WHERE ${charges.leaseId} = ${leases.id} AND ${charges.status} NOT IN ('paid', 'void'))`,
    })
    .from(leases)
    .innerJoin(tenants, eq(tenants.id, leases.tenantId))
    .orderBy(asc(leases.ref))
    .all();
  return rows.map(({ lease, tenantName, charges: count, unpaid }) => ({
    ref: lease.ref,
    tenantName,
    unit: lease.unit,
    amount: toDecimalString(lease.amountMinor, lease.currency),
    amountMinor: lease.amountMinor,
    currency: lease.currency,
    dueDay: lease.dueDay,
    channel: lease.channel,
    state: lease.state,
    charges: count,
    unpaid,
  }));
}

export interface LeaseDetail {
  lease: Lease & { amount: string };
  tenant: Tenant;
  /** Every period, oldest first: amount, status, paid date. */
  ledger: ChargeRow[];
}

/** A lease, its tenant and its ledger; null when no lease has this ref. */
export function showLease(db: Db, ref: string): LeaseDetail | null {
  const row = db
    .select({ lease: leases, tenant: tenants })
    .from(leases)
    .innerJoin(tenants, eq(tenants.id, leases.tenantId))
    .where(eq(leases.ref, ref))
    .get();
  if (!row) return null;
  return {
    lease: { ...row.lease, amount: toDecimalString(row.lease.amountMinor, row.lease.currency) },
    tenant: row.tenant,
    ledger: selectChargeRows(db, eq(charges.leaseId, row.lease.id), 'oldest-first'),
  };
}

/**
 * Pauses or resumes a lease (see {@link changeLeaseState}): an unknown ref, an ended lease or one
 * already in the requested state is refused with a message the operator can act on.
 */
export function setLeaseState(db: Db, clock: Clock, ref: string, state: 'paused' | 'active', reason: string): void {
  changeLeaseState(db, ref, state, cleanReason(reason), clock.now());
}
