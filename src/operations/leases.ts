import { and, asc, eq, sql, type SQL } from 'drizzle-orm';
import type { Clock } from '../time/clock.js';
import { changeLeaseState } from '../db/leases.js';
import type { Db } from '../db/open.js';
import { charges, LEASE_STATES, leases, tenants, type Lease, type LeaseState, type Tenant } from '../db/schema.js';
import { RentlinkError } from '../errors.js';
import { toDecimalString } from '../money.js';
import { cleanReason, pageOf, selectChargeRows, type ChargeRow, type Page, type PageRequest } from './rows.js';

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

/** Which leases a listing shows. */
export interface LeaseFilter {
  /** The lease's account (`default` matches leases that name none). */
  account?: string;
  state?: string;
  /** The name of the default account, for `account` (default: `default`). */
  defaultAccount?: string;
}

function leaseWhere(filter: LeaseFilter): SQL | undefined {
  const conditions: SQL[] = [];
  if (filter.account !== undefined) {
    conditions.push(
      sql`COALESCE(${leases.account}, ${filter.defaultAccount ?? 'default'}) = ${filter.account.toLowerCase()}`,
    );
  }
  if (filter.state !== undefined) {
    if (!(LEASE_STATES as readonly string[]).includes(filter.state)) {
      throw new RentlinkError(
        'INVALID_INPUT',
        `state must be one of ${LEASE_STATES.join(', ')}; got "${filter.state}"`,
      );
    }
    conditions.push(eq(leases.state, filter.state as LeaseState));
  }
  return and(...conditions);
}

/** Leases with their tenant and charge counts, by ref, one page (the ref index gives the order). */
export function leasesPage(db: Db, filter: LeaseFilter = {}, request: PageRequest = {}): Page<LeaseSummary> {
  const { limit, offset } = pageOf(request);
  const where = leaseWhere(filter);
  const rows = db
    .select({
      lease: leases,
      tenantName: tenants.name,
      charges: sql<number>`(SELECT COUNT(*) FROM ${charges} WHERE ${charges.leaseId} = ${leases.id})`,
      unpaid: sql<number>`(SELECT COUNT(*) FROM ${charges} WHERE ${charges.leaseId} = ${leases.id} AND ${charges.status} NOT IN ('paid', 'void'))`,
    })
    .from(leases)
    .innerJoin(tenants, eq(tenants.id, leases.tenantId))
    .where(where)
    .orderBy(asc(leases.ref))
    .limit(limit)
    .offset(offset)
    .all();
  const total =
    db
      .select({ n: sql<number>`COUNT(*)` })
      .from(leases)
      .where(where)
      .get()?.n ?? 0;
  return {
    rows: rows.map(({ lease, tenantName, charges: count, unpaid }) => ({
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
    })),
    total,
    limit,
    offset,
  };
}

/** One page (default the first 50) of {@link leasesPage}'s rows. */
export function listLeases(db: Db, filter: LeaseFilter & PageRequest = {}): LeaseSummary[] {
  return leasesPage(db, filter, filter).rows;
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
