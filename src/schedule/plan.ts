import type { Db } from '../db/open.js';
import { asc, inArray } from 'drizzle-orm';
import { leases, type Lease } from '../db/schema.js';
import { toDecimalString } from '../money.js';
import { duePeriods } from '../time/periods.js';

/**
 * What a tick would bill, without billing it: for `tick --dry-run` and `import --dry-run`, so a first
 * run can be checked (charges per lease and period, totals per currency) before anything is sent.
 * Uses the tick's own rules (due dates, lead days, the catch-up window, paid_through).
 */

export interface PlannedCharge {
  lease: string;
  period: string;
  due: string;
  amount: string;
  amountMinor: number;
  currency: string;
  account: string;
  /** `new`: the tick would create it; `unsent`: it exists and its link would be sent now. */
  state: 'new' | 'unsent';
}

export interface CurrencyTotal {
  currency: string;
  charges: number;
  amount: string;
}

/** The charges the tick at `now` would create for these leases (those not charged already). */
export function plannedCharges(db: Db, leases: Lease[], now: number, catchUpPeriods: number, defaultAccount: string) {
  const charged = db.$client.prepare('SELECT 1 FROM charges WHERE lease_id = ? AND period = ?');
  const planned: PlannedCharge[] = [];
  for (const lease of leases) {
    if (lease.state !== 'active') continue;
    for (const due of duePeriods(lease, now, catchUpPeriods)) {
      if (charged.get(lease.id, due.period)) continue;
      planned.push(planRow(lease, due.period, due.dueDate, 'new', defaultAccount));
    }
  }
  return planned;
}

/** Charges that exist and would get their link sent at `now` (due and not sent yet), of active leases. */
export function unsentCharges(db: Db, now: number, defaultAccount: string): PlannedCharge[] {
  const rows = db.$client
    .prepare(
      `SELECT l.ref, l.account, c.period, c.due_date AS due, c.amount_minor AS amount, c.currency
       FROM charges c JOIN leases l ON l.id = c.lease_id
       WHERE c.next_send_at <= ? AND l.state = 'active' ORDER BY l.ref, c.period`,
    )
    .iterate(now) as Iterable<{
    ref: string;
    account: string | null;
    period: string;
    due: string;
    amount: number;
    currency: string;
  }>;
  const planned: PlannedCharge[] = [];
  for (const r of rows) {
    planned.push({
      lease: r.ref,
      period: r.period,
      due: r.due,
      amount: toDecimalString(r.amount, r.currency),
      amountMinor: r.amount,
      currency: r.currency,
      account: r.account ?? defaultAccount,
      state: 'unsent',
    });
  }
  return planned;
}

/** Leases the tick at `now` looks at (their next send instant has come). */
export function leasesDueAt(db: Db, now: number): Lease[] {
  const rows = db.$client
    .prepare(`SELECT id FROM leases WHERE state = 'active' AND next_send_at IS NOT NULL AND next_send_at <= ?`)
    .all(now) as Array<{ id: number }>;
  return leasesById(
    db,
    rows.map((r) => r.id),
  );
}

/** The leases with these refs. */
export function leasesByRef(db: Db, refs: string[]): Lease[] {
  const rows = db.$client
    .prepare(`SELECT id FROM leases WHERE ref IN (SELECT value FROM json_each(?))`)
    .all(JSON.stringify(refs)) as Array<{ id: number }>;
  return leasesById(
    db,
    rows.map((r) => r.id),
  );
}

function leasesById(db: Db, ids: number[]): Lease[] {
  if (ids.length === 0) return [];
  return db.select().from(leases).where(inArray(leases.id, ids)).orderBy(asc(leases.ref)).all();
}

/** Sums per currency, in minor units, as exact decimals. */
export function totalsByCurrency(rows: PlannedCharge[]): CurrencyTotal[] {
  const sums = new Map<string, { charges: number; minor: number }>();
  for (const row of rows) {
    const sum = sums.get(row.currency) ?? { charges: 0, minor: 0 };
    sum.charges++;
    sum.minor += row.amountMinor;
    sums.set(row.currency, sum);
  }
  return [...sums]
    .sort()
    .map(([currency, s]) => ({ currency, charges: s.charges, amount: toDecimalString(s.minor, currency) }));
}

function planRow(
  lease: Lease,
  period: string,
  due: string,
  state: PlannedCharge['state'],
  defaultAccount: string,
): PlannedCharge {
  return {
    lease: lease.ref,
    period,
    due,
    amount: toDecimalString(lease.amountMinor, lease.currency),
    amountMinor: lease.amountMinor,
    currency: lease.currency,
    account: lease.account ?? defaultAccount,
    state,
  };
}
