import { readFileSync } from 'node:fs';
import pino from 'pino';
import { FileClock, OffsetClock, systemClock, type Clock } from '../time/clock.js';
import { loadConfig, type Config } from '../config.js';
import { RentlinkError } from '../errors.js';
import { chooseLogFormat, createLogger, prettyDestination, type Logger } from '../logger.js';
import { StatusLine } from './progress.js';

/** What every command needs: validated config, a clock (honouring --now) and a logger on stderr. */
export interface CommandEnv {
  config: Config;
  clock: Clock;
  logger: Logger;
}

/**
 * Loads and validates every setting (before the command opens anything) and builds the clock and
 * logger. `now` is `--now`, already parsed to epoch ms by its option parser.
 */
export function commandEnv(options: { now?: number } = {}): CommandEnv {
  const config = loadConfig();
  const clock =
    options.now !== undefined
      ? new OffsetClock(options.now)
      : config.CLOCK_FILE
        ? new FileClock(config.CLOCK_FILE, (path) => readFileSync(path, 'utf8'))
        : systemClock;
  return { config, clock, logger: commandLogger(config) };
}

/** stderr is a terminal: pretty logs and progress lines are for a person there. */
export const stderrIsTerminal = process.stderr.isTTY === true;

/** The bottom line of the terminal, shared by the progress line and the logs written above it. */
export const stderrLine = new StatusLine(process.stderr);

/**
 * Logs go to stderr (stdout is for results): human lines on a terminal (coloured), JSON lines
 * otherwise; LOG_FORMAT=json or pretty forces one. Redaction applies to both.
 */
function commandLogger(config: Config): Logger {
  const format = chooseLogFormat(config.LOG_FORMAT, stderrIsTerminal);
  if (format === 'pretty')
    return createLogger(
      config.LOG_LEVEL,
      prettyDestination((text) => stderrLine.writeAbove(text), stderrIsTerminal),
    );
  if (stderrIsTerminal) return createLogger(config.LOG_LEVEL, { write: (line: string) => stderrLine.writeAbove(line) });
  return createLogger(config.LOG_LEVEL, pino.destination(2));
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

/**
 * Field names that hold an instant: `at`, `…At` (`createdAt`, `nextCheckAt`), `…AtProvider`, `…_at`.
 * Stored as epoch ms; printed as ISO-8601 UTC with `Z`.
 */
const INSTANT_KEY = /^at$|[a-z]At(?:[A-Z][a-z]+)?$|_at$/;

/** Anything before 1973 is a counter, not an epoch-ms instant. */
const EARLIEST_INSTANT_MS = 1e11;

/**
 * A copy of `value` with every epoch-ms instant field (see INSTANT_KEY), at any depth, as an ISO-8601
 * UTC string (`2026-12-11T20:59:59.000Z`): CLI output never shows a bare epoch number.
 */
export function withIsoInstants<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v: unknown) => withIsoInstants(v)) as T;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const isInstant = typeof v === 'number' && INSTANT_KEY.test(key) && Number.isFinite(v) && v >= EARLIEST_INSTANT_MS;
    out[key] = isInstant ? new Date(v).toISOString() : withIsoInstants(v);
  }
  return out as T;
}

/** Prints rows as an aligned table for people, JSON or CSV for scripts; instants as ISO-8601 UTC. */
export function printRows(
  records: Array<Record<string, unknown>>,
  output: OutputFormat | Output,
  empty = '(none)',
): void {
  const { format, bom } = typeof output === 'string' ? { format: output, bom: false } : output;
  const rows = withIsoInstants(records);
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
function csvCell(value: unknown): string {
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
