import { parse } from 'csv-parse/sync';
import type { Clock } from '../time/clock.js';
import type { Db } from '../db/open.js';
import { RentlinkError } from '../errors.js';
import { shown } from './lease-fields.js';
import { writeLeaseRows, type ImportSummary } from './lease-writes.js';
import type { AccountRegistry } from '../providers/registry.js';
import {
  checkRow,
  LEASE_CSV_COLUMNS,
  REQUIRED_LEASE_COLUMNS,
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

export type { ImportSummary } from './lease-writes.js';

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

/**
 * Hands each record, with the file line it starts on, to `onRecord` as the parser reaches it (100,000
 * rows are never held twice: no array of records with their parse info). Returns the one issue of a
 * malformed file, or null.
 */
function readRecords(text: string, onRecord: (record: CsvRecord) => void): ImportIssue | null {
  try {
    parse(text, {
      bom: true,
      trim: true,
      skip_empty_lines: true,
      relax_column_count: true, // counted below, so the message can say which line and how many
      on_record: (record: string[], info: { lines: number }) => {
        // `lines` is where a record ends; a quoted field may span lines (CRLF, LF or a bare CR), so
        // count back to its start.
        const line = info.lines - record.reduce((n, v) => n + (v.match(/\r\n|\r|\n/g)?.length ?? 0), 0);
        onRecord({ fields: record, line });
        return null; // nothing kept by the parser
      },
    });
    return null;
  } catch (err) {
    const line = typeof (err as { lines?: unknown }).lines === 'number' ? (err as { lines: number }).lines : 1;
    return { line, field: 'file', message: `not readable as CSV: ${(err as Error).message}` };
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
 * (the rows cannot be read against it); a file that is not readable as CSV is that one problem.
 */
export function parseLeasesCsv(text: string, rules: ContactRules): { rows: LeaseRow[]; errors: ImportIssue[] } {
  const errors: ImportIssue[] = [];
  const rows: LeaseRow[] = [];
  // The first record is the header; `columns` stays null when it is bad (the rows cannot be read).
  const file: { header?: { columns: LeaseCsvColumn[] | null } } = {};
  const firstLineOfRef = new Map<string, number>();
  const unreadable = readRecords(text, (record) => {
    if (!file.header) file.header = { columns: checkHeader(record, errors) };
    else if (file.header.columns) checkRecord(record, file.header.columns, { rows, errors, firstLineOfRef, rules });
  });
  if (unreadable) return { rows: [], errors: [unreadable] };
  if (!file.header) checkHeader(undefined, errors);
  if (!file.header?.columns) return { rows: [], errors };
  return { rows, errors: inFileOrder(errors) };
}

interface RowChecks {
  rows: LeaseRow[];
  errors: ImportIssue[];
  firstLineOfRef: Map<string, number>;
  rules: ContactRules;
}

/** Where each column of LEASE_CSV_COLUMNS sits in a header's order (-1: left out), computed once per file. */
const positionsCache = new WeakMap<LeaseCsvColumn[], number[]>();

function positionsOf(columns: LeaseCsvColumn[]): number[] {
  let positions = positionsCache.get(columns);
  if (!positions) {
    positions = LEASE_CSV_COLUMNS.map((c) => columns.indexOf(c));
    positionsCache.set(columns, positions);
  }
  return positions;
}

/** Checks one data record against the header; a valid, first-seen ref becomes a row. */
function checkRecord({ fields, line }: CsvRecord, columns: LeaseCsvColumn[], checks: RowChecks): void {
  const { errors, firstLineOfRef } = checks;
  if (fields.every((v) => v === '')) return; // spreadsheets export trailing ",,,," lines
  if (fields.length !== columns.length) {
    errors.push({
      line,
      field: 'row',
      message: `row has ${fields.length} values but the header has ${columns.length} columns`,
    });
    return;
  }
  // Optional columns left out of the header read as empty.
  const positions = positionsOf(columns);
  const raw = {} as Record<LeaseCsvColumn, string>;
  LEASE_CSV_COLUMNS.forEach((c, i) => {
    const at = positions[i] ?? -1;
    raw[c] = at === -1 ? '' : (fields[at] ?? '');
  });
  const seenOn = firstLineOfRef.get(raw.lease_ref);
  if (raw.lease_ref !== '' && seenOn !== undefined) {
    errors.push({
      line,
      field: 'lease_ref',
      message: `lease_ref ${shown(raw.lease_ref)} already appears on line ${seenOn}`,
    });
  } else if (raw.lease_ref !== '') firstLineOfRef.set(raw.lease_ref, line);
  const row = checkRow(raw, line, errors, checks.rules);
  if (row && seenOn === undefined) checks.rows.push(row);
}

/** Issues by line, and within a line in column order (the cross-field checks run last). */
function inFileOrder(issues: ImportIssue[]): ImportIssue[] {
  const rank = (field: string) => (LEASE_CSV_COLUMNS as readonly string[]).indexOf(field);
  return issues.toSorted((a, b) => a.line - b.line || rank(a.field) - rank(b.field));
}

/**
 * Imports a lease file: creates new leases (each with its tenant) and updates existing ones by
 * `lease_ref`, with one event per created or changed lease. The whole file is validated first: when
 * any row is invalid it throws `ImportError` (code IMPORT_INVALID, with `issues`) and writes nothing.
 * Valid rows are written in short transactions of a few thousand (lease-writes.ts), so a large file
 * never holds the write lock long enough to stall other processes; an interrupted import is finished
 * by running it again (rows already written are unchanged).
 */
export function importLeases(db: Db, clock: Clock, text: string, rules: ContactRules): ImportSummary {
  const { rows, errors } = parseLeasesCsv(text, rules);
  if (errors.length > 0) throw new ImportError(errors);
  return writeLeaseRows(db, rows, clock.now());
}
