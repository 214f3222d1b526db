import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from './config.js';

/** Queue names; Redis keys are `<QUEUE_PREFIX>:<name>:…`. */
export const QUEUE_NAMES = { send: 'send', status: 'status' } as const;
export type QueueName = keyof typeof QUEUE_NAMES;

/** Create (or adopt, after an uncertain outcome) the link for `attempt` of a charge. */
export interface SendJobData {
  chargeId: number;
  attempt: number;
}

/** Ask the provider for a link's status. */
export interface StatusJobData {
  linkId: number;
  /** Why: the poll plan, a passed expiry, or a hint from a callback/webhook. */
  reason: 'poll' | 'expiry' | 'hint';
  /** From a callback/webhook: MyFatoorah recommends querying by PaymentId when there is one. */
  paymentId?: string;
}

/**
 * Deterministic ids make every enqueue idempotent: BullMQ ignores an add whose id exists. Ids may not
 * contain `:` nor be all digits.
 */
export const sendJobId = (chargeId: number, attempt: number) => `send-${chargeId}-${attempt}`;
export const statusJobId = (linkId: number, slot: string | number) => `status-${linkId}-${slot}`;

export interface Queues {
  send: Queue<SendJobData>;
  status: Queue<StatusJobData>;
  close(): Promise<void>;
}

export function createQueues(connection: Redis, config: Pick<Config, 'QUEUE_PREFIX'>): Queues {
  const prefix = config.QUEUE_PREFIX;
  const send = new Queue<SendJobData>(QUEUE_NAMES.send, { connection, prefix });
  const status = new Queue<StatusJobData>(QUEUE_NAMES.status, { connection, prefix });
  return {
    send,
    status,
    close: async () => {
      await Promise.all([send.close(), status.close()]);
    },
  };
}

/**
 * A completed send is removed at once: SQLite (an open link) is what stops a second send, and a kept
 * id would block re-queueing a send that was skipped (e.g. while its lease was paused).
 */
export function sendJobOptions(config: Pick<Config, 'SEND_ATTEMPTS' | 'RETRY_BASE_DELAY_MS'>): JobsOptions {
  return {
    attempts: config.SEND_ATTEMPTS,
    backoff: { type: 'exponential', delay: config.RETRY_BASE_DELAY_MS, jitter: 0.5 },
    removeOnComplete: true,
    removeOnFail: false,
  };
}

/** Completed checks are kept a day for the dashboard (their ids change with every check); failed ones until an operator acts. */
export function statusJobOptions(config: Pick<Config, 'STATUS_ATTEMPTS' | 'RETRY_BASE_DELAY_MS'>): JobsOptions {
  return {
    attempts: config.STATUS_ATTEMPTS,
    backoff: { type: 'exponential', delay: config.RETRY_BASE_DELAY_MS, jitter: 0.5 },
    removeOnComplete: { age: 24 * 3600, count: 10_000 },
    removeOnFail: false,
  };
}
