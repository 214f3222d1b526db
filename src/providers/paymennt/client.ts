import { MINUTE, type Clock } from '../../time/clock.js';
import {
  ProviderError,
  type Channel,
  type Contact,
  type CreatedLink,
  type FieldProblem,
  type LinkKey,
  type LinkRequest,
  type LinkStatus,
  type PaymentProvider,
  type ProviderDeps,
  type WebhookRequest,
  type WebhookResult,
} from '../types.js';
import { contactProblems } from './contact.js';
import { createLinkBody, MAX_EXPIRES_IN_MINUTES } from './request.js';
import type { PaymenntSettings } from './settings.js';
import { checkoutId, toLinkStatus, type CheckoutObject } from './status.js';
import { isNotFound, PaymenntTransport, type PaymenntEndpoint } from './transport.js';
import { parsePaymenntWebhook } from './webhook.js';

/**
 * paymennt payment links (Merchant API v2.0): `POST /checkout/link`, `GET /checkout/{id}`,
 * `GET /checkout?requestId=…`, `POST /checkout/{id}/cancel`. Our reference is the requestId, which
 * paymennt accepts once only: after an uncertain create, {@link findLink} tells whether it exists.
 */
export class PaymenntProvider implements PaymentProvider {
  readonly id = 'paymennt' as const;
  readonly account: string;
  readonly sandbox: boolean;
  /** `expiresIn` is at most 10080 minutes (7 days); longer windows are covered by renewals. */
  readonly maxValidityMs = MAX_EXPIRES_IN_MINUTES * MINUTE;
  readonly canCancel = true;
  readonly timeZone: string;
  private readonly transport: PaymenntTransport;
  private readonly clock: Clock;

  constructor(
    private readonly settings: PaymenntSettings,
    deps: ProviderDeps & { sandbox: boolean },
  ) {
    this.account = settings.name;
    this.sandbox = deps.sandbox;
    this.timeZone = settings.timeZone;
    this.clock = deps.clock;
    this.transport = new PaymenntTransport({
      baseUrl: settings.baseUrl,
      apiKey: settings.apiKey,
      apiSecret: settings.apiSecret,
      account: settings.name,
      timeoutMs: deps.timeoutMs,
      clock: deps.clock,
      ...(deps.observe ? { observe: deps.observe } : {}),
    });
  }

  contactProblems(contact: Contact, channel: Channel, currency: string): FieldProblem[] {
    return contactProblems(contact, channel, currency);
  }

  /**
   * Creates the checkout link. `expiresIn` is the whole minutes to `req.expiresAt`, clamped to
   * 15…10080; the returned `expiresAt` is the expiry that applies. A contact paymennt would refuse
   * is refused here first, without a call.
   */
  async createLink(req: LinkRequest): Promise<CreatedLink> {
    const endpoint: PaymenntEndpoint = 'createLink';
    const problems = contactProblems(req.customer, req.channel, req.currency);
    if (problems.length > 0) {
      const list = problems.map((p) => `${p.field}: ${p.message}`).join('; ');
      throw new ProviderError('rejected', `${endpoint}: ${list}`, { endpoint });
    }
    const { body, expiresAt } = createLinkBody(req, this.clock.now());
    const checkout = asCheckout(
      await this.transport.call({ endpoint, method: 'POST', path: 'checkout/link', json: body }),
      endpoint,
    );
    const id = checkoutId(checkout);
    if (id === null) throw unverifiable(endpoint, 'answered success without a checkout id');
    const echoed = checkout['requestId'];
    if (typeof echoed === 'string' && echoed !== req.reference) {
      throw unverifiable(endpoint, `answered for requestId "${echoed}", not "${req.reference}"`);
    }
    const url = checkout['redirectUrl'];
    return { providerLinkId: id, url: typeof url === 'string' && url !== '' ? url : null, expiresAt };
  }

  /** The checkout created with requestId `reference`, or null when paymennt has none. */
  async findLink(reference: string, currency: string): Promise<LinkStatus | null> {
    const endpoint: PaymenntEndpoint = 'searchCheckouts';
    let page: unknown;
    try {
      page = await this.transport.call({
        endpoint,
        method: 'GET',
        path: 'checkout',
        searchParams: { requestId: reference },
      });
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
    const content = isRecord(page) ? page['content'] : undefined;
    if (!Array.isArray(content)) throw unverifiable(endpoint, 'answered a page without content');
    // The search filters by requestId already; an entry that echoes another one is not ours.
    const match = content.filter(isRecord).find((c) => c['requestId'] === undefined || c['requestId'] === reference);
    return match ? toLinkStatus(match, currency) : null;
  }

  /** The checkout's status; an answer about another checkout or reference is `unavailable`. */
  async getStatus(key: LinkKey): Promise<LinkStatus> {
    const endpoint: PaymenntEndpoint = 'getCheckout';
    const checkout = asCheckout(
      await this.transport.call({
        endpoint,
        method: 'GET',
        path: `checkout/${encodeURIComponent(key.providerLinkId)}`,
      }),
      endpoint,
    );
    const status = toLinkStatus(checkout, key.currency);
    if (status.providerLinkId !== '' && status.providerLinkId !== key.providerLinkId) {
      throw unverifiable(endpoint, `answered for checkout ${status.providerLinkId}, not ${key.providerLinkId}`);
    }
    if (status.reference !== null && status.reference !== key.reference) {
      throw unverifiable(
        endpoint,
        `checkout ${key.providerLinkId} has requestId "${status.reference}", not "${key.reference}"`,
      );
    }
    return { ...status, providerLinkId: key.providerLinkId };
  }

  /**
   * Cancels the checkout. One that is already closed (cancelled, failed, expired) is fine; a paid or
   * refunded one is `rejected`. paymennt's refusal text for those cases is not documented, so a
   * refused cancel is followed by a status read that decides.
   */
  async cancelLink(key: LinkKey): Promise<void> {
    const endpoint: PaymenntEndpoint = 'cancelCheckout';
    try {
      await this.transport.call({
        endpoint,
        method: 'POST',
        path: `checkout/${encodeURIComponent(key.providerLinkId)}/cancel`,
      });
    } catch (err) {
      if (!isRefusal(err)) throw err;
      const status = await this.getStatus(key);
      if (status.state === 'canceled' || status.state === 'expired') return;
      if (status.state === 'paid') {
        throw new ProviderError('rejected', `${endpoint}: checkout ${key.providerLinkId} is ${status.rawStatus}`, {
          endpoint,
          httpStatus: err.httpStatus,
          cause: err,
        });
      }
      throw err;
    }
  }

  /** See {@link parsePaymenntWebhook}: HMAC-verified when the account has a `webhookHmacKey`. */
  parseWebhook(req: WebhookRequest): WebhookResult {
    return parsePaymenntWebhook(req, {
      hmacKey: this.settings.webhookHmacKey,
      signatureHeader: this.settings.webhookSignatureHeader,
    });
  }
}

/** A business refusal (success:false), not an auth failure. */
function isRefusal(err: unknown): err is ProviderError {
  return err instanceof ProviderError && err.kind === 'rejected' && err.httpStatus !== 401 && err.httpStatus !== 403;
}

function asCheckout(result: unknown, endpoint: PaymenntEndpoint): CheckoutObject {
  if (!isRecord(result)) throw unverifiable(endpoint, 'answered with a result that is not a checkout');
  return result;
}

/** An answer that cannot be trusted: transient by contract, so the job retries (and looks up first). */
function unverifiable(endpoint: PaymenntEndpoint, what: string): ProviderError {
  return new ProviderError('unavailable', `${endpoint}: ${what}`, { endpoint });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
