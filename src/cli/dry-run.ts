import { RentlinkError } from '../errors.js';
import type { Db } from '../db/open.js';
import { importLeases, type ImportSummary } from '../operations/import-leases.js';
import type { ContactRules } from '../operations/lease-rows.js';
import type { Clock } from '../time/clock.js';
import {
  leasesByRef,
  leasesDueAt,
  plannedCharges,
  totalsByCurrency,
  unsentCharges,
  type PlannedCharge,
} from '../schedule/plan.js';
import { printRows, type Output } from './shared.js';

/**
 * `tick --dry-run` and `import --dry-run`: what would be billed, and nothing written. A first run can
 * be checked before any link goes out (months already collected outside rentlink: `paid_through`).
 */

export interface DryRunContext {
  db: Db;
  clock: Clock;
  catchUpPeriods: number;
  defaultAccount: string;
}

/** The charges the tick at `now` would create, and the existing ones it would send a link for. */
export function dryRunTick(ctx: DryRunContext, output: Output): void {
  const now = ctx.clock.now();
  const planned = [
    ...plannedCharges(ctx.db, leasesDueAt(ctx.db, now), now, ctx.catchUpPeriods, ctx.defaultAccount),
    ...unsentCharges(ctx.db, now, ctx.defaultAccount),
  ];
  printPlan(planned, output, `dry run at ${new Date(now).toISOString()}: nothing was created or sent`);
}

/**
 * Imports the file inside a transaction that is rolled back: the same validation and the same counts
 * as a real import, then what the next tick would bill for its leases.
 */
export function dryRunImport(ctx: DryRunContext, text: string, rules: ContactRules, output: Output): ImportSummary {
  const now = ctx.clock.now();
  let summary: ImportSummary | null = null;
  let planned: PlannedCharge[] = [];
  try {
    ctx.db.transaction(() => {
      summary = importLeases(ctx.db, ctx.clock, text, rules);
      planned = plannedCharges(
        ctx.db,
        leasesByRef(ctx.db, summary.leases),
        now,
        ctx.catchUpPeriods,
        ctx.defaultAccount,
      );
      throw new RollBack();
    });
  } catch (err) {
    if (!(err instanceof RollBack)) throw err;
  }
  if (!summary) throw new RentlinkError('INVALID_STATE', 'dry run produced no summary');
  const s = summary as ImportSummary;
  process.stdout.write(`would import: ${s.created} created, ${s.updated} updated, ${s.unchanged} unchanged\n`);
  printPlan(planned, output, `dry run at ${new Date(now).toISOString()}: nothing was imported, created or sent`);
  return s;
}

class RollBack extends Error {}

function printPlan(planned: PlannedCharge[], output: Output, note: string): void {
  if (output.format === 'json') {
    process.stdout.write(`${JSON.stringify({ charges: planned, totals: totalsByCurrency(planned) }, null, 2)}\n`);
    return;
  }
  const rows = planned.map(({ amountMinor: _minor, ...row }) => row);
  printRows(rows, output, 'nothing would be billed now');
  if (output.format === 'csv') return;
  const totals = totalsByCurrency(planned).map((t) => `${t.amount} ${t.currency} (${t.charges})`);
  process.stdout.write(`${totals.length ? `\ntotal: ${totals.join(', ')}\n` : ''}${note}\n`);
}
