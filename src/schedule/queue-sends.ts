import type { AppContext } from '../context.js';
import {
  chargesDueForSend,
  chargeUnroutable,
  markSendsQueued,
  SEND_CURSOR_START,
  type DueSend,
  type SendCursor,
} from '../db/charges.js';
import { sendJobId, sendJobOptions } from '../queues.js';

/** Sends per `addBulk`: large enough to amortise the round trip, small enough to keep little in flight. */
const SEND_BATCH = 1000;

/**
 * Queues the sends that are due, as a pipeline: while Redis works on one `addBulk` (on its own core),
 * this process reads the next batch — and, in the tick, creates the next charges. One batch at a time is
 * with Redis, so memory stays bounded; a batch is noted as queued in SQLite only once Redis has it.
 */
export class SendQueuer {
  private cursor: SendCursor = SEND_CURSOR_START;
  private inFlight: Promise<void> = Promise.resolve();
  private queued = 0;

  constructor(
    private readonly ctx: AppContext,
    private readonly now: number,
  ) {}

  /** Hands every send due after the cursor to Redis; returns when the last batch is on its way. */
  async drain(): Promise<void> {
    for (;;) {
      const due = chargesDueForSend(this.ctx.db, this.now, this.cursor, SEND_BATCH);
      const last = due.at(-1);
      if (!last) return;
      this.cursor = { nextSendAt: last.nextSendAt, chargeId: last.chargeId };
      await this.inFlight;
      this.inFlight = this.push(due);
      if (due.length < SEND_BATCH) return;
    }
  }

  /** Waits for the batch still with Redis; returns how many sends were queued. */
  async finish(): Promise<number> {
    await this.inFlight;
    return this.queued;
  }

  private async push(due: DueSend[]): Promise<void> {
    const { ctx, now } = this;
    const options = sendJobOptions(ctx.config);
    const jobs = due.map((d) => ({ ...d, jobId: sendJobId(d.chargeId, d.attempt) }));
    for (const [account, group] of groupByAccount(jobs, ctx.registry.defaultAccount.account)) {
      if (!ctx.registry.has(account)) {
        for (const j of group) chargeUnroutable(ctx.db, j.chargeId, account, now);
        continue;
      }
      await ctx.queues.send(account).addBulk(
        group.map((j) => ({
          name: 'send',
          data: { chargeId: j.chargeId, attempt: j.attempt },
          opts: { ...options, jobId: j.jobId },
        })),
      );
    }
    markSendsQueued(ctx.db, jobs, now);
    this.queued += jobs.length;
  }
}

function groupByAccount<T extends { account: string | null }>(items: T[], fallback: string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const account = item.account ?? fallback;
    const group = groups.get(account);
    if (group) group.push(item);
    else groups.set(account, [item]);
  }
  return groups;
}
