import { recordEvents, type NewEvent } from '../db/events.js';
import { LOOK_NOW } from '../db/leases.js';
import type { Db } from '../db/open.js';
import { prepared } from '../db/prepared.js';
import type { LeaseRow } from './lease-rows.js';

/**
 * Writing validated lease rows: new leases with their tenants, changed ones updated, one event per
 * created or changed lease. Plain prepared statements (the query builder cost most of a 100,000-row
 * import), events in bulk, and one short IMMEDIATE transaction per BATCH rows.
 */

export interface ImportSummary {
  created: number;
  updated: number;
  unchanged: number;
  /** The lease refs of the file, in file order. */
  leases: string[];
}

/** Rows per transaction: the write lock is held for tens of milliseconds, never seconds. */
const BATCH = 2000;

function tenantValues(row: LeaseRow) {
  return {
    name: row.tenantName,
    email: row.email,
    mobile: row.mobile,
    mobileCountryCode: row.mobileCountryCode,
    language: row.language,
  };
}

function leaseValues(row: LeaseRow) {
  return {
    unit: row.unit,
    amountMinor: row.amountMinor,
    currency: row.currency,
    dueDay: row.dueDay,
    leadDays: row.leadDays,
    validDays: row.validDays,
    timezone: row.timezone,
    channel: row.channel,
    maxReissues: row.maxReissues,
    startsOn: row.startsOn,
    endsOn: row.endsOn,
    account: row.account,
    paidThrough: row.paidThrough,
  };
}

type LeaseValues = ReturnType<typeof leaseValues>;
type TenantValues = ReturnType<typeof tenantValues>;

/** A change to any of these moves the lease's billing schedule: the tick looks at it again at once. */
const SCHEDULE_FIELDS = ['dueDay', 'leadDays', 'timezone', 'startsOn', 'endsOn', 'paidThrough'] as const;

type Changes = Record<string, { from: unknown; to: unknown }>;

/** The fields of `next` whose value differs from `current`. */
function diff<T extends Record<string, unknown>>(current: Record<string, unknown>, next: T): Changes {
  const changes: Changes = {};
  for (const [key, to] of Object.entries(next)) {
    if (current[key] !== to) changes[key] = { from: current[key], to };
  }
  return changes;
}

// Column aliases give the rows the property names of the schema's types, so `diff` compares like with like.
const SQL = {
  leases: `SELECT ref, id, tenant_id AS tenantId, unit, amount_minor AS amountMinor, currency, due_day AS dueDay,
    lead_days AS leadDays, valid_days AS validDays, timezone, channel, max_reissues AS maxReissues,
    starts_on AS startsOn, ends_on AS endsOn, account, paid_through AS paidThrough
    FROM leases WHERE ref IN (SELECT value FROM json_each(?))`,
  tenant: `SELECT name, email, mobile, mobile_country_code AS mobileCountryCode, language FROM tenants WHERE id = ?`,
  insertTenant: `INSERT INTO tenants (name, email, mobile, mobile_country_code, language, created_at, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?)`,
  insertLease: `INSERT INTO leases (ref, tenant_id, unit, amount_minor, currency, due_day, lead_days, valid_days,
    timezone, channel, max_reissues, starts_on, ends_on, account, paid_through, next_send_at, created_at, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  updateTenant: `UPDATE tenants SET name = ?, email = ?, mobile = ?, mobile_country_code = ?, language = ?,
    updated_at = ? WHERE id = ?`,
  updateLease: `UPDATE leases SET unit = ?, amount_minor = ?, currency = ?, due_day = ?, lead_days = ?,
    valid_days = ?, timezone = ?, channel = ?, max_reissues = ?, starts_on = ?, ends_on = ?, account = ?,
    paid_through = ?, next_send_at = CASE WHEN ? THEN ? ELSE next_send_at END, updated_at = ? WHERE id = ?`,
} as const;

type ExistingLease = LeaseValues & { id: number; tenantId: number };
type Outcome = 'created' | 'updated' | 'unchanged';

const leaseParams = (v: LeaseValues) => [
  v.unit,
  v.amountMinor,
  v.currency,
  v.dueDay,
  v.leadDays,
  v.validDays,
  v.timezone,
  v.channel,
  v.maxReissues,
  v.startsOn,
  v.endsOn,
  v.account,
  v.paidThrough,
];

const tenantParams = (v: TenantValues) => [v.name, v.email, v.mobile, v.mobileCountryCode, v.language];

function createLease(db: Db, row: LeaseRow, now: number, out: NewEvent[]): Outcome {
  const sqlite = db.$client;
  const tenantId = Number(
    prepared(sqlite, SQL.insertTenant).run(...tenantParams(tenantValues(row)), now, now).lastInsertRowid,
  );
  const values = leaseValues(row);
  const leaseId = Number(
    prepared(sqlite, SQL.insertLease).run(row.ref, tenantId, ...leaseParams(values), LOOK_NOW, now, now)
      .lastInsertRowid,
  );
  // The schedule is logged; contact details live in the tenant row.
  out.push({
    at: now,
    type: 'lease.created',
    actor: 'import',
    leaseId,
    details: { ref: row.ref, tenantId, line: row.line, ...values },
  });
  return 'created';
}

function updateLease(db: Db, row: LeaseRow, now: number, existing: ExistingLease, out: NewEvent[]): Outcome {
  const sqlite = db.$client;
  const tenant = prepared(sqlite, SQL.tenant).get(existing.tenantId) as TenantValues | undefined;
  const tenantChanges = tenant ? diff(tenant, tenantValues(row)) : {};
  const leaseChanges = diff(existing, leaseValues(row));
  if (Object.keys(tenantChanges).length === 0 && Object.keys(leaseChanges).length === 0) return 'unchanged';
  if (Object.keys(tenantChanges).length > 0) {
    prepared(sqlite, SQL.updateTenant).run(...tenantParams(tenantValues(row)), now, existing.tenantId);
  }
  if (Object.keys(leaseChanges).length > 0) {
    // The lease's state (active/paused/ended) belongs to the operator, not to the file. A new account
    // applies to links made from now on; a link already made stays with the account that made it.
    const rescheduled = SCHEDULE_FIELDS.some((field) => field in leaseChanges);
    prepared(sqlite, SQL.updateLease).run(
      ...leaseParams(leaseValues(row)),
      rescheduled ? 1 : 0,
      LOOK_NOW,
      now,
      existing.id,
    );
  }
  out.push({
    at: now,
    type: 'lease.updated',
    actor: 'import',
    leaseId: existing.id,
    details: { ref: row.ref, line: row.line, lease: leaseChanges, tenant: tenantChanges },
  });
  return 'updated';
}

/**
 * Writes validated rows: a new `lease_ref` creates a lease and its tenant, a known one is updated where
 * it differs. IMMEDIATE transactions take the write lock up front: a deferred one that reads first could
 * not upgrade to a writer if another process wrote in between (SQLITE_BUSY without waiting).
 */
export function writeLeaseRows(db: Db, rows: readonly LeaseRow[], now: number): ImportSummary {
  const summary: ImportSummary = { created: 0, updated: 0, unchanged: 0, leases: [] };
  const writeBatch = db.$client.transaction((batch: readonly LeaseRow[]) => {
    const events: NewEvent[] = [];
    // The batch's known leases in one indexed query (a first import finds none).
    const known = prepared(db.$client, SQL.leases).all(JSON.stringify(batch.map((r) => r.ref))) as Array<
      ExistingLease & { ref: string }
    >;
    const byRef = new Map(known.map((lease) => [lease.ref, lease]));
    for (const row of batch) {
      const existing = byRef.get(row.ref);
      summary[existing ? updateLease(db, row, now, existing, events) : createLease(db, row, now, events)] += 1;
      summary.leases.push(row.ref);
    }
    recordEvents(db.$client, events);
  });
  for (let i = 0; i < rows.length; i += BATCH) writeBatch.immediate(rows.slice(i, i + BATCH));
  return summary;
}
