import { and, asc, eq, gte, lte, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/open.js';
import { charges } from '../db/schema.js';
import { RentlinkError } from '../errors.js';
import { toDecimalString } from '../money.js';
import { addMonths } from '../time/periods.js';
import { assertPeriod, selectChargeRows } from './rows.js';

/**
 * Collection reports. Every sum is SQLite's SUM over integer minor units (exact: SQLite sums integers
 * as 64-bit integers and never goes through floating point), grouped per period AND currency — amounts
 * in different currencies are never added together.
 */

/** One period and currency of the collection report. */
export interface ReportRow {
  period: string;
  currency: string;
  /** All charges of the period, void included. */
  charges: number;
  paidCount: number;
  /** Decimal, e.g. "1976.256". */
  paidAmount: string;
  paidMinor: number;
  /** Sum of the non-void charges: what was owed. */
  totalMinor: number;
  totalAmount: string;
  /** Scheduled or invoiced: still collectable. */
  open: number;
  openMinor: number;
  expired: number;
  expiredMinor: number;
  failed: number;
  failedMinor: number;
  void: number;
  /** paidMinor / totalMinor, 0..1, 4 decimals; 0 when nothing is owed. */
  collectionRate: number;
}

const sumWhere = (condition: SQL) =>
  sql<number>`COALESCE(SUM(CASE WHEN ${condition} THEN ${charges.amountMinor} ELSE 0 END), 0)`;
const countWhere = (condition: SQL) => sql<number>`COALESCE(SUM(CASE WHEN ${condition} THEN 1 ELSE 0 END), 0)`;
const isOpen = sql`${charges.status} IN ('scheduled', 'invoiced')`;
const is = (status: string) => sql`${charges.status} = ${status}`;

/** One row per period and currency (oldest period first), optionally for one period. */
export function collectionReport(db: Db, opts: { period?: string } = {}): ReportRow[] {
  const where = opts.period !== undefined ? eq(charges.period, assertPeriod(opts.period)) : undefined;
  const rows = db
    .select({
      period: charges.period,
      currency: charges.currency,
      charges: sql<number>`COUNT(*)`,
      paidCount: countWhere(is('paid')),
      paidMinor: sumWhere(is('paid')),
      totalMinor: sumWhere(sql`${charges.status} <> 'void'`),
      open: countWhere(isOpen),
      openMinor: sumWhere(isOpen),
      expired: countWhere(is('expired')),
      expiredMinor: sumWhere(is('expired')),
      failed: countWhere(is('failed')),
      failedMinor: sumWhere(is('failed')),
      void: countWhere(is('void')),
    })
    .from(charges)
    .where(where)
    .groupBy(charges.period, charges.currency)
    .orderBy(asc(charges.period), asc(charges.currency))
    .all();
  return rows.map((r) => ({
    period: r.period,
    currency: r.currency,
    charges: r.charges,
    paidCount: r.paidCount,
    paidAmount: toDecimalString(r.paidMinor, r.currency),
    paidMinor: r.paidMinor,
    totalMinor: r.totalMinor,
    totalAmount: toDecimalString(r.totalMinor, r.currency),
    open: r.open,
    openMinor: r.openMinor,
    expired: r.expired,
    expiredMinor: r.expiredMinor,
    failed: r.failed,
    failedMinor: r.failedMinor,
    void: r.void,
    collectionRate: rate(r.paidMinor, r.totalMinor),
  }));
}

/** A ratio, not money: rounding a float here is fine. */
function rate(paid: number, total: number): number {
  return total > 0 ? Math.round((paid / total) * 10_000) / 10_000 : 0;
}

/** One line per charge, flat, for `report --format csv` (spreadsheets, accounting). */
export interface ChargeLine {
  period: string;
  leaseRef: string;
  tenantName: string;
  unit: string;
  dueDate: string;
  currency: string;
  amount: string;
  amountMinor: number;
  status: string;
  statusReason: string;
  paidAt: string;
  paymentId: string;
  reissueCount: number;
  chargeId: number;
}

/** Every charge (of one period, when given), oldest period first, by lease. */
export function chargeLines(db: Db, opts: { period?: string } = {}): ChargeLine[] {
  const where = opts.period !== undefined ? eq(charges.period, assertPeriod(opts.period)) : undefined;
  return selectChargeRows(db, where, 'oldest-first').map((c) => ({
    period: c.period,
    leaseRef: c.leaseRef,
    tenantName: c.tenantName,
    unit: c.unit,
    dueDate: c.dueDate,
    currency: c.currency,
    amount: c.amount,
    amountMinor: c.amountMinor,
    status: c.status,
    statusReason: c.statusReason ?? '',
    paidAt: c.paidAt ?? '',
    paymentId: c.paymentId ?? '',
    reissueCount: c.reissueCount,
    chargeId: c.id,
  }));
}

export interface SeriesPoint {
  period: string;
  currency: string;
  paidMinor: number;
  openMinor: number;
  expiredMinor: number;
  failedMinor: number;
}

/**
 * The last `periods` periods up to `until` (inclusive), oldest first, per currency, with missing
 * periods as zeros: the dashboard's chart. Currencies are those with charges in the window (or, when
 * the window is empty, any currency rentlink has charges in, so the chart still has axes).
 */
export function periodSeries(db: Db, opts: { periods: number; until: string }): SeriesPoint[] {
  if (!Number.isInteger(opts.periods) || opts.periods < 1 || opts.periods > 240) {
    throw new RentlinkError('INVALID_INPUT', `periods must be a whole number from 1 to 240, got ${opts.periods}`);
  }
  const until = assertPeriod(opts.until);
  const from = addMonths(until, -(opts.periods - 1));
  const sums = db
    .select({
      period: charges.period,
      currency: charges.currency,
      paidMinor: sumWhere(is('paid')),
      openMinor: sumWhere(isOpen),
      expiredMinor: sumWhere(is('expired')),
      failedMinor: sumWhere(is('failed')),
    })
    .from(charges)
    .where(and(gte(charges.period, from), lte(charges.period, until)))
    .groupBy(charges.period, charges.currency)
    .all();
  const byKey = new Map(sums.map((s) => [`${s.period}|${s.currency}`, s]));
  const currencies = [...new Set(sums.map((s) => s.currency))].sort();
  if (currencies.length === 0) {
    currencies.push(
      ...db
        .selectDistinct({ currency: charges.currency })
        .from(charges)
        .orderBy(asc(charges.currency))
        .all()
        .map((c) => c.currency),
    );
  }
  const points: SeriesPoint[] = [];
  for (const currency of currencies) {
    for (let i = 0; i < opts.periods; i++) {
      const period = addMonths(from, i);
      const s = byKey.get(`${period}|${currency}`);
      points.push({
        period,
        currency,
        paidMinor: s?.paidMinor ?? 0,
        openMinor: s?.openMinor ?? 0,
        expiredMinor: s?.expiredMinor ?? 0,
        failedMinor: s?.failedMinor ?? 0,
      });
    }
  }
  return points;
}
