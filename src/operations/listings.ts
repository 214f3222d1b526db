import type { Db } from '../db/open.js';
import { prepared } from '../db/prepared.js';
import { instantToZonedParts } from '../time/periods.js';
import {
  assertChargeStatus,
  assertPeriod,
  chargeRowsByIds,
  DOUBLE_PAID,
  leaseNotFound,
  pageOf,
  type ChargeRow,
  type Page,
  type PageRequest,
} from './rows.js';

/**
 * The operator's charge lists at any size: a page is chosen by a query over indexed columns that
 * returns ids only, then just those rows are read with their lease, tenant and latest link. Counts come
 * from the same WHERE. Nothing loads every charge.
 */

export interface ChargeFilter {
  /** `YYYY-MM`. */
  period?: string;
  /** One of CHARGE_STATUSES, or `double-paid`. */
  status?: string;
  leaseRef?: string;
  /** The lease's account (`default` matches leases that name none). */
  account?: string;
  /** The name of the default account, for `account` (default: `default`). */
  defaultAccount?: string;
}

interface Where {
  sql: string;
  params: unknown[];
}

function chargeWhere(db: Db, filter: ChargeFilter): Where {
  const conditions: string[] = [];
  const params: unknown[] = [];
  if (filter.period !== undefined) {
    conditions.push('c.period = ?');
    params.push(assertPeriod(filter.period));
  }
  if (filter.status !== undefined) {
    const status = assertChargeStatus(filter.status);
    if (status === DOUBLE_PAID) conditions.push('c.extra_payments > 0');
    else {
      conditions.push('c.status = ?');
      params.push(status);
    }
  }
  if (filter.leaseRef !== undefined) {
    // An unknown ref is almost always a typo: say so instead of printing an empty list.
    const lease = prepared(db.$client, 'SELECT id FROM leases WHERE ref = ?').get(filter.leaseRef) as
      { id: number } | undefined;
    if (!lease) throw leaseNotFound(filter.leaseRef);
    conditions.push('c.lease_id = ?');
    params.push(lease.id);
  }
  if (filter.account !== undefined) {
    conditions.push('COALESCE(l.account, ?) = ?');
    params.push(filter.defaultAccount ?? 'default', filter.account.toLowerCase());
  }
  return { sql: conditions.length ? `WHERE ${conditions.join(' AND ')}` : '', params };
}

/** Charges matching the filter, newest period first (then by lease ref), one page. */
export function chargesPage(db: Db, filter: ChargeFilter = {}, request: PageRequest = {}): Page<ChargeRow> {
  const { limit, offset } = pageOf(request);
  const where = chargeWhere(db, filter);
  const from = `FROM charges c JOIN leases l ON l.id = c.lease_id ${where.sql}`;
  const ids = prepared(db.$client, `SELECT c.id ${from} ORDER BY c.period DESC, l.ref, c.id LIMIT ? OFFSET ?`)
    .pluck()
    .all(...where.params, limit, offset) as number[];
  const total = prepared(db.$client, `SELECT COUNT(*) ${from}`)
    .pluck()
    .get(...where.params) as number;
  return { rows: chargeRowsByIds(db, ids), total, limit, offset };
}

/** One page (default the first 50) of {@link chargesPage}'s rows. Throws on a bad filter or an unknown lease. */
export function listCharges(db: Db, filter: ChargeFilter & PageRequest = {}): ChargeRow[] {
  return chargesPage(db, filter, filter).rows;
}

/** How many charges need attention, by reason. */
export interface AttentionCounts {
  doublePaid: number;
  failed: number;
  expired: number;
  overdue: number;
}

const NEEDS_REVIEW = 'c.extra_payments > 0 AND c.extra_reviewed_at IS NULL';

// Rank 0: money received twice and not settled; 1 failed; 2 expired; 3 open after its due date, where
// "after" is local: a due date before today in the lease's zone (zones: JSON [[zone, today], …]).
// Each arm reads an index (charges_extra_payments, charges_status_due); the overdue arm is bounded by
// the latest "today" of any zone, then checked against the lease's own zone.
const ATTENTION = `WITH zones(tz, today) AS (
    SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?)),
  attention(id, rank, due_date) AS (
    SELECT c.id, 0, c.due_date FROM charges c WHERE ${NEEDS_REVIEW}
    UNION ALL SELECT c.id, 1, c.due_date FROM charges c WHERE c.status = 'failed' AND NOT (${NEEDS_REVIEW})
    UNION ALL SELECT c.id, 2, c.due_date FROM charges c WHERE c.status = 'expired' AND NOT (${NEEDS_REVIEW})
    UNION ALL SELECT c.id, 3, c.due_date FROM charges c
      JOIN leases l ON l.id = c.lease_id JOIN zones z ON z.tz = l.timezone
      WHERE c.status IN ('scheduled', 'invoiced') AND c.due_date < ? AND c.due_date < z.today
        AND NOT (${NEEDS_REVIEW}))`;

function attentionParams(db: Db, now: number): [string, string] {
  const zones = prepared(db.$client, 'SELECT DISTINCT timezone FROM leases').pluck().all() as string[];
  const today = zones.map((tz) => [tz, instantToZonedParts(now, tz).date] as const);
  const latest = today.reduce((max, [, date]) => (date > max ? date : max), '0000-00-00');
  return [JSON.stringify(today), latest];
}

/**
 * What the operator should look at, one page: money received twice and not yet settled, failed
 * charges (with their reason), expired ones, and charges still scheduled/invoiced after their due date
 * (a local date, compared with today in the lease's zone); in that order, then by due date.
 */
export function attentionPage(
  db: Db,
  now: number,
  request: PageRequest = {},
): Page<ChargeRow> & { counts: AttentionCounts } {
  const { limit, offset } = pageOf(request);
  const params = attentionParams(db, now);
  const ids = prepared(db.$client, `${ATTENTION} SELECT id FROM attention ORDER BY rank, due_date, id LIMIT ? OFFSET ?`)
    .pluck()
    .all(...params, limit, offset) as number[];
  const byRank = prepared(db.$client, `${ATTENTION} SELECT rank, COUNT(*) AS n FROM attention GROUP BY rank`).all(
    ...params,
  ) as Array<{ rank: number; n: number }>;
  const count = (rank: number) => byRank.find((r) => r.rank === rank)?.n ?? 0;
  const counts = { doublePaid: count(0), failed: count(1), expired: count(2), overdue: count(3) };
  const total = counts.doublePaid + counts.failed + counts.expired + counts.overdue;
  return { rows: chargeRowsByIds(db, ids), total, limit, offset, counts };
}

/** One page (default the first 50) of {@link attentionPage}'s rows. */
export function chargesNeedingAttention(db: Db, now: number, request: PageRequest = {}): ChargeRow[] {
  return attentionPage(db, now, request).rows;
}

/** Whether the period has any charge (the dashboard's choice of period), from the period index. */
export function periodHasCharges(db: Db, period: string): boolean {
  return prepared(db.$client, 'SELECT EXISTS (SELECT 1 FROM charges WHERE period = ?)').pluck().get(period) === 1;
}
