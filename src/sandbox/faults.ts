import { z } from 'zod';
import type { ValidationError } from './myfatoorah/validation.js';

/** The MyFatoorah API endpoints faults can be injected into (the other fakes name their own). */
export type FaultEndpoint = 'SendPayment' | 'GetPaymentStatus';

/**
 * A misbehaviour to inject into the next matching request(s). Only `lost` performs the request; every
 * other kind answers before anything is created.
 * - `http`: answer `status` with `body` (e.g. a load balancer's HTML 503 page).
 * - `rate-limit`: 429 with `Retry-After: <retryAfter>` (seconds or an HTTP date; omitted → no header).
 * - `timeout`: hold the request unanswered for `ms` (default 30 s) or until close(), then a 504 page.
 * - `lost`: perform the request fully (SendPayment creates the invoice), then destroy the socket
 *   without any response: the client sees a reset / "socket hang up" and cannot know what happened.
 * - `reject`: a 400 MyFatoorah failure envelope with `message` and `errors`.
 * - `empty-401`: 401 with an empty body (what a bad token gets).
 * - `html-403`: an HTML 403 page (what a blocked caller IP gets).
 */
export type Fault =
  | { kind: 'http'; status: 500 | 502 | 503; body?: string; contentType?: string }
  | { kind: 'rate-limit'; retryAfter?: string }
  | { kind: 'timeout'; ms?: number }
  | { kind: 'lost' }
  | { kind: 'reject'; message: string; errors?: ValidationError[] }
  | { kind: 'empty-401' }
  | { kind: 'html-403' };

/** Schema for faults arriving over the HTTP control endpoint (`POST /_sandbox/faults`). */
export const faultRequestSchema = z.object({
  endpoint: z.enum(['SendPayment', 'GetPaymentStatus']),
  times: z.number().int().positive().default(1),
  fault: z.discriminatedUnion('kind', [
    z.object({
      kind: z.literal('http'),
      status: z.union([z.literal(500), z.literal(502), z.literal(503)]),
      body: z.string().optional(),
      contentType: z.string().optional(),
    }),
    z.object({ kind: z.literal('rate-limit'), retryAfter: z.string().optional() }),
    z.object({ kind: z.literal('timeout'), ms: z.number().int().nonnegative().optional() }),
    z.object({ kind: z.literal('lost') }),
    z.object({
      kind: z.literal('reject'),
      message: z.string(),
      errors: z.array(z.object({ Name: z.string(), Error: z.string() })).optional(),
    }),
    z.object({ kind: z.literal('empty-401') }),
    z.object({ kind: z.literal('html-403') }),
  ]),
});

/** Per-endpoint FIFO of pending faults; each injection is consumed by `times` requests. */
export class FaultQueue<E extends string = FaultEndpoint, F = Fault> {
  private readonly queues = new Map<E, F[]>();

  inject(endpoint: E, fault: F, times = 1): void {
    if (!Number.isInteger(times) || times < 1) throw new RangeError(`times must be a positive integer, got ${times}`);
    const queue = this.queues.get(endpoint) ?? [];
    for (let i = 0; i < times; i++) queue.push(fault);
    this.queues.set(endpoint, queue);
  }

  /** The fault the next request to `endpoint` gets, removing it; undefined when none is pending. */
  take(endpoint: E): F | undefined {
    return this.queues.get(endpoint)?.shift();
  }

  pending(endpoint: E): number {
    return this.queues.get(endpoint)?.length ?? 0;
  }

  clear(): void {
    this.queues.clear();
  }
}

/**
 * Token bucket on REAL time (performance.now): rate limiting is about how fast requests arrive, not
 * about business time, so it ignores the injected Clock. Capacity = the rate (at least 1), refilled
 * continuously.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly capacity: number;

  constructor(private readonly perSecond: number) {
    if (!(perSecond > 0)) throw new RangeError(`rate must be > 0 per second, got ${perSecond}`);
    this.capacity = Math.max(1, perSecond);
    this.tokens = this.capacity;
    this.last = performance.now();
  }

  /** Takes one token; false when the bucket is empty (the request is over the limit). */
  tryTake(): boolean {
    const now = performance.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
