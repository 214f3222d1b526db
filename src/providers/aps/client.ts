import type { Clock } from '../../time/clock.js';
import { observedCall, parseRetryAfter, sendHttp, type HttpAnswer } from '../http.js';
import {
  ProviderError,
  type CallObserver,
  type Channel,
  type Contact,
  type CreatedLink,
  type FieldProblem,
  type LinkKey,
  type LinkRequest,
  type LinkStatus,
  type PaymentProvider,
  type WebhookRequest,
  type WebhookResult,
} from '../types.js';
import { isOrderNotFound, readCreatedLink, readLinkStatus, type ApsAnswer } from './answer.js';
import { apsContactProblems } from './contact.js';
import { createLinkParams } from './request.js';
import type { ApsSettings } from './settings.js';
import { apsSignature, verifyApsSignature } from './signature.js';
import { parseApsWebhook } from './webhook.js';

/** What the client needs besides its account settings. */
export interface ApsProviderOptions {
  settings: ApsSettings;
  clock: Clock;
  /** Per-request timeout in ms. */
  timeoutMs: number;
  sandbox: boolean;
  observe?: CallObserver;
}

/** The one endpoint every command goes to. */
const API_PATH = 'FortAPI/paymentApi';
const CHECK_STATUS = 'CHECK_PAYMENT_LINK_STATUS';

/**
 * Amazon Payment Services payment links: PAYMENT_LINK to create, CHECK_PAYMENT_LINK_STATUS to read
 * (by payment_link_id, or by merchant_reference after an uncertain create). Every request is signed
 * with the request phrase and EVERY answer, refusals included, must verify with the response phrase
 * before a single field of it is believed; one that does not is `unavailable`, never a success.
 * The HTTP status is not trusted (APS may answer 200 to a refusal): the signed body decides, except
 * that 429/503 mean slow down and 5xx, non-JSON bodies and timeouts are transient. nothing here retries:
 * the job queue owns retries. APS documents no cancel command, so superseded links cannot be closed.
 */
export class ApsProvider implements PaymentProvider {
  readonly id = 'aps' as const;
  readonly account: string;
  readonly sandbox: boolean;
  readonly maxValidityMs = null;
  readonly canCancel = false;
  readonly timeZone: string;
  private readonly url: string;
  private readonly settings: ApsSettings;

  constructor(private readonly options: ApsProviderOptions) {
    this.settings = options.settings;
    this.account = options.settings.name;
    this.sandbox = options.sandbox;
    this.timeZone = options.settings.timeZone;
    this.url = `${options.settings.baseUrl.replace(/\/+$/, '')}/${API_PATH}`;
  }

  contactProblems(contact: Contact, channel: Channel, currency: string): FieldProblem[] {
    return apsContactProblems(contact, channel, currency);
  }

  /** PAYMENT_LINK. Not idempotent: APS refuses a reused merchant_reference without returning the link. */
  async createLink(req: LinkRequest): Promise<CreatedLink> {
    const params = createLinkParams(req, this.settings);
    return this.call('PAYMENT_LINK', params, (answer) => readCreatedLink(answer, 'PAYMENT_LINK'));
  }

  /** CHECK_PAYMENT_LINK_STATUS by merchant_reference; null when APS answers "order not found". */
  async findLink(reference: string, currency: string): Promise<LinkStatus | null> {
    const params = { ...this.queryBase(), merchant_reference: reference };
    return this.call(CHECK_STATUS, params, (answer) =>
      isOrderNotFound(answer) ? null : readLinkStatus(answer, currency, CHECK_STATUS),
    );
  }

  /** CHECK_PAYMENT_LINK_STATUS by payment_link_id. */
  async getStatus(key: LinkKey): Promise<LinkStatus> {
    if (!key.providerLinkId) {
      throw new ProviderError('rejected', `${CHECK_STATUS}: getStatus needs the payment_link_id`, {
        endpoint: CHECK_STATUS,
      });
    }
    const params = { ...this.queryBase(), payment_link_id: key.providerLinkId };
    return this.call(CHECK_STATUS, params, (answer) => readLinkStatus(answer, key.currency, CHECK_STATUS));
  }

  parseWebhook(req: WebhookRequest): WebhookResult {
    try {
      return parseApsWebhook(req, this.settings);
    } catch {
      // parseApsWebhook is written not to throw; this keeps the contract if it ever does.
      return { kind: 'bad-signature', reason: 'the notification could not be read' };
    }
  }

  private queryBase(): Record<string, string> {
    return {
      query_command: CHECK_STATUS,
      access_code: this.settings.accessCode,
      merchant_identifier: this.settings.merchantIdentifier,
      language: 'en',
    };
  }

  /**
   * Signs `params`, POSTs them, verifies the answer and hands it to `interpret`, inside the observed
   * call so a refusal is reported as one. Every failure is a ProviderError.
   */
  private async call<T>(
    endpoint: string,
    params: Record<string, string | number>,
    interpret: (answer: ApsAnswer) => T,
  ): Promise<T> {
    const { requestPhrase, shaType } = this.settings;
    const body = { ...params, signature: apsSignature(params, requestPhrase, shaType) };
    return observedCall(
      endpoint,
      this.options.observe,
      async () => {
        const headers = { Accept: 'application/json' };
        return sendHttp(this.url, { method: 'POST', headers, json: body, timeoutMs: this.options.timeoutMs });
      },
      (answer) => interpret(this.classify(endpoint, answer)),
      (answer) => answer.status,
    );
  }

  private classify(endpoint: string, { status, headers, text }: HttpAnswer): ApsAnswer {
    if (status === 429 || status === 503) {
      const retryAfterMs = parseRetryAfter(headers.get('retry-after'), this.options.clock.now());
      throw new ProviderError('rate_limited', `${endpoint}: HTTP ${status}, slow down`, {
        endpoint,
        httpStatus: status,
        retryAfterMs,
      });
    }
    const answer = parseAnswer(text);
    if (!answer) {
      const what = text.trim() === '' ? 'an empty body' : 'a non-JSON body';
      throw new ProviderError('unavailable', `${endpoint}: HTTP ${status} with ${what}`, {
        endpoint,
        httpStatus: status,
      });
    }
    if (status >= 500) {
      throw new ProviderError('unavailable', `${endpoint}: HTTP ${status}`, { endpoint, httpStatus: status });
    }
    if (!verifyApsSignature(answer, this.settings.responsePhrase, this.settings.shaType)) {
      throw new ProviderError(
        'unavailable',
        `${endpoint}: the answer's signature does not verify (tampered with, or check responsePhrase and shaType)`,
        { endpoint, httpStatus: status },
      );
    }
    return answer;
  }
}

function parseAnswer(text: string): ApsAnswer | null {
  if (text.trim() === '') return null;
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as ApsAnswer) : null;
  } catch {
    return null;
  }
}
