import type { Command } from 'commander';
import {
  chargesPage,
  reissueCharge,
  reviewDoublePaymentOf,
  showCharge,
  voidCharge,
  type ChargeRow,
} from '../operations/charges.js';
import { chargeNotFound, PAGE_SIZE } from '../operations/rows.js';
import { listFailedJobs, retryFailedJobs } from '../operations/jobs.js';
import { RentlinkError } from '../errors.js';
import { registerLeaseCommands, registerReportCommand } from './admin-ledger.js';
import {
  chargeIdArgument,
  chargeStatusOption,
  formatOption,
  LIMIT_HELP,
  limitOption,
  OFFSET_HELP,
  offsetOption,
  periodOption,
  queueOption,
} from './options.js';
import { BOM_OPTION_HELP, parseOutput, printRows, type OutputFormat } from './shared.js';
import { notePage, printDetail, withApp, withDb } from './admin-shared.js';

/**
 * Operator commands: `jobs …` and `charges …` here, `leases …` and `report` in admin-ledger.ts.
 * Listings print tables for people and `--format json|csv` for scripts; errors (unknown id, refused
 * action) are thrown as RentlinkError, which src/cli.ts prints before exiting (2 for an unknown id, 1 for
 * a refused action). Options and ids are checked by their parsers (./options.ts) before anything opens.
 */
export function registerAdminCommands(program: Command): void {
  registerJobCommands(program);
  registerChargeCommands(program);
  registerLeaseCommands(program);
  registerReportCommand(program);
}

function registerJobCommands(program: Command): void {
  const jobs = program.command('jobs').description('failed queue jobs: list them with their reason, re-run them');

  jobs
    .command('failed')
    .description("list failed jobs with their charge, tenant, attempts, time and the provider's reason")
    .option('--queue <queue>', 'send or status (default: both)', queueOption)
    .option('--format <format>', 'table, json or csv', formatOption, 'table' as OutputFormat)
    .option('--bom', BOM_OPTION_HELP)
    .action((opts: { queue?: 'send' | 'status'; format: OutputFormat; bom?: boolean }) =>
      withApp(async (app) => {
        const output = parseOutput(opts);
        const failed = await listFailedJobs(app, { queue: opts.queue });
        if (output.format !== 'table') return printRows(failed as unknown as Array<Record<string, unknown>>, output);
        printRows(
          failed.map((j) => ({
            job: j.jobId,
            charge: j.chargeId ?? '',
            lease: j.leaseRef ?? '',
            tenant: j.tenantName ?? '',
            period: j.period ?? '',
            account: j.account,
            charge_status: j.chargeStatus ?? '',
            attempts: j.attemptsMade,
            failed_at: j.failedAt ?? '',
            reason: j.reason,
          })),
          'table',
          'no failed jobs',
        );
      }),
    );

  jobs
    .command('retry')
    .description(
      're-run failed jobs (a send re-reads lease and tenant as they are now, and never makes a second invoice)',
    )
    .argument('[jobIds...]', 'job ids as listed by `jobs failed`')
    .option('--all', 'retry every failed job (of --queue, when given)')
    .option('--queue <queue>', 'send or status', queueOption)
    .option('--reason <text>', 'why, for the audit trail')
    .action((jobIds: string[], opts: { all?: boolean; queue?: 'send' | 'status'; reason?: string }) => {
      if (opts.all && jobIds.length > 0) throw new RentlinkError('INVALID_INPUT', 'give job ids or --all, not both');
      if (!opts.all && jobIds.length === 0)
        throw new RentlinkError('INVALID_INPUT', 'give the job ids to retry (see `rentlink jobs failed`), or --all');
      return withApp(async (app) => {
        const result = await retryFailedJobs(app, {
          jobIds,
          all: opts.all === true,
          queue: opts.queue,
          reason: opts.reason,
          requireAll: true,
        });
        // An unknown id is bad input: nothing was retried (requireAll), exit 2.
        if (result.missing.length > 0)
          throw new RentlinkError('NOT_FOUND', `no such job: ${result.missing.join(', ')}; nothing retried`);
        const out = process.stdout;
        out.write(
          result.retried.length > 0
            ? `retried ${result.retried.length}: ${result.retried.join(', ')}\n`
            : 'nothing retried\n',
        );
        for (const s of result.skipped) out.write(`skipped ${s.jobId}: ${s.reason}\n`);
      });
    });
}

function registerChargeCommands(program: Command): void {
  const charges = program.command('charges').description('what tenants owe: list, show history, reissue a link, void');

  charges
    .command('list')
    .description(`list charges, newest period first, ${PAGE_SIZE} at a time (--limit, --offset)`)
    .option('--period <YYYY-MM>', 'only this period', periodOption)
    .option(
      '--status <status>',
      'scheduled, invoiced, paid, expired, failed, void, or double-paid (paid more than once)',
      chargeStatusOption,
    )
    .option('--lease <ref>', 'only this lease')
    .option('--account <name>', 'only leases of this account (default: the leases that name none)')
    .option('--limit <n>', LIMIT_HELP, limitOption)
    .option('--offset <n>', OFFSET_HELP, offsetOption)
    .option('--format <format>', 'table, json or csv', formatOption, 'table' as OutputFormat)
    .option('--bom', BOM_OPTION_HELP)
    .action(
      (opts: {
        period?: string;
        status?: string;
        lease?: string;
        account?: string;
        limit?: number;
        offset?: number;
        format: OutputFormat;
        bom?: boolean;
      }) =>
        withDb(({ db, registry }) => {
          const output = parseOutput(opts);
          const page = chargesPage(
            db,
            {
              period: opts.period,
              status: opts.status,
              leaseRef: opts.lease,
              account: opts.account,
              defaultAccount: registry.defaultAccount.account,
            },
            { limit: opts.limit, offset: opts.offset },
          );
          printRows(
            output.format === 'table'
              ? page.rows.map(chargeTableRow)
              : (page.rows as unknown as Array<Record<string, unknown>>),
            output,
            'no charges',
          );
          notePage(page);
        }),
    );

  charges
    .command('show')
    .description('one charge with its links and its full event history')
    .argument('<id>', 'charge id', chargeIdArgument)
    .option('--format <format>', 'table or json', formatOption, 'table' as OutputFormat)
    .option('--bom', BOM_OPTION_HELP)
    .action((chargeId: number, opts: { format: OutputFormat; bom?: boolean }) =>
      withDb(({ db }) => {
        const { format } = parseOutput(opts);
        const detail = showCharge(db, chargeId);
        if (!detail) throw chargeNotFound(chargeId);
        if (format !== 'table') return printRows([detail as unknown as Record<string, unknown>], 'json');
        printDetail(`Charge ${chargeId}`, detail.charge as unknown as Record<string, unknown>);
        process.stdout.write('\nLinks\n');
        printRows(
          detail.links.map((l) => ({
            attempt: l.attempt,
            id: l.id,
            kind: l.kind,
            reference: l.reference,
            provider: l.provider,
            account: l.account,
            channel: l.channel,
            status: l.status,
            provider_link: l.providerLinkId ?? '',
            expires: new Date(l.expiresAt).toISOString(),
            polls: l.pollCount,
            payment: l.paymentId ?? '',
            url: l.url ?? '',
            error: l.lastError ?? '',
          })),
          'table',
          '(no links yet)',
        );
        process.stdout.write('\nHistory\n');
        printRows(
          detail.events.map((e) => ({
            at: e.at,
            type: e.type,
            actor: e.actor,
            link: e.linkId ?? '',
            details: e.details,
          })),
          'table',
        );
      }),
    );

  charges
    .command('reissue')
    .description(
      'send a new link now, even past max_reissues (closes the open link; refused for a paid or void charge)',
    )
    .argument('<id>', 'charge id', chargeIdArgument)
    .option('--reason <text>', 'why, for the audit trail')
    .action((chargeId: number, opts: { reason?: string }) =>
      withApp(async (app) => {
        const { attempt, canceledLinkId } = await reissueCharge(app, chargeId, opts.reason ?? '');
        const closed = canceledLinkId !== null ? ` (link ${canceledLinkId} canceled)` : '';
        process.stdout.write(`charge ${chargeId}: attempt ${attempt} queued${closed}; a running worker sends it\n`);
      }),
    );

  charges
    .command('void')
    .description('close a charge for good: no more sends or polls (refused for a paid charge)')
    .argument('<id>', 'charge id', chargeIdArgument)
    .requiredOption('--reason <text>', 'why (required), for the audit trail')
    .action((chargeId: number, opts: { reason: string }) =>
      withDb((ctx) => {
        voidCharge(ctx, chargeId, opts.reason);
        process.stdout.write(`charge ${chargeId} voided\n`);
      }),
    );

  charges
    .command('settle-double')
    .description('mark a double payment as dealt with (refunded, or kept as credit): it leaves the attention list')
    .argument('<id>', 'charge id', chargeIdArgument)
    .requiredOption('--reason <text>', 'what was done (required), for the audit trail')
    .action((chargeId: number, opts: { reason: string }) =>
      withDb((ctx) => {
        reviewDoublePaymentOf(ctx, chargeId, opts.reason);
        process.stdout.write(`charge ${chargeId}: double payment settled\n`);
      }),
    );
}

/** The columns a person needs to scan a list; JSON/CSV get every field. */
function chargeTableRow(c: ChargeRow): Record<string, unknown> {
  return {
    id: c.id,
    lease: c.leaseRef,
    tenant: c.tenantName,
    unit: c.unit,
    period: c.period,
    due: c.dueDate,
    amount: `${c.amount} ${c.currency}`,
    status: c.extraPayments > 0 ? `${c.status} (paid ${c.extraPayments + 1}×)` : c.status,
    reissues: c.reissueCount,
    account: c.account ?? '',
    link: c.linkStatus ?? '',
    paid_at: c.paidAt ?? '',
    reason:
      c.extraPayments > 0 && !c.doubleReviewed
        ? `double payment of ${c.extraPaid} ${c.currency} to settle`
        : (c.statusReason ?? ''),
  };
}
