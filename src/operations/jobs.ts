import type { Job, Queue } from 'bullmq';
import type { AppContext } from '../context.js';
import { recordEvent } from '../db/events.js';
import type { Db } from '../db/open.js';
import { reopenFailedSend } from '../db/links.js';
import { getLink, getLinkByAttempt, loadChargeContext, type ChargeContext } from '../db/queries.js';
import { errorMessage } from '../errors.js';
import { requeuedJobId, sendJobId, type QueueKind as QueueName } from '../queues.js';
import { cleanReason, isoOrNull } from './rows.js';

/**
 * Failed BullMQ jobs as the operator sees them (joined to the charge and tenant in SQLite), and
 * re-running them. Failed jobs are kept in Redis until an operator acts (`removeOnFail: false`).
 */

/** A failed job with the charge, lease and tenant it is about (null where SQLite has no match). */
export interface FailedJob {
  queue: 'send' | 'status';
  /** The account whose queue holds it. */
  account: string;
  jobId: string;
  chargeId: number | null;
  linkId: number | null;
  leaseRef: string | null;
  tenantName: string | null;
  period: string | null;
  /** The charge's status now: a failed job of a charge since paid, voided or reissued is moot. */
  chargeStatus: string | null;
  /** For a send job, the link attempt it was creating. */
  attempt: number | null;
  attemptsMade: number;
  /** ISO instant of the last failure. */
  failedAt: string | null;
  /** BullMQ's failedReason: the provider's own words for a rejection. */
  reason: string;
}

type AnyJob = Job<Record<string, unknown>>;

/** Every failed job of both queues (or one), newest failure first. */
export async function listFailedJobs(ctx: AppContext, opts: { queue?: 'send' | 'status' } = {}): Promise<FailedJob[]> {
  const found: FailedJob[] = [];
  for (const q of queuesOf(ctx, opts.queue)) {
    for (const job of await failedJobs(q)) found.push(describeJob(ctx.db, q, job));
  }
  return found.sort((a, b) => (b.failedAt ?? '').localeCompare(a.failedAt ?? '') || a.jobId.localeCompare(b.jobId));
}

export interface RetryOptions {
  /** Job ids as shown by `jobs failed` (`send-12-1`, `status-40-…`). */
  jobIds?: string[];
  /** Every failed job (of `queue`, when given). */
  all?: boolean;
  queue?: 'send' | 'status';
  reason?: string;
  /** With `jobIds`: when any id matches no job, retry none (the CLI then reports them, nothing changed). */
  requireAll?: boolean;
}

export interface RetryResult {
  retried: string[];
  /** Ids that match no job (in the chosen queue). */
  missing: string[];
  /** Jobs that exist but were not retried, with why (e.g. not in the failed state). */
  skipped: Array<{ jobId: string; reason: string }>;
}

/**
 * Re-runs failed jobs. A send job's charge is first put back in line (`reopenFailedCharge`): the send
 * re-reads lease and tenant as they are now, so fixing a mobile by re-import and retrying works, and it
 * looks its reference up before creating, so a retry never makes a second invoice. Attempt counters are
 * reset: the operator's retry gets the full backoff budget again. Each retry writes `job.retried`.
 */
export async function retryFailedJobs(ctx: AppContext, opts: RetryOptions): Promise<RetryResult> {
  const result: RetryResult = { retried: [], missing: [], skipped: [] };
  const targets = opts.all
    ? await allFailed(ctx, opts.queue)
    : await findJobs(ctx, opts.jobIds ?? [], opts.queue, result);
  if (opts.requireAll && result.missing.length > 0) return result;
  const reason = cleanReason(opts.reason);
  for (const { queue, job } of targets) {
    const jobId = String(job.id);
    const state = await job.getState();
    if (state !== 'failed') {
      result.skipped.push({ jobId, reason: `job is ${state}, not failed` });
      continue;
    }
    try {
      await retryOne(ctx, queue, job, reason);
      result.retried.push(jobId);
    } catch (err) {
      // Typically another operator retried it a moment ago; the charge may be reopened, which is harmless.
      result.skipped.push({ jobId, reason: errorMessage(err) });
    }
  }
  return result;
}

async function retryOne(ctx: AppContext, queue: QueueName, job: AnyJob, reason: string | null): Promise<void> {
  const target = jobTarget(ctx.db, queue, job);
  const now = ctx.clock.now();
  const reopened =
    queue === 'send' && target.chargeId !== null
      ? reopenFailedSend(ctx.db, target.chargeId, 'admin', reason ?? 'failed send retried by operator', now)
      : false;
  // A failed planned check moved its link on to the next slot: the re-run is that check, now.
  const link = queue === 'status' && target.linkId !== null ? getLink(ctx.db, target.linkId) : null;
  if (link && job.data['reason'] === 'poll' && link.nextCheckAt !== null) {
    await job.updateData({ ...job.data, slot: link.nextCheckAt });
  }
  const failedReason = job.failedReason;
  const attemptsMade = job.attemptsMade;
  await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
  recordEvent(ctx.db, {
    at: ctx.clock.now(),
    type: 'job.retried',
    actor: 'admin',
    leaseId: target.context?.lease.id ?? null,
    chargeId: target.chargeId,
    linkId: target.linkId,
    details: { reason, queue, jobId: String(job.id), reopenedCharge: reopened, attemptsMade, failedReason },
  });
}

/** A queue of one kind and account. */
interface AccountQueue {
  queue: QueueName;
  account: string;
  bull: Queue;
}

function queuesOf(ctx: AppContext, kind: QueueName | undefined): AccountQueue[] {
  return ctx.queues
    .all()
    .filter((q) => kind === undefined || q.kind === kind)
    .map((q) => ({ queue: q.kind, account: q.account, bull: q.queue }));
}

interface Target extends AccountQueue {
  job: AnyJob;
}

async function failedJobs(q: AccountQueue): Promise<AnyJob[]> {
  const jobs = (await q.bull.getFailed(0, -1)) as unknown as Array<AnyJob | undefined>;
  // A job removed between listing and loading comes back undefined.
  return jobs.filter((j): j is AnyJob => j !== undefined && j !== null);
}

async function allFailed(ctx: AppContext, kind: QueueName | undefined): Promise<Target[]> {
  const targets: Target[] = [];
  for (const q of queuesOf(ctx, kind)) for (const job of await failedJobs(q)) targets.push({ ...q, job });
  return targets;
}

/** Looks each id up: `send-…` and `status-…` say which kind of queue; every account's queue of it is tried. */
async function findJobs(ctx: AppContext, ids: string[], kind: QueueName | undefined, result: RetryResult) {
  const targets: Target[] = [];
  for (const id of [...new Set(ids)]) {
    const guess: QueueName | undefined = id.startsWith('send-')
      ? 'send'
      : id.startsWith('status-')
        ? 'status'
        : undefined;
    let hit: Target | null = null;
    for (const q of queuesOf(ctx, kind).filter((c) => guess === undefined || c.queue === guess)) {
      const job = (await q.bull.getJob(id)) as AnyJob | undefined;
      if (job) {
        hit = { ...q, job };
        break;
      }
    }
    if (hit) targets.push(hit);
    else result.missing.push(id);
  }
  return targets;
}

interface JobTarget {
  chargeId: number | null;
  linkId: number | null;
  attempt: number | null;
  context: ChargeContext | null;
}

/** Which charge and link a job is about, from its payload and SQLite. */
function jobTarget(db: Db, queue: QueueName, job: AnyJob): JobTarget {
  const data = job.data ?? {};
  if (queue === 'send') {
    const chargeId = numberOrNull(data['chargeId']);
    const attempt = numberOrNull(data['attempt']);
    const link = chargeId !== null && attempt !== null ? getLinkByAttempt(db, chargeId, attempt) : null;
    return {
      chargeId,
      linkId: link?.id ?? null,
      attempt,
      context: chargeId !== null ? loadChargeContext(db, chargeId) : null,
    };
  }
  const linkId = numberOrNull(data['linkId']);
  const link = linkId !== null ? getLink(db, linkId) : null;
  const chargeId = link?.chargeId ?? null;
  return {
    chargeId,
    linkId,
    attempt: link?.attempt ?? null,
    context: chargeId !== null ? loadChargeContext(db, chargeId) : null,
  };
}

function describeJob(db: Db, { queue, account }: AccountQueue, job: AnyJob): FailedJob {
  const target = jobTarget(db, queue, job);
  const context = target.context;
  return {
    queue,
    account,
    jobId: String(job.id),
    chargeId: target.chargeId,
    linkId: target.linkId,
    leaseRef: context?.lease.ref ?? null,
    tenantName: context?.tenant.name ?? null,
    period: context?.charge.period ?? null,
    chargeStatus: context?.charge.status ?? null,
    attempt: queue === 'send' ? target.attempt : null,
    attemptsMade: job.attemptsMade,
    failedAt: isoOrNull(job.finishedOn),
    reason: job.failedReason ?? '',
  };
}

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isSafeInteger(value) ? value : null;
}

/** How far a send's re-queue chain is followed (`send-12-1`, `-r2`, `-r3`, `-r4`): each dead job adds one. */
const REQUEUE_CHAIN = 4;

/**
 * chargeId → id of the failed send job of its current attempt, for the given charges that are
 * `failed` (Retry re-runs that job rather than reissuing). Looked up by the deterministic job ids of
 * the charges shown (a page of at most MAX_PAGE_SIZE), never by listing every failed job in Redis.
 */
export async function failedSendJobsOf(ctx: AppContext, chargeIds: number[]): Promise<Map<number, string>> {
  const found = new Map<number, string>();
  if (chargeIds.length === 0) return found;
  const failed = ctx.db.$client
    .prepare(
      "SELECT id, link_attempt AS attempt FROM charges WHERE status = 'failed' AND id IN (SELECT value FROM json_each(?))",
    )
    .all(JSON.stringify(chargeIds)) as Array<{ id: number; attempt: number }>;
  const queues = queuesOf(ctx, 'send');
  await Promise.all(
    failed.map(async ({ id, attempt }) => {
      const ids = [sendJobId(id, attempt)];
      while (ids.length < REQUEUE_CHAIN) ids.push(requeuedJobId(ids.at(-1) as string));
      for (const jobId of ids.reverse()) {
        for (const q of queues) {
          const job = (await q.bull.getJob(jobId)) as AnyJob | undefined;
          if (job && (await job.getState()) === 'failed') {
            found.set(id, jobId);
            return;
          }
        }
      }
    }),
  );
  return found;
}
