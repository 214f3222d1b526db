import { randomUUID } from 'node:crypto';
import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from './config.js';

/**
 * The queues, one pair per account: `send-<account>` (create links) and `status-<account>` (ask for
 * their status). Per account because a provider's "slow down" pauses a whole queue: a 429 storm at one
 * account must not hold back another's work. Redis keys are `<QUEUE_PREFIX>:<queue>:…`.
 */

export type QueueKind = 'send' | 'status';

/** Create (or adopt, after an uncertain outcome) the link for `attempt` of a charge. */
export interface SendJobData {
  chargeId: number;
  attempt: number;
}

/** Ask the provider for a link's status. */
export interface StatusJobData {
  linkId: number;
  /** `poll`: the planned check at `slot` (the link's next_check_at when queued). `hint`: a callback/webhook. */
  reason: 'poll' | 'hint';
  slot?: number;
}

/**
 * Deterministic ids make every enqueue idempotent: BullMQ ignores an add whose id exists, so ticks in
 * several processes add nothing twice. Ids may not contain `:` nor be all digits.
 */
export const sendJobId = (chargeId: number, attempt: number) => `send-${chargeId}-${attempt}`;
export const statusJobId = (linkId: number, slot: number) => `status-${linkId}-${slot}`;
/** At most one pending hint check per link, however many callbacks or webhooks arrive. */
export const hintJobId = (linkId: number) => `status-${linkId}-hint`;

/**
 * The id a job is queued under again when its previous one is dead (failed without its processor
 * running, completed without settling, or lost): `send-12-1` → `send-12-1-r2` → `send-12-1-r3`.
 */
export function requeuedJobId(previous: string): string {
  const match = /^(.*)-r(\d+)$/.exec(previous);
  return match ? `${match[1]}-r${Number(match[2]) + 1}` : `${previous}-r2`;
}

export const queueName = (kind: QueueKind, account: string) => `${kind}-${account}`;

export interface Queues {
  send(account: string): Queue<SendJobData>;
  status(account: string): Queue<StatusJobData>;
  /** Every queue of every configured account. */
  all(): Array<{ kind: QueueKind; account: string; queue: Queue }>;
  /**
   * This Redis's incarnation: a random id written once (SET NX) into an empty Redis. A different value
   * than last time means Redis lost its data, and every open item must be queued again.
   */
  incarnation(): Promise<string>;
  close(): Promise<void>;
}

export function createQueues(connection: Redis, config: Pick<Config, 'QUEUE_PREFIX'>, accounts: string[]): Queues {
  const prefix = config.QUEUE_PREFIX;
  const send = new Map<string, Queue<SendJobData>>();
  const status = new Map<string, Queue<StatusJobData>>();
  for (const account of accounts) {
    send.set(account, new Queue<SendJobData>(queueName('send', account), { connection, prefix }));
    status.set(account, new Queue<StatusJobData>(queueName('status', account), { connection, prefix }));
  }
  const pick = <T>(map: Map<string, T>, kind: QueueKind, account: string): T => {
    const queue = map.get(account);
    if (!queue)
      throw new Error(`no ${kind} queue for account "${account}" (configured: ${[...map.keys()].join(', ')})`);
    return queue;
  };
  const incarnationKey = `${prefix}:incarnation`;
  return {
    send: (account) => pick(send, 'send', account),
    status: (account) => pick(status, 'status', account),
    all: () => [
      ...[...send].map(([account, queue]) => ({ kind: 'send' as const, account, queue: queue as Queue })),
      ...[...status].map(([account, queue]) => ({ kind: 'status' as const, account, queue: queue as Queue })),
    ],
    incarnation: async () => {
      await connection.set(incarnationKey, randomUUID(), 'NX');
      return (await connection.get(incarnationKey)) ?? 'unknown';
    },
    close: async () => {
      await Promise.all([...send.values(), ...status.values()].map((q) => q.close()));
    },
  };
}

/**
 * A completed send is removed at once: SQLite (an open link) is what stops a second send. Failed ones
 * stay until an operator acts (`jobs failed`); the tick never depends on them.
 */
export function sendJobOptions(config: Pick<Config, 'SEND_ATTEMPTS' | 'RETRY_BASE_DELAY_MS'>): JobsOptions {
  return {
    attempts: config.SEND_ATTEMPTS,
    backoff: { type: 'exponential', delay: config.RETRY_BASE_DELAY_MS, jitter: 0.5 },
    removeOnComplete: true,
    removeOnFail: false,
  };
}

/**
 * Completed checks are kept an hour for the dashboard (at most 10,000; hint checks at most 1,000, long
 * enough to know when a link was last checked on a hint); failed planned checks until an operator acts;
 * failed hint checks a day at most (a flood of hints must not pile up).
 */
export function statusJobOptions(
  config: Pick<Config, 'STATUS_ATTEMPTS' | 'RETRY_BASE_DELAY_MS'>,
  reason: StatusJobData['reason'],
): JobsOptions {
  return {
    attempts: config.STATUS_ATTEMPTS,
    backoff: { type: 'exponential', delay: config.RETRY_BASE_DELAY_MS, jitter: 0.5 },
    removeOnComplete: reason === 'hint' ? { age: 3600, count: 1000 } : { age: 3600, count: 10_000 },
    removeOnFail: reason === 'hint' ? { age: 24 * 3600, count: 1000 } : false,
    // A hint usually means someone just paid: it goes before every planned check (BullMQ runs jobs
    // without a priority before prioritized ones), even when a rebuild queued thousands of them.
    ...(reason === 'poll' ? { priority: 10 } : {}),
  };
}
