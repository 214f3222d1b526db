import type { ServerResponse } from 'node:http';
import { apsSignature, type ApsShaType } from '../../providers/aps/signature.js';
import { FaultQueue, TokenBucket } from '../faults.js';
import type { FakeContext } from '../host.js';
import { feedbackFields, type Answer } from './answers.js';
import type { ApsCommand, ApsFault } from './faults.js';
import { ApsLinkStore, type ApsPaymentOutcome, type PaymentOptions } from './state.js';
import { ApsWebhookDispatcher } from './webhooks.js';

/**
 * The APS fake's shared state and the actions every entry point (API, pay page, test handle) goes
 * through, so a click on Pay and `handle.pay()` have the same effects (stored link, webhook).
 */

/** The merchant account the fake plays, with the same credentials as the rentlink account. */
export interface ApsFakeOptions {
  accessCode: string;
  merchantIdentifier: string;
  requestPhrase: string;
  responsePhrase: string;
  /** Default sha256. */
  shaType?: ApsShaType;
  /** Where transaction feedback is POSTed after each payment attempt; none: no notifications. */
  webhookUrl?: string;
  /** Notification encoding: `json` (default) or `form`. */
  webhookFormat?: 'json' | 'form';
  /** Real-time wait between notification retries; default 1000 ms (APS: 10 s). */
  webhookRetryDelayMs?: number;
  /** CHECK_PAYMENT_LINK_STATUS requests per second before 429 + Retry-After; default unlimited. */
  statusRateLimitPerSecond?: number | null;
  /** Message code a reused merchant_reference is refused with (status 00); default `066`. */
  duplicateReferenceCode?: '066' | '007' | '126' | '150';
}

/** One API call as `handle.requests` records it. */
export interface ApsSandboxRequest {
  /** service_command or query_command as sent ('' when neither). */
  command: string;
  /** Parsed JSON body, or the raw text when it was not JSON. */
  body: unknown;
  /** HTTP status answered; 0 while held, or when no answer was sent (lost, close()). */
  status: number;
  /** response_code answered, when an APS answer was sent. */
  responseCode?: string;
  /** Sandbox clock at arrival. */
  at: number;
  /** Fault kind applied, or 'throttled' when the status rate limit refused it. */
  fault?: string;
}

export type HoldEnd = 'elapsed' | 'aborted' | 'closed';

export class ApsSandboxCore {
  readonly store: ApsLinkStore;
  readonly faults = new FaultQueue<ApsCommand, ApsFault>();
  readonly requests: ApsSandboxRequest[] = [];
  readonly dispatcher: ApsWebhookDispatcher | null;
  readonly shaType: ApsShaType;
  throttledCount = 0;
  private bucket: TokenBucket | null;
  private readonly holds = new Set<() => void>();

  constructor(
    readonly options: ApsFakeOptions,
    readonly ctx: FakeContext,
  ) {
    this.shaType = options.shaType ?? 'sha256';
    this.store = new ApsLinkStore(ctx.store, `aps-links:${options.merchantIdentifier}`);
    this.bucket = options.statusRateLimitPerSecond ? new TokenBucket(options.statusRateLimitPerSecond) : null;
    this.dispatcher = options.webhookUrl
      ? new ApsWebhookDispatcher({
          url: options.webhookUrl,
          format: options.webhookFormat ?? 'json',
          retryDelayMs: options.webhookRetryDelayMs ?? 1000,
          clock: ctx.clock,
          ...(ctx.logger ? { logger: ctx.logger } : {}),
        })
      : null;
  }

  now(): number {
    return this.ctx.clock.now();
  }

  payPageUrl(linkId: string): string {
    return `${this.ctx.publicBaseUrl()}/aps/pay/${encodeURIComponent(linkId)}`;
  }

  /** `answer` with its signature under the response phrase (a fault may spoil or drop it). */
  sign(answer: Answer, fault?: ApsFault): Answer {
    if (fault?.kind === 'unsigned') return answer;
    const signature = apsSignature(answer, this.options.responsePhrase, this.shaType);
    return { ...answer, signature: fault?.kind === 'bad-signature' ? tamper(signature) : signature };
  }

  /** null or a positive rate; a fresh (full) bucket each time. */
  setRateLimit(perSecond: number | null): void {
    this.bucket = perSecond ? new TokenBucket(perSecond) : null;
  }

  /** False when CHECK_PAYMENT_LINK_STATUS is over its rate (and counts it). */
  admitStatusQuery(): boolean {
    if (!this.bucket || this.bucket.tryTake()) return true;
    this.throttledCount++;
    return false;
  }

  /** A successful payment and its notification; throws like ApsLinkStore.pay. */
  pay(linkId: string, options?: PaymentOptions): ApsPaymentOutcome {
    return this.afterAttempt(this.store.pay(linkId, this.now(), options));
  }

  /** A declined payment and its notification; throws like ApsLinkStore.fail. */
  fail(linkId: string, options?: PaymentOptions): ApsPaymentOutcome {
    return this.afterAttempt(this.store.fail(linkId, this.now(), options));
  }

  /** The signed fields APS sends about an attempt (notification body and return_url query). */
  signedFeedback(outcome: ApsPaymentOutcome): Record<string, string> {
    const fields = feedbackFields(outcome.link, outcome.transaction, this.options);
    return { ...fields, signature: apsSignature(fields, this.options.responsePhrase, this.shaType) };
  }

  private afterAttempt(outcome: ApsPaymentOutcome): ApsPaymentOutcome {
    const { link, transaction } = outcome;
    this.ctx.logger?.info(
      { linkId: link.linkId, fortId: transaction.fortId, outcome: transaction.outcome, linkStatus: link.status },
      'APS sandbox payment attempt',
    );
    this.dispatcher?.send(this.signedFeedback(outcome), transaction.fortId);
    return outcome;
  }

  /** Holds a request for `ms` real ms; ends early when the client leaves or the fake closes. */
  hold(ms: number, outgoing: ServerResponse): Promise<HoldEnd> {
    if (outgoing.closed) return Promise.resolve('aborted');
    return new Promise((resolve) => {
      const finish = (end: HoldEnd): void => {
        clearTimeout(timer);
        outgoing.off('close', onClose);
        this.holds.delete(onRelease);
        resolve(end);
      };
      const onClose = (): void => finish('aborted');
      const onRelease = (): void => finish('closed');
      const timer = setTimeout(() => finish('elapsed'), ms);
      outgoing.once('close', onClose);
      this.holds.add(onRelease);
    });
  }

  async close(): Promise<void> {
    for (const release of [...this.holds]) release();
    await this.dispatcher?.stop();
  }
}

/** A signature of the right shape that does not verify: its first hex digit changed. */
function tamper(signature: string): string {
  return `${signature.startsWith('0') ? '1' : '0'}${signature.slice(1)}`;
}
