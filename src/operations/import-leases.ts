import { parse } from 'csv-parse/sync';
import { eq } from 'drizzle-orm';
import type { Clock } from '../time/clock.js';
import { recordEvent, type DbOrTx } from '../db/events.js';
import type { Db } from '../db/open.js';
import { leases, tenants } from '../db/schema.js';
import { RentlinkError } from '../errors.js';
import { LOOK_NOW } from '../db/leases.js';
import type { AccountRegistry } from '../providers/registry.js';
import {
  checkRow,
  LEASE_CSV_COLUMNS,
  REQUIRED_LEASE_COLUMNS,
  shown,
  type ContactRules,
  type ImportIssue,
  type LeaseCsvColumn,
  type LeaseRow,
} from './lease-rows.js';

export {
  LEASE_CSV_COLUMNS,
  type ContactRules,
  type ImportIssue,
  type LeaseCsvColumn,
  type LeaseRow,
} from './lease-rows.js';

/** The configured accounts' rules for a lease file: which accounts exist, and each provider's contact rules. */
export function contactRulesOf(registry: AccountRegistry): ContactRules {
  return {
    unknownAccount: (account) =>
      registry.has(account)
        ? null
        : `account "${account}" is not configured (configured: ${registry
            .all()
            .map((p) => p.account)
            .join(', ')}); leave it empty for the default account`,
    problems: (account, contact, channel, currency) =>
      registry.forLease(account).contactProblems(contact, channel, currency),
  };
}

export interface ImportSummary {
  created: number;
  updated: number;
  unchanged: number;
  /** The lease refs of the file, in file order. */
  leases: string[];
}

/** A lease file that failed validation; nothing was written. */
export class ImportError extends RentlinkError {
  readonly issues: ImportIssue[];

  constructor(issues: ImportIssue[], options?: { cause?: unknown }) {
    const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
    super('IMPORT_INVALID', `lease file has ${count}; nothing was imported:\n${formatImportIssues(issues)}`, options);
    this.name = 'ImportError';
    this.issues = issues;
  }
}

/** One line per issue: `line 4, field mobile: …`. */
export function formatImportIssues(issues: readonly ImportIssue[]): string {
  return issues.map((i) => `line ${i.line}, field ${i.field}: ${i.message}`).join('\n');
}

// ---------------------------------------------------------------------------------------------
// Reading the file.
// ---------------------------------------------------------------------------------------------

interface CsvRecord {
  fields: string[];
  line: number;
}

/** Records with the file line each starts on; a malformed file becomes one issue. */
function readRecords(text: string, issues: ImportIssue[]): CsvRecord[] {
  try {
    const parsed = parse(text, {
      bom: true,
      trim: true,
      skip_empty_lines: true,
      relax_column_count: true, // counted below, so the message can say which line and how many
      info: true,
    }) as unknown as { record: string[]; info: { lines: number } }[]; // `info: true` changes the shape
    // `lines` is where a record ends; a quoted field may span lines (CRLF, LF or a bare CR), so count
    // back to its start.
    return parsed.map(({ record, info }) => ({
      fields: record,
      line: info.lines - record.reduce((n, v) => n + (v.match(/\r\n|\r|\n/g)?.length ?? 0), 0),
    }));
  } catch (err) {
    const line = typeof (err as { lines?: unknown }).lines === 'number' ? (err as { lines: number }).lines : 1;
    issues.push({ line, field: 'file', message: `not readable as CSV: ${(err as Error).message}` });
    return [];
  }
}

/** Checks the header; returns the column order, or null when the file cannot be read against it. */
function checkHeader(header: CsvRecord | undefined, issues: ImportIssue[]): LeaseCsvColumn[] | null {
  const expected = LEASE_CSV_COLUMNS.join(',');
  if (!header) {
    issues.push({ line: 1, field: 'header', message: `the file is empty; it needs a header row: ${expected}` });
    return null;
  }
  const names = header.fields.map((name) => name.toLowerCase());
  const before = issues.length;
  names.forEach((name, i) => {
    if (!(LEASE_CSV_COLUMNS as readonly string[]).includes(name)) {
      issues.push({
        line: header.line,
        field: name || `column ${i + 1}`,
        message: `unknown column ${shown(name)}; the columns are: ${expected}`,
      });
    } else if (names.indexOf(name) !== i) {
      issues.push({ line: header.line, field: name, message: `column ${name} appears twice in the header` });
    }
  });
  for (const column of REQUIRED_LEASE_COLUMNS) {
    if (!names.includes(column))
      issues.push({ line: header.line, field: column, message: `column ${column} is missing from the header` });
  }
  return issues.length > before ? null : (names as LeaseCsvColumn[]);
}

/**
 * Reads and validates a lease file. Every problem of every row is collected; `rows` holds the rows
 * that passed, which is only meaningful when `errors` is empty. A bad header stops the row checks
 * (the rows cannot be read against it).
 */
export function parseLeasesCsv(text: string, rules: ContactRules): { rows: LeaseRow[]; errors: ImportIssue[] } {
  const errors: ImportIssue[] = [];
  const [header, ...records] = readRecords(text, errors);
  if (errors.length > 0) return { rows: [], errors };
  const columns = checkHeader(header, errors);
  if (!columns) return { rows: [], errors };

  const rows: LeaseRow[] = [];
  const firstLineOfRef = new Map<string, number>();
  for (const { fields, line } of records) {
    if (fields.every((v) => v === '')) continue; // spreadsheets export trailing ",,,," lines
    if (fields.length !== columns.length) {
      errors.push({
        line,
        field: 'row',
        message: `row has ${fields.length} values but the header has ${columns.length} columns`,
      });
      continue;
    }
    // Optional columns left out of the header read as empty.
    const raw = Object.fromEntries(
      LEASE_CSV_COLUMNS.map((c) => [c, columns.includes(c) ? (fields[columns.indexOf(c)] ?? '') : '']),
    ) as Record<LeaseCsvColumn, string>;
    const seenOn = firstLineOfRef.get(raw.lease_ref);
    if (raw.lease_ref !== '' && seenOn !== undefined) {
      errors.push({
        line,
        field: 'lease_ref',
        message: `lease_ref ${shown(raw.lease_ref)} already appears on line ${seenOn}`,
      });
    } else if (raw.lease_ref !== '') firstLineOfRef.set(raw.lease_ref, line);
    const row = checkRow(raw, line, errors, rules);
    if (row && seenOn === undefined) rows.push(row);
  }
  return { rows, errors: inFileOrder(errors) };
}

/** Issues by line, and within a line in column order (the cross-field checks run last). */
function inFileOrder(issues: ImportIssue[]): ImportIssue[] {
  const rank = (field: string) => (LEASE_CSV_COLUMNS as readonly string[]).indexOf(field);
  return issues.toSorted((a, b) => a.line - b.line || rank(a.field) - rank(b.field));
}

// ---------------------------------------------------------------------------------------------
// Writing.
// ---------------------------------------------------------------------------------------------

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

type Outcome = 'created' | 'updated' | 'unchanged';

function createLease(tx: DbOrTx, row: LeaseRow, now: number): Outcome {
  const tenant = tx
    .insert(tenants)
    .values({ ...tenantValues(row), createdAt: now, updatedAt: now })
    .returning({ id: tenants.id })
    .get();
  const values = leaseValues(row);
  const lease = tx
    .insert(leases)
    .values({ ref: row.ref, tenantId: tenant.id, ...values, nextSendAt: LOOK_NOW, createdAt: now, updatedAt: now })
    .returning({ id: leases.id })
    .get();
  // The schedule is logged; contact details live in the tenant row.
  recordEvent(tx, {
    at: now,
    type: 'lease.created',
    actor: 'import',
    leaseId: lease.id,
    details: { ref: row.ref, tenantId: tenant.id, line: row.line, ...values },
  });
  return 'created';
}

function updateLease(tx: DbOrTx, row: LeaseRow, now: number, existing: typeof leases.$inferSelect): Outcome {
  const tenant = tx.select().from(tenants).where(eq(tenants.id, existing.tenantId)).get();
  const tenantChanges = tenant ? diff(tenant, tenantValues(row)) : {};
  const leaseChanges = diff(existing, leaseValues(row));
  if (Object.keys(tenantChanges).length === 0 && Object.keys(leaseChanges).length === 0) return 'unchanged';
  if (Object.keys(tenantChanges).length > 0) {
    tx.update(tenants)
      .set({ ...tenantValues(row), updatedAt: now })
      .where(eq(tenants.id, existing.tenantId))
      .run();
  }
  if (Object.keys(leaseChanges).length > 0) {
    // The lease's state (active/paused/ended) belongs to the operator, not to the file. A new account
    // applies to links made from now on; a link already made stays with the account that made it.
    const rescheduled = SCHEDULE_FIELDS.some((field) => field in leaseChanges);
    tx.update(leases)
      .set({ ...leaseValues(row), ...(rescheduled ? { nextSendAt: LOOK_NOW } : {}), updatedAt: now })
      .where(eq(leases.id, existing.id))
      .run();
  }
  recordEvent(tx, {
    at: now,
    type: 'lease.updated',
    actor: 'import',
    leaseId: existing.id,
    details: { ref: row.ref, line: row.line, lease: leaseChanges, tenant: tenantChanges },
  });
  return 'updated';
}

/**
 * Imports a lease file: creates new leases (each with its tenant) and updates existing ones by
 * `lease_ref`, in one transaction with one event per created or changed lease. Throws `ImportError`
 * (code IMPORT_INVALID, with `issues`) and writes nothing when any row is invalid.
 */
export function importLeases(db: Db, clock: Clock, text: string, rules: ContactRules): ImportSummary {
  const { rows, errors } = parseLeasesCsv(text, rules);
  if (errors.length > 0) throw new ImportError(errors);
  const now = clock.now();
  const summary: ImportSummary = { created: 0, updated: 0, unchanged: 0, leases: [] };
  // IMMEDIATE takes the write lock up front: a deferred transaction that reads first could not
  // upgrade to a writer if another process wrote in between (SQLITE_BUSY without waiting).
  db.transaction(
    (tx) => {
      for (const row of rows) {
        const existing = tx.select().from(leases).where(eq(leases.ref, row.ref)).get();
        summary[existing ? updateLease(tx, row, now, existing) : createLease(tx, row, now)] += 1;
        summary.leases.push(row.ref);
      }
    },
    { behavior: 'immediate' },
  );
  return summary;
}
