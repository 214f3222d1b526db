import { InvalidArgumentError } from 'commander';
import { parseDuration } from '../config.js';
import { errorMessage, RentlinkError } from '../errors.js';
import { assertChargeStatus, assertPeriod, MAX_PAGE_SIZE, PAGE_SIZE } from '../operations/rows.js';
import { LEASE_STATES } from '../db/schema.js';
import { parseFormat, type OutputFormat } from './shared.js';

/**
 * Parsers for command-line options and arguments. Commander runs them while it parses the command
 * line, before any action opens SQLite or Redis, and reports a refusal naming the option
 * (`option '--max-wait <duration>' argument 'garbage' is invalid. …`); src/cli.ts exits 2.
 */

/** Wraps a check that throws (a RentlinkError, usually) into a commander argument parser. */
function argumentParser<T>(check: (value: string) => T): (value: string) => T {
  return (value) => {
    try {
      return check(value);
    } catch (err) {
      throw new InvalidArgumentError(errorMessage(err));
    }
  };
}

function invalid(message: string): never {
  throw new RentlinkError('INVALID_INPUT', message);
}

/** `--now`: an ISO-8601 instant → epoch ms. */
export const instantOption = argumentParser((value: string): number => {
  const ms = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : NaN;
  return Number.isFinite(ms) ? ms : invalid('expected an ISO-8601 instant, e.g. 2026-12-01T06:00:00Z');
});

/** `--max-wait`: a duration like `30s`, `10m`, `1h` → ms. */
export const durationOption = argumentParser((value: string): number => {
  const ms = parseDuration(value);
  return ms !== null && ms > 0 ? ms : invalid('expected a duration like 30s, 10m or 1h');
});

/** `--port`: 0–65535 (0: any free port). */
export const portOption = argumentParser((value: string): number => {
  const port = Number(value);
  return /^\d+$/.test(value) && port <= 65_535 ? port : invalid('expected a port number from 0 to 65535');
});

/** `--rate-limit`: a positive number. */
export const positiveNumberOption = argumentParser((value: string): number => {
  const n = Number(value);
  return value.trim() !== '' && Number.isFinite(n) && n > 0 ? n : invalid('expected a positive number, e.g. 2');
});

/** `--webhook-url`: an http(s) URL. */
export const httpUrlOption = argumentParser((value: string): string => {
  const ok = URL.canParse(value) && ['http:', 'https:'].includes(new URL(value).protocol);
  return ok ? value : invalid('expected an http:// or https:// URL');
});

/** `--format`: table, json or csv. */
export const formatOption = argumentParser((value: string): OutputFormat => parseFormat(value));

/** `--queue`: send or status. */
export const queueOption = argumentParser((value: string): 'send' | 'status' =>
  value === 'send' || value === 'status' ? value : invalid('expected send or status'),
);

/** `--period`: YYYY-MM. */
export const periodOption = argumentParser((value: string): string => assertPeriod(value));

/** `--status`: a charge status. */
export const chargeStatusOption = argumentParser((value: string): string => assertChargeStatus(value));

/** A charge id argument: a positive whole number. */
export const chargeIdArgument = argumentParser((value: string): number => {
  const id = Number(value);
  const ok = /^\d+$/.test(value) && Number.isSafeInteger(id) && id >= 1;
  return ok ? id : invalid(`a charge id is a positive whole number, got "${value}"`);
});

/** `--limit`: rows per page of a listing, 1 to MAX_PAGE_SIZE. */
export const limitOption = argumentParser((value: string): number => {
  const n = Number(value);
  return /^\d+$/.test(value) && n >= 1 && n <= MAX_PAGE_SIZE
    ? n
    : invalid(`expected a whole number from 1 to ${MAX_PAGE_SIZE}`);
});

/** `--offset`: rows of a listing to skip. */
export const offsetOption = argumentParser((value: string): number => {
  const n = Number(value);
  return /^\d+$/.test(value) && Number.isSafeInteger(n) ? n : invalid('expected a whole number from 0');
});

/** Help of `--limit` and `--offset`, the same on every listing. */
export const LIMIT_HELP = `rows per page, 1 to ${MAX_PAGE_SIZE} (default ${PAGE_SIZE})`;
export const OFFSET_HELP = 'rows to skip (default 0): --offset 50 is the second page';

/** `--state` of `leases list`: active, paused or ended. */
export const leaseStateOption = argumentParser((value: string): string =>
  (LEASE_STATES as readonly string[]).includes(value) ? value : invalid(`expected ${LEASE_STATES.join(', ')}`),
);
