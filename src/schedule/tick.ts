import { eq, gte } from 'drizzle-orm';
import type { AppContext } from '../context.js';
import { recordEvent } from '../db/events.js';
import { chargesNeedingSend, linksDueForCheck } from '../db/links.js';
import { charges, leases } from '../db/schema.js';
import { sendJobId, sendJobOptions, statusJobId, statusJobOptions } from '../queues.js';
import { duePeriods } from '../time/periods.js';

export interface TickResult {
  at: number;
  chargesCreated: number;
  sendJobs: number;
  statusJobs: number;
}

/**
 * One tick. In one SQLite transaction it creates the charges that have become due to send; then it
 * queues a send for every charge that needs a link and a status check for every open link whose check
 * time has come. Idempotent: charges are UNIQUE(lease, period) and job ids are deterministic, so
 * running it twice — or in three processes at once — adds nothing twice. Because it rebuilds the
 * queues from SQLite, it is also what restores work after Redis lost it.
 */
export async function runTick(ctx: AppContext): Promise<TickResult> {
  const stopTimer = ctx.metrics.tickDuration.startTimer();
  const now = ctx.clock.now();
  const chargesCreated = createDueCharges(ctx, now);
  const sends = chargesNeedingSend(ctx.db);
  const checks = linksDueForCheck(ctx.db, now);
  await ctx.queues.send.addBulk(
    sends.map((s) => ({
      name: 'send',
      data: s,
      opts: { ...sendJobOptions(ctx.config), jobId: sendJobId(s.chargeId, s.attempt) },
    })),
  );
  await ctx.queues.status.addBulk(
    checks.map((c) => ({
      name: 'status',
      data: { linkId: c.linkId, reason: 'poll' as const },
      opts: { ...statusJobOptions(ctx.config), jobId: statusJobId(c.linkId, c.nextCheckAt) },
    })),
  );
  stopTimer();
  const result = { at: now, chargesCreated, sendJobs: sends.length, statusJobs: checks.length };
  ctx.logger.debug(result, 'tick');
  return result;
}

/** Inserts the charges whose send date has come, for every active lease; returns how many were new. */
export function createDueCharges(ctx: Pick<AppContext, 'db' | 'config'>, now: number): number {
  const active = ctx.db.select().from(leases).where(eq(leases.state, 'active')).all();
  const wanted = active.flatMap((lease) =>
    duePeriods(lease, now, ctx.config.CATCH_UP_PERIODS).map((due) => ({ lease, due })),
  );
  const oldest = wanted.reduce((min, w) => (w.due.period < min ? w.due.period : min), '9999-12');
  return ctx.db.transaction((tx) => {
    // Most ticks find every charge already there: one read instead of an insert attempt per lease
    // (bench: tick.steady-state-charges). UNIQUE(lease, period) still guards concurrent ticks.
    const existing = new Set(
      tx
        .select({ leaseId: charges.leaseId, period: charges.period })
        .from(charges)
        .where(gte(charges.period, oldest))
        .all()
        .map((c) => `${c.leaseId}|${c.period}`),
    );
    let created = 0;
    for (const { lease, due } of wanted) {
      if (existing.has(`${lease.id}|${due.period}`)) continue;
      const row = tx
        .insert(charges)
        .values({
          leaseId: lease.id,
          period: due.period,
          dueDate: due.dueDate,
          sendAt: due.sendAt,
          amountMinor: lease.amountMinor,
          currency: lease.currency,
          status: 'scheduled',
          createdAt: now,
          updatedAt: now,
        })
        .onConflictDoNothing({ target: [charges.leaseId, charges.period] })
        .returning({ id: charges.id })
        .get();
      if (!row) continue;
      created++;
      recordEvent(tx, {
        at: now,
        type: 'charge.created',
        actor: 'tick',
        leaseId: lease.id,
        chargeId: row.id,
        details: { period: due.period, dueDate: due.dueDate, amountMinor: lease.amountMinor, currency: lease.currency },
      });
    }
    return created;
  });
}
