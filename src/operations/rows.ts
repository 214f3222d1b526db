import { alias } from 'drizzle-orm/sqlite-core';
import { and, asc, desc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/open.js';
import { CHARGE_STATUSES, charges, leases, paymentLinks, tenants, type ChargeStatus } from '../db/schema.js';
import { RentlinkError } from '../errors.js';
import { toDecimalString } from '../money.js';

/**
 * What the operator tools share: the one way a charge is shown (with its lease, tenant and latest
 * link), input validation with messages an operator can act on, and small formatting helpers.
 */

/** A charge as the operator sees it. `link*` describe the charge's latest attempt. */
export interface ChargeRow {
  id: number;
  leaseRef: string;
  tenantName: string;
  unit: string;
  period: string;
  dueDate: string;
  /** Decimal in major units with the currency's exponent, e.g. "450.750". */
  amount: string;
  amountMinor: number;
  currency: string;
  /** The lease's IANA time zone: its due dates are local there, and the admin shows instants in it. */
  timezone: string;
  status: string;
  statusReason: string | null;
  reissueCount: number;
  linkStatus: string | null;
  linkUrl: string | null;
  /** ISO instant. */
  paidAt: string | null;
  /** The payment that settled the charge (from its paid link, which may be an earlier attempt). */
  paymentId: string | null;
  /** The provider and account of the latest link (null before the first link). */
  provider: string | null;
  account: string | null;
  /** Payments beyond the one that settled it (double payments), their total, and whether an operator settled them. */
  extraPayments: number;
  extraPaid: string;
  doubleReviewed: boolean;
}

const latestLink = alias(paymentLinks, 'latest_link');

/** Selects charge rows matching `where` (over charges/leases/tenants), in the given order. */
export function selectChargeRows(
  db: Db,
  where: SQL | undefined,
  order: 'oldest-first' | 'newest-first' = 'newest-first',
): ChargeRow[] {
  const byPeriod = order === 'oldest-first' ? asc(charges.period) : desc(charges.period);
  const rows = db
    .select({
      charge: charges,
      leaseRef: leases.ref,
      unit: leases.unit,
      timezone: leases.timezone,
      tenantName: tenants.name,
      linkStatus: latestLink.status,
      linkUrl: latestLink.url,
      provider: latestLink.provider,
      account: latestLink.account,
      paymentId: sql<
        string | null
      >`(SELECT ${paymentLinks.paymentId} FROM ${paymentLinks} WHERE ${paymentLinks.chargeId} = ${charges.id} AND ${paymentLinks.status} = 'paid' ORDER BY ${paymentLinks.attempt} LIMIT 1)`,
    })
    .from(charges)
    .innerJoin(leases, eq(leases.id, charges.leaseId))
    .innerJoin(tenants, eq(tenants.id, leases.tenantId))
    .leftJoin(
      latestLink,
      and(
        eq(latestLink.chargeId, charges.id),
        eq(
          latestLink.attempt,
          sql`(SELECT MAX(${paymentLinks.attempt}) FROM ${paymentLinks} WHERE ${paymentLinks.chargeId} = ${charges.id})`,
        ),
      ),
    )
    .where(where)
    .orderBy(byPeriod, asc(leases.ref), asc(charges.id))
    .all();
  return rows.map(
    ({ charge, leaseRef, unit, timezone, tenantName, linkStatus, linkUrl, paymentId, provider, account }) => ({
      id: charge.id,
      leaseRef,
      tenantName,
      unit,
      period: charge.period,
      dueDate: charge.dueDate,
      amount: toDecimalString(charge.amountMinor, charge.currency),
      amountMinor: charge.amountMinor,
      currency: charge.currency,
      timezone,
      status: charge.status,
      statusReason: charge.statusReason,
      reissueCount: charge.reissueCount,
      linkStatus: linkStatus ?? null,
      linkUrl: linkUrl ?? null,
      paidAt: isoOrNull(charge.paidAt),
      paymentId: paymentId ?? null,
      provider: provider ?? null,
      account: account ?? null,
      extraPayments: charge.extraPayments,
      extraPaid: toDecimalString(charge.extraPaidMinor, charge.currency),
      doubleReviewed: charge.extraReviewedAt !== null,
    }),
  );
}

/** Epoch ms → ISO string; null stays null. */
export function isoOrNull(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}

/**
 * `YYYY-MM` with a year from 1970 to 2999 and a month 01–12: the periods rent can be owed for, and a
 * range in which every period, its neighbours and a year of history are valid dates.
 */
export const PERIOD_PATTERN = /^(19[7-9]\d|2\d{3})-(0[1-9]|1[0-2])$/;

/** What a period must look like, for messages. */
export const PERIOD_RULE = 'YYYY-MM with a year from 1970 to 2999 and a month from 01 to 12 (e.g. 2026-12)';

/** Throws a readable error unless `period` matches {@link PERIOD_PATTERN}. */
export function assertPeriod(period: string): string {
  if (!PERIOD_PATTERN.test(period))
    throw new RentlinkError('INVALID_INPUT', `period must be ${PERIOD_RULE}, got ${JSON.stringify(period)}`);
  return period;
}

/** A charge listing may also ask for the charges paid more than once. */
export const DOUBLE_PAID = 'double-paid';
export type ChargeStatusFilter = ChargeStatus | typeof DOUBLE_PAID;

/** Throws a readable error unless `status` is a charge status (or `double-paid`). */
export function assertChargeStatus(status: string): ChargeStatusFilter {
  if (status !== DOUBLE_PAID && !(CHARGE_STATUSES as readonly string[]).includes(status)) {
    throw new RentlinkError(
      'INVALID_INPUT',
      `status must be one of ${[...CHARGE_STATUSES, DOUBLE_PAID].join(', ')}; got "${status}"`,
    );
  }
  return status as ChargeStatusFilter;
}

/** A reason as stored in events: trimmed, and null when none was given. */
export function cleanReason(reason: string | null | undefined): string | null {
  const trimmed = reason?.trim() ?? '';
  return trimmed === '' ? null : trimmed;
}

/** The error every operator tool raises for an unknown charge id (the CLI prints its message). */
export function chargeNotFound(id: number): RentlinkError {
  return new RentlinkError('NOT_FOUND', `charge ${id} not found`);
}

/** The error for an unknown lease ref. */
export function leaseNotFound(ref: string): RentlinkError {
  return new RentlinkError('NOT_FOUND', `lease "${ref}" not found`);
}

/** Rows per page of every operator list (CLI, JSON API, pages) unless asked otherwise, and the most allowed. */
export const PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

/** Which slice of a list to show: `limit` rows after skipping `offset`. */
export interface PageRequest {
  limit?: number;
  offset?: number;
}

/** One page of a list, with the total the filter matches (for "51–100 of 100,000" and a next link). */
export interface Page<T> {
  rows: T[];
  total: number;
  limit: number;
  offset: number;
}

/** The page asked for, with the defaults, refused with a readable error when out of range. */
export function pageOf(request: PageRequest = {}): { limit: number; offset: number } {
  const limit = request.limit ?? PAGE_SIZE;
  const offset = request.offset ?? 0;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE)
    throw new RentlinkError('INVALID_INPUT', `limit must be a whole number from 1 to ${MAX_PAGE_SIZE}, got ${limit}`);
  if (!Number.isSafeInteger(offset) || offset < 0)
    throw new RentlinkError('INVALID_INPUT', `offset must be a whole number from 0, got ${offset}`);
  return { limit, offset };
}

/** Charge rows for `ids`, in the order of `ids` (a page chosen by a cheaper query first). */
export function chargeRowsByIds(db: Db, ids: number[]): ChargeRow[] {
  if (ids.length === 0) return [];
  const byId = new Map(selectChargeRows(db, inArray(charges.id, ids)).map((row) => [row.id, row]));
  return ids.map((id) => byId.get(id)).filter((row): row is ChargeRow => row !== undefined);
}
