import type { Command } from 'commander';
import { registerAdminRoutes } from '../http/admin/routes.js';
import { createApp, type App } from '../app.js';
import { contactRulesOf, ImportError, formatImportIssues, importLeases } from '../operations/import-leases.js';
import { readLeaseFile } from '../operations/lease-file.js';
import { dryRunImport, dryRunTick, type DryRunContext } from './dry-run.js';
import { openDb, closeDb, type Db } from '../db/open.js';
import { toDecimalString } from '../money.js';
import { lastEventId, startWorkers, summarizeSince, waitUntilIdle, type RunSummary } from '../runtime.js';
import { runTick } from '../schedule/tick.js';
import { startService, stopOnSignals } from '../service.js';
import { startSandbox } from '../sandbox/server.js';
import { RentlinkError } from '../errors.js';
import { createRegistry } from '../providers/registry.js';
import {
  durationOption,
  formatOption,
  httpUrlOption,
  instantOption,
  portOption,
  positiveNumberOption,
} from './options.js';
import { createProgressReporter, linkEventCounts, remainingJobs } from './progress.js';
import {
  BOM_OPTION_HELP,
  commandEnv,
  type CommandEnv,
  parseOutput,
  printRows,
  stderrIsTerminal,
  stderrLine,
  withIsoInstants,
  type OutputFormat,
} from './shared.js';
import { charges, leases, paymentLinks } from '../db/schema.js';
import { asc, eq } from 'drizzle-orm';

/** `start`, `tick`, `import`, `sandbox` and `demo`: running rentlink. */
export function registerCoreCommands(program: Command): void {
  program
    .command('start')
    .description('run the worker: tick on TICK_CRON, the send and status queues, and the HTTP server')
    .option('--role <role>', 'all (tick, queues, HTTP) or worker (queues and HTTP, no tick)', 'all')
    .action(async (opts: { role: string }) => {
      if (opts.role !== 'all' && opts.role !== 'worker') {
        throw new RentlinkError('INVALID_INPUT', `--role must be all or worker, got "${opts.role}"`);
      }
      const env = commandEnv();
      const service = await startService({ ...env, role: opts.role, extraRoutes: [registerAdminRoutes] });
      const stopped = stopOnSignals(service, env.logger);
      env.logger.info({ url: service.http.url, pid: process.pid }, 'rentlink is running (SIGINT or SIGTERM stops it)');
      await stopped;
    });

  program
    .command('tick')
    .description('run one tick: create the charges that are due and queue their work')
    .option('--now <iso>', 'act as if it were this instant (ISO-8601), e.g. 2026-12-01T06:00:00Z', instantOption)
    .option('--wait', 'work the queues in this process until they are idle, print a summary, exit (for system cron)')
    .option(
      '--max-wait <duration>',
      'with --wait: stop waiting after this long (work left stays queued)',
      durationOption,
      600_000,
    )
    .option('--format <format>', 'table, json or csv (csv: with --dry-run)', formatOption, 'table' as OutputFormat)
    .option('--bom', BOM_OPTION_HELP)
    .option(
      '--dry-run',
      'show what would be charged and sent (per lease and period, totals per currency); change nothing',
    )
    .action(async (opts: TickOptions) => {
      const output = parseOutput(opts);
      const env = commandEnv(opts);
      if (opts.dryRun) return withDryRun(env, (ctx) => dryRunTick(ctx, output));
      const app = await createApp(env);
      try {
        if (!opts.wait) {
          const result = await runTick(app);
          printRows([{ ...result }], output);
          return;
        }
        const summary = await tickAndWait(app, opts.maxWait);
        printSummary(summary, output.format);
        if (!summary.idle) process.exitCode = 3;
      } finally {
        await app.close();
      }
    });

  program
    .command('import')
    .description('import leases from a CSV file (all or nothing; re-importing a lease_ref updates it)')
    .argument('<file>', 'CSV with the columns listed in the README')
    .option('--dry-run', 'check the file and show what the next tick would bill for it; import nothing')
    .option('--now <iso>', 'with --dry-run: as if it were this instant (ISO-8601)', instantOption)
    .option('--format <format>', 'with --dry-run: table, json or csv', formatOption, 'table' as OutputFormat)
    .action((file: string, opts: { dryRun?: boolean; now?: number; format: OutputFormat }) => {
      const env = commandEnv(opts);
      let db: ReturnType<typeof openDb> | null = null;
      try {
        // Read (a regular file, at most IMPORT_MAX_BYTES, UTF-8) before the database is even opened.
        const text = readLeaseFile(file, env.config.IMPORT_MAX_BYTES);
        db = openDb(env.config.DATABASE_PATH);
        const registry = createRegistry(env.config.accounts, {
          clock: env.clock,
          timeoutMs: env.config.PROVIDER_TIMEOUT_MS,
        });
        const rules = contactRulesOf(registry);
        if (opts.dryRun) {
          const ctx = dryRunContext(env, db);
          dryRunImport(ctx, text, rules, { format: opts.format, bom: false });
          return;
        }
        const summary = importLeases(db, env.clock, text, rules);
        process.stdout.write(
          `imported ${file}: ${summary.created} created, ${summary.updated} updated, ${summary.unchanged} unchanged\n`,
        );
      } catch (err) {
        if (err instanceof ImportError) {
          process.stderr.write(
            `${file}: nothing imported, ${err.issues.length} problem(s):\n${formatImportIssues(err.issues)}\n`,
          );
          process.exitCode = 2;
          return;
        }
        throw err;
      } finally {
        if (db) closeDb(db);
      }
    });

  program
    .command('sandbox')
    .description(
      "run the MyFatoorah-compatible sandbox on its own (API, pay pages, webhooks); `start` without credentials runs all three providers' sandboxes itself",
    )
    .option('--port <n>', 'port to listen on (0: any free port)', portOption, 8090)
    .option('--host <host>', 'interface to bind', '127.0.0.1')
    .option('--webhook-url <url>', 'POST signed V2 webhooks here (needs MYFATOORAH_WEBHOOK_SECRET)', httpUrlOption)
    .option('--rate-limit <perSecond>', 'answer GetPaymentStatus with 429 above this rate', positiveNumberOption)
    .action(async (opts: { port: number; host: string; webhookUrl?: string; rateLimit?: number }) => {
      const env = commandEnv();
      const secret = env.config.MYFATOORAH_WEBHOOK_SECRET;
      const sandbox = await startSandbox({
        port: opts.port,
        host: opts.host,
        clock: env.clock,
        logger: env.logger,
        accountTimeZone: env.config.MYFATOORAH_TIMEZONE,
        currency: env.config.MYFATOORAH_ACCOUNT_CURRENCY,
        statusRateLimitPerSecond: opts.rateLimit ?? null,
        ...(opts.webhookUrl && secret ? { webhookUrl: opts.webhookUrl, webhookSecret: secret } : {}),
      });
      process.stdout.write(
        `sandbox listening on ${sandbox.url} (token: sandbox-token) — point MYFATOORAH_BASE_URL here\n`,
      );
      await new Promise<void>((resolve) => {
        const stop = () => void sandbox.close().then(resolve);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });

  program
    .command('demo')
    .description('import a CSV, run one tick with its work against the configured provider, and show the links')
    .argument('[file]', 'lease CSV', 'examples/leases.csv')
    .option('--now <iso>', 'act as if it were this instant (ISO-8601)', instantOption)
    .action(async (file: string, opts: { now?: number }) => {
      const env = commandEnv(opts);
      const csv = readLeaseFile(file, env.config.IMPORT_MAX_BYTES);
      const app = await createApp(env);
      try {
        const summary = importLeases(app.db, env.clock, csv, contactRulesOf(app.registry));
        process.stdout.write(
          `imported ${file}: ${summary.created} created, ${summary.updated} updated, ${summary.unchanged} unchanged\n`,
        );
        const run = await tickAndWait(app, 600_000);
        printSummary(run, 'table');
        process.stdout.write('\nAll links in the database:\n');
        printRows(allLinks(app), 'table');
        if (app.sandbox)
          process.stdout.write(
            `\n(The sandbox ran in this process and has stopped. Run \`npx rentlink start\` to keep it up and pay links on their pages.)\n`,
          );
      } catch (err) {
        if (err instanceof ImportError) {
          process.stderr.write(`${file}: nothing imported:\n${formatImportIssues(err.issues)}\n`);
          process.exitCode = 2;
          return;
        }
        throw err;
      } finally {
        await app.close();
      }
    });
}

interface TickOptions {
  now?: number;
  wait?: boolean;
  maxWait: number;
  format: OutputFormat;
  bom?: boolean;
  dryRun?: boolean;
}

function dryRunContext(env: CommandEnv, db: Db): DryRunContext {
  return {
    db,
    clock: env.clock,
    catchUpPeriods: env.config.CATCH_UP_PERIODS,
    defaultAccount: env.config.accounts.defaultName,
  };
}

/** A dry run reads SQLite only: no Redis, no provider. */
function withDryRun(env: CommandEnv, run: (ctx: DryRunContext) => void): void {
  const db = openDb(env.config.DATABASE_PATH);
  try {
    run(dryRunContext(env, db));
  } finally {
    closeDb(db);
  }
}

/** One tick, then work the queues in this process until idle: the batch mode. */
export async function tickAndWait(
  app: App,
  maxWaitMs: number,
): Promise<RunSummary & { tick: Awaited<ReturnType<typeof runTick>>; idle: boolean }> {
  const since = lastEventId(app);
  const workers = startWorkers(app);
  let checksDone = 0;
  for (const worker of workers.status) {
    worker.on('completed', () => checksDone++);
    worker.on('failed', () => checksDone++);
  }
  const progress = createProgressReporter({
    terminal: stderrIsTerminal,
    line: stderrLine,
    logger: app.logger,
    now: () => performance.now(),
    read: (queues) => ({ ...linkEventCounts(app.db, since), checksDone, remaining: remainingJobs(queues) }),
  });
  try {
    const tick = await runTick(app);
    const idle = await waitUntilIdle(app, { timeoutMs: maxWaitMs, onProgress: progress.onQueueCounts });
    return { ...summarizeSince(app, since), tick, idle };
  } finally {
    progress.finish();
    await workers.close(app.config.SHUTDOWN_TIMEOUT_MS);
  }
}

function printSummary(summary: RunSummary & { idle: boolean }, format: OutputFormat): void {
  if (format === 'json') {
    process.stdout.write(`${JSON.stringify(withIsoInstants(summary), null, 2)}\n`);
    return;
  }
  const out = process.stdout;
  out.write(
    `charges created: ${summary.chargesCreated}\nlinks created: ${summary.linksCreated}${summary.linksAdopted ? ` (+${summary.linksAdopted} adopted after an uncertain create)` : ''}\n`,
  );
  out.write(`paid: ${summary.paid}, expired links: ${summary.expired}\n`);
  if (!summary.idle) out.write('queues not idle when --max-wait ran out: the rest stays queued for the next run\n');
  if (summary.failures.length) {
    out.write(`failures: ${summary.failures.length}\n`);
    printRows(summary.failures, 'table');
  } else {
    out.write('failures: 0\n');
  }
}

function allLinks(app: App): Array<Record<string, unknown>> {
  const rows = app.db
    .select({ link: paymentLinks, charge: charges, leaseRef: leases.ref })
    .from(paymentLinks)
    .innerJoin(charges, eq(charges.id, paymentLinks.chargeId))
    .innerJoin(leases, eq(leases.id, charges.leaseId))
    .orderBy(asc(leases.ref), asc(charges.period), asc(paymentLinks.attempt))
    .all();
  return rows.map(({ link, charge, leaseRef }) => ({
    lease: leaseRef,
    period: charge.period,
    amount: `${toDecimalString(charge.amountMinor, charge.currency)} ${charge.currency}`,
    channel: link.channel,
    status: link.status,
    invoice: link.providerLinkId ?? '',
    url: link.url ?? link.lastError ?? '',
  }));
}
