import type { Command } from 'commander';
import { leasesPage, setLeaseState, showLease } from '../operations/leases.js';
import { chargeLines, collectionReport } from '../operations/report.js';
import { leaseNotFound, PAGE_SIZE } from '../operations/rows.js';
import {
  formatOption,
  LIMIT_HELP,
  limitOption,
  leaseStateOption,
  OFFSET_HELP,
  offsetOption,
  periodOption,
} from './options.js';
import { BOM_OPTION_HELP, parseOutput, printRows, type OutputFormat } from './shared.js';
import { notePage, printDetail, withDb } from './admin-shared.js';

/** `leases …` (list, ledger, pause/resume) and `report`: all SQLite only. */

export function registerLeaseCommands(program: Command): void {
  const leases = program.command('leases').description("leases: list, show a tenant's ledger, pause or resume");

  leases
    .command('list')
    .description(`leases by ref with tenant, rent, state and charge counts, ${PAGE_SIZE} at a time (--limit, --offset)`)
    .option('--account <name>', 'only leases of this account (default: the leases that name none)')
    .option('--state <state>', 'active, paused or ended', leaseStateOption)
    .option('--limit <n>', LIMIT_HELP, limitOption)
    .option('--offset <n>', OFFSET_HELP, offsetOption)
    .option('--format <format>', 'table, json or csv', formatOption, 'table' as OutputFormat)
    .option('--bom', BOM_OPTION_HELP)
    .action(
      (opts: {
        account?: string;
        state?: string;
        limit?: number;
        offset?: number;
        format: OutputFormat;
        bom?: boolean;
      }) =>
        withDb(({ db, registry }) => {
          const output = parseOutput(opts);
          const filter = { account: opts.account, state: opts.state, defaultAccount: registry.defaultAccount.account };
          const page = leasesPage(db, filter, { limit: opts.limit, offset: opts.offset });
          const rows = page.rows;
          printRows(
            output.format === 'table'
              ? rows.map((l) => ({
                  ref: l.ref,
                  tenant: l.tenantName,
                  unit: l.unit,
                  rent: `${l.amount} ${l.currency}`,
                  due_day: l.dueDay,
                  channel: l.channel,
                  state: l.state,
                  charges: l.charges,
                  unpaid: l.unpaid,
                }))
              : (rows as unknown as Array<Record<string, unknown>>),
            output,
            'no leases (import a CSV first)',
          );
          notePage(page);
        }),
    );

  leases
    .command('show')
    .description('a lease, its tenant and the ledger: every period, amount, status and paid date')
    .argument('<ref>', 'lease ref')
    .option('--format <format>', 'table, json or csv (csv: the ledger)', formatOption, 'table' as OutputFormat)
    .option('--bom', BOM_OPTION_HELP)
    .action((ref: string, opts: { format: OutputFormat; bom?: boolean }) =>
      withDb(({ db }) => {
        const output = parseOutput(opts);
        const detail = showLease(db, ref);
        if (!detail) throw leaseNotFound(ref);
        if (output.format === 'json') return printRows([detail as unknown as Record<string, unknown>], 'json');
        if (output.format === 'csv')
          return printRows(detail.ledger as unknown as Array<Record<string, unknown>>, output);
        const { lease, tenant } = detail;
        printDetail(`Lease ${lease.ref}`, {
          tenant: tenant.name,
          email: tenant.email,
          mobile: tenant.mobile ? `${tenant.mobileCountryCode ?? ''} ${tenant.mobile}` : null,
          language: tenant.language,
          unit: lease.unit,
          rent: `${lease.amount} ${lease.currency}`,
          due_day: lease.dueDay,
          channel: lease.channel,
          state: lease.state,
          starts_on: lease.startsOn,
          ends_on: lease.endsOn,
          max_reissues: lease.maxReissues,
        });
        process.stdout.write('\nLedger\n');
        printRows(
          detail.ledger.map((c) => ({
            period: c.period,
            due: c.dueDate,
            amount: `${c.amount} ${c.currency}`,
            status: c.status,
            paid_at: c.paidAt ?? '',
            charge: c.id,
            reissues: c.reissueCount,
            reason: c.statusReason ?? '',
          })),
          'table',
          '(no charges yet)',
        );
      }),
    );

  for (const [name, state] of [
    ['pause', 'paused'],
    ['resume', 'active'],
  ] as const) {
    leases
      .command(name)
      .description(
        state === 'paused'
          ? 'stop new charges and sends for a lease (open links are still followed)'
          : 'resume charges and sends for a paused lease',
      )
      .argument('<ref>', 'lease ref')
      .option('--reason <text>', 'why, for the audit trail')
      .action((ref: string, opts: { reason?: string }) =>
        withDb(({ db, clock }) => {
          setLeaseState(db, clock, ref, state, opts.reason ?? '');
          process.stdout.write(`lease ${ref} ${state === 'paused' ? 'paused' : 'resumed'}\n`);
        }),
      );
  }
}

export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description('collection per period and currency: charges, paid, open, expired, failed, void, collection rate')
    .option('--period <YYYY-MM>', 'only this period', periodOption)
    .option('--format <format>', 'table, json, or csv (one line per charge)', formatOption, 'table' as OutputFormat)
    .option('--bom', BOM_OPTION_HELP)
    .action((opts: { period?: string; format: OutputFormat; bom?: boolean }) =>
      withDb(({ db }) => {
        const output = parseOutput(opts);
        if (output.format === 'csv')
          return printRows(
            chargeLines(db, { period: opts.period }) as unknown as Array<Record<string, unknown>>,
            output,
          );
        const rows = collectionReport(db, { period: opts.period });
        if (output.format === 'json') return printRows(rows as unknown as Array<Record<string, unknown>>, 'json');
        printRows(
          rows.map((r) => ({
            period: r.period,
            currency: r.currency,
            charges: r.charges,
            paid: r.paidCount,
            paid_amount: r.paidAmount,
            owed_amount: r.totalAmount,
            open: r.open,
            expired: r.expired,
            failed: r.failed,
            void: r.void,
            collected: `${(r.collectionRate * 100).toFixed(2)}%`,
          })),
          'table',
          'no charges',
        );
      }),
    );
}
