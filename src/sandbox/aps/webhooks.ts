import { errorMessage } from '../../errors.js';
import type { Clock } from '../../time/clock.js';
import type { SandboxLogger } from '../host.js';

/**
 * Asynchronous delivery of APS transaction feedback with the old docs' retry policy: the first
 * attempt plus up to 9 retries (10 in all) while the receiver answers neither 2xx nor 302 or cannot
 * be reached. Real APS waits 10 s between attempts; the fake waits `retryDelayMs` (real time), and
 * {@link ApsWebhookDispatcher.flush} skips the waits. Deliveries never block the request that caused them.
 * The fields arrive signed (the signature is one of them): no header carries anything.
 */

/** One delivery attempt, as `handle.webhookDeliveries` records it. */
export interface ApsWebhookDelivery {
  url: string;
  /** The same for every attempt of one notification (`<fort_id>`). */
  eventId: string;
  /** 1 for the first attempt, 2 for the first retry, … */
  attempt: number;
  contentType: string;
  /** The signed fields sent. */
  fields: Record<string, string>;
  rawBody: string;
  /** HTTP status answered, or null when the attempt failed (network error, timeout, close()). */
  status: number | null;
  error?: string;
  /** Sandbox clock at the attempt. */
  at: number;
}

export interface ApsWebhookOptions {
  url: string;
  /** `json` (current docs, SDK) or `form` (old docs' default). */
  format: 'json' | 'form';
  retryDelayMs: number;
  clock: Clock;
  /** Per-attempt timeout, real ms. */
  timeoutMs?: number;
  logger?: SandboxLogger;
}

const MAX_ATTEMPTS = 10;

export class ApsWebhookDispatcher {
  readonly deliveries: ApsWebhookDelivery[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly stopping = new AbortController();
  private readonly waiting = new Set<() => void>();
  /** > 0 while someone flushes: retries then go out without waiting. */
  private hurry = 0;

  constructor(private readonly options: ApsWebhookOptions) {}

  /** Starts delivering the signed `fields` in the background. */
  send(fields: Record<string, string>, eventId: string): void {
    if (this.stopping.signal.aborted) return;
    const run = this.deliver(fields, eventId).finally(() => this.inFlight.delete(run));
    this.inFlight.add(run);
  }

  /** Resolves once nothing is in flight (deliveries started meanwhile included). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Delivers everything now: retry waits are cut short until nothing is in flight. */
  async flush(): Promise<void> {
    this.hurry++;
    try {
      for (const wake of [...this.waiting]) wake();
      await this.idle();
    } finally {
      this.hurry--;
    }
  }

  /** Abandons pending retries and in-flight requests (close()). */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.idle();
  }

  private async deliver(fields: Record<string, string>, eventId: string): Promise<void> {
    const { contentType, rawBody } = this.encode(fields);
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      if (attempt > 1 && !(await this.wait(this.options.retryDelayMs))) return;
      if (this.stopping.signal.aborted) return;
      const delivery = await this.attempt({ eventId, attempt, contentType, fields, rawBody });
      this.deliveries.push(delivery);
      if (delivery.status !== null && ((delivery.status >= 200 && delivery.status < 300) || delivery.status === 302)) {
        return;
      }
      this.options.logger?.warn(
        { url: this.options.url, attempt, status: delivery.status, error: delivery.error },
        'APS sandbox notification delivery failed',
      );
    }
  }

  private encode(fields: Record<string, string>): { contentType: string; rawBody: string } {
    return this.options.format === 'form'
      ? { contentType: 'application/x-www-form-urlencoded', rawBody: new URLSearchParams(fields).toString() }
      : { contentType: 'application/json', rawBody: JSON.stringify(fields) };
  }

  private async attempt(
    event: Pick<ApsWebhookDelivery, 'eventId' | 'attempt' | 'contentType' | 'fields' | 'rawBody'>,
  ): Promise<ApsWebhookDelivery> {
    const base = { url: this.options.url, at: this.options.clock.now(), ...event };
    try {
      const response = await fetch(this.options.url, {
        method: 'POST',
        headers: { 'content-type': event.contentType },
        body: event.rawBody,
        redirect: 'manual', // a 302 is an acceptable answer, not something to follow
        signal: AbortSignal.any([this.stopping.signal, AbortSignal.timeout(this.options.timeoutMs ?? 10_000)]),
      });
      await response.arrayBuffer().catch(() => undefined);
      return { ...base, status: response.status };
    } catch (err) {
      return { ...base, status: null, error: errorMessage(err) };
    }
  }

  /** Real-time wait: true when it is time to retry (early on flush), false when stopping. */
  private wait(ms: number): Promise<boolean> {
    const signal = this.stopping.signal;
    if (signal.aborted) return Promise.resolve(false);
    if (this.hurry > 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (retry: boolean): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.waiting.delete(wake);
        resolve(retry);
      };
      const onAbort = (): void => finish(false);
      const wake = (): void => finish(true);
      const timer = setTimeout(wake, ms);
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.add(wake);
    });
  }
}
