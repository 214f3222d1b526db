import pino from 'pino';
import { readFileSync } from 'node:fs';
import { FileClock, OffsetClock, systemClock, type Clock } from '../time/clock.js';
import { loadConfig, type Config } from '../config.js';
import { RentlinkError } from '../errors.js';
import { createLogger, type Logger } from '../logger.js';

/** What every command needs: validated config, a clock (honouring --now) and a logger on stderr. */
export interface CommandEnv {
  config: Config;
  clock: Clock;
  logger: Logger;
}

export function commandEnv(options: { now?: string } = {}): CommandEnv {
  const config = loadConfig();
  const clock = options.now
    ? new OffsetClock(parseNow(options.now))
    : config.CLOCK_FILE
      ? new FileClock(config.CLOCK_FILE, (path) => readFileSync(path, 'utf8'))
      : systemClock;
  // stdout is for results (tables, JSON); logs go to stderr.
  const logger = createLogger(config.LOG_LEVEL, pino.destination(2));
  return { config, clock, logger };
}

function parseNow(value: string): number {
  const ms = Date.parse(value);
  if (!Number.isFinite(ms))
    throw new RentlinkError('INVALID_INPUT', `--now "${value}" is not an ISO-8601 instant (e.g. 2026-12-01T06:00:00Z)`);
  return ms;
}

export type OutputFormat = 'table' | 'json' | 'csv';

/** How a listing is printed: the format and, for CSV, whether a UTF-8 byte-order mark goes first. */
export interface Output {
  format: OutputFormat;
  bom: boolean;
}

/** The help text of `--bom`, offered by every command that takes `--format`. */
export const BOM_OPTION_HELP = 'with --format csv: start with a UTF-8 byte-order mark (for Excel and Arabic names)';

const UTF8_BOM = '\uFEFF';

export function parseFormat(value: string): OutputFormat {
  if (value === 'table' || value === 'json' || value === 'csv') return value;
  throw new RentlinkError('INVALID_INPUT', `--format must be table, json or csv, got "${value}"`);
}

/** `--format` and `--bom` together; a BOM only makes sense in front of CSV (it would break JSON). */
export function parseOutput(opts: { format: string; bom?: boolean }): Output {
  const format = parseFormat(opts.format);
  if (opts.bom === true && format !== 'csv')
    throw new RentlinkError('INVALID_INPUT', `--bom only applies to --format csv, not ${format}`);
  return { format, bom: opts.bom === true };
}

/** Prints rows as an aligned table for people, JSON or CSV for scripts. */
export function printRows(rows: Array<Record<string, unknown>>, output: OutputFormat | Output, empty = '(none)'): void {
  const { format, bom } = typeof output === 'string' ? { format: output, bom: false } : output;
  if (format === 'json') {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  const first = rows[0];
  if (!first) {
    if (format === 'table') process.stdout.write(`${empty}\n`);
    return;
  }
  const columns = Object.keys(first);
  if (format === 'csv') {
    const lines = [columns, ...rows.map((r) => columns.map((c) => r[c]))].map((cells) => cells.map(csvCell).join(','));
    process.stdout.write(`${bom ? UTF8_BOM : ''}${lines.join('\n')}\n`);
    return;
  }
  const cells = rows.map((r) => columns.map((c) => text(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => displayWidth(row[i] ?? ''))));
  const line = (values: string[]) =>
    values
      .map((v, i) => v + ' '.repeat(Math.max(0, (widths[i] ?? 0) - displayWidth(v))))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${[line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n')}\n`);
}

/** A value as one table cell or detail line: empty for null, JSON for objects. */
export function text(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/**
 * One CSV field. Text a spreadsheet would run as a formula (OWASP's CSV-injection rule: it starts with
 * `=`, `+`, `-`, `@`, a tab or a CR) gets a leading `'`, which shows as text; then a field holding
 * a quote, comma, CR or LF is quoted. Numbers stay numbers: `-5` is not a formula.
 */
export function csvCell(value: unknown): string {
  const cell = typeof value === 'number' || typeof value === 'bigint' ? String(value) : neutraliseFormula(text(value));
  return /[",\r\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell;
}

function neutraliseFormula(cell: string): string {
  return /^[=+\-@\t\r]/.test(cell) ? `'${cell}` : cell;
}

// Arabic combining marks take no column; good enough alignment for names in a terminal.
function displayWidth(s: string): number {
  return [...s.replace(/[\u064B-\u065F\u0670]/g, '')].length;
}
