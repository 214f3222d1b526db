import { toProviderDecimal } from '../../money.js';
import { formatWallClock } from '../../time/periods.js';
import { observedCall, parseRetryAfter, sendHttp, type HttpAnswer } from '../http.js';
import {
  ProviderError,
  sendsEmail,
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
import { myfatoorahContactProblems } from './contact.js';
import type { MyFatoorahSettings } from './settings.js';
import { toLinkStatus } from './status.js';
import { MYFATOORAH_SIGNATURE_HEADER, verifyMyFatoorahWebhook } from './webhook.js';

/** rentlink's channel → MyFatoorah's NotificationOption (ALL is email + SMS + the link in the answer). */
const NOTIFICATION_OPTION = { email: 'EML', sms: 'SMS', both: 'ALL', link: 'LNK' } as const satisfies Record<
  Channel,
  string
>;

interface Envelope {
  IsSuccess?: boolean;
  Message?: string | null;
  ValidationErrors?: Array<{ Name?: string | null; Error?: string | null }> | null;
  FieldsErrors?: Array<{ Name?: string | null; Error?: string | null }> | null;
  Data?: Record<string, unknown> | null;
}

/**
 * MyFatoorah API v2 (SendPayment, GetPaymentStatus) for one account. Decides on the body, not the
 * status code alone (the official SDK does the same): non-JSON or empty bodies are transport errors
 * unless the status says the request itself was refused (4xx). Nothing here retries: BullMQ owns retries.
 * MyFatoorah cannot close an invoice through the API, so a superseded link stays payable until its
 * expiry (rentlink checks it once more after that).
 */
export class MyFatoorahProvider implements PaymentProvider {
  readonly id = 'myfatoorah' as const;
  readonly account: string;
  readonly sandbox: boolean;
  readonly maxValidityMs = null;
  readonly canCancel = false;
  readonly timeZone: string;
  private readonly baseUrl: string;
  private readonly headers: Record<string, string>;

  constructor(
    private readonly settings: MyFatoorahSettings,
    private readonly deps: ProviderDeps & { sandbox: boolean },
  ) {
    this.account = settings.name;
    this.sandbox = deps.sandbox;
    this.timeZone = settings.timeZone;
    this.baseUrl = settings.baseUrl.replace(/\/+$/, '');
    this.headers = { Authorization: `Bearer ${settings.token}`, Accept: 'application/json' };
  }

  contactProblems(contact: Contact, channel: Channel): FieldProblem[] {
    return myfatoorahContactProblems(contact, channel);
  }

  async createLink(req: LinkRequest): Promise<CreatedLink> {
    const data = await this.call('SendPayment', this.sendPaymentBody(req));
    const invoiceId = data['InvoiceId'];
    if (invoiceId === undefined || invoiceId === null) {
      throw new ProviderError('unavailable', 'SendPayment answered success without an InvoiceId', {
        endpoint: 'SendPayment',
      });
    }
    const url = data['InvoiceURL'];
    return { providerLinkId: String(invoiceId), url: typeof url === 'string' ? url : null, expiresAt: null };
  }

  async findLink(reference: string, currency: string): Promise<LinkStatus | null> {
    try {
      const data = await this.call('GetPaymentStatus', { Key: reference, KeyType: 'CustomerReference' });
      return toLinkStatus(data, currency, this.readContext());
    } catch (err) {
      // A business-level "no data match" for our own reference means: no invoice was created.
      if (err instanceof ProviderError && err.kind === 'rejected' && err.httpStatus !== 401 && err.httpStatus !== 403)
        return null;
      throw err;
    }
  }

  /** Always by InvoiceId (our stored id): a PaymentId from a browser callback is not trusted input. */
  async getStatus(key: LinkKey): Promise<LinkStatus> {
    const data = await this.call('GetPaymentStatus', { Key: key.providerLinkId, KeyType: 'InvoiceId' });
    return toLinkStatus(data, key.currency, this.readContext());
  }

  parseWebhook(req: WebhookRequest): WebhookResult {
    const signature = req.headers[MYFATOORAH_SIGNATURE_HEADER.toLowerCase()];
    if (!signature) return { kind: 'bad-signature', reason: 'signature header missing' };
    if (!this.settings.webhookSecret) return { kind: 'bad-signature', reason: 'no webhook secret is configured' };
    const code = v2EventCode(req.rawBody);
    if (code !== null && code !== 1) {
      // Refunds, supplier and other events sign other field lists and ask nothing of rentlink.
      return { kind: 'ignored', reason: `event code ${code} is not a payment status change` };
    }
    const hint = verifyMyFatoorahWebhook(req.rawBody, signature, this.settings.webhookSecret);
    if (!hint) return { kind: 'bad-signature', reason: 'signature does not match' };
    return {
      kind: 'hint',
      hint: {
        providerLinkId: hint.invoiceId,
        reference: hint.reference,
        dedupeKey: hint.dedupeKey,
        summary: {
          version: hint.version,
          paymentId: hint.paymentId,
          invoiceStatus: hint.invoiceStatus,
          transactionStatus: hint.transactionStatus,
        },
      },
    };
  }

  /** The SendPayment body, exactly as MyFatoorah documents it. */
  sendPaymentBody(req: LinkRequest): Record<string, unknown> {
    const { customer } = req;
    const body: Record<string, unknown> = {
      NotificationOption: NOTIFICATION_OPTION[req.channel],
      CustomerName: customer.name,
      InvoiceValue: toProviderDecimal(req.amountMinor, req.currency),
      DisplayCurrencyIso: req.currency,
      Language: customer.language,
      CustomerReference: req.reference,
      UserDefinedField: JSON.stringify(req.metadata),
      ExpiryDate: formatWallClock(req.expiresAt, this.settings.timeZone),
    };
    if (sendsEmail(req.channel) || customer.email) body['CustomerEmail'] = customer.email ?? undefined;
    if (customer.mobile && customer.mobileCountryCode) {
      body['CustomerMobile'] = customer.mobile;
      body['MobileCountryCode'] = customer.mobileCountryCode;
    }
    if (req.returnUrl) body['CallBackUrl'] = req.returnUrl;
    if (req.errorUrl) body['ErrorUrl'] = req.errorUrl;
    return body;
  }

  private readContext() {
    return { timeZone: this.settings.timeZone, accountCurrency: this.settings.currency };
  }

  private call(endpoint: string, body: unknown): Promise<Record<string, unknown>> {
    return observedCall(
      endpoint,
      this.deps.observe,
      () =>
        sendHttp(`${this.baseUrl}/v2/${endpoint}`, {
          method: 'POST',
          headers: this.headers,
          json: body,
          timeoutMs: this.deps.timeoutMs,
        }),
      (answer) => this.classify(endpoint, answer),
      (answer) => answer.status,
    );
  }

  private classify(endpoint: string, { status, headers, text }: HttpAnswer): Record<string, unknown> {
    if (status === 429 || status === 503) {
      const retryAfterMs = parseRetryAfter(headers.get('retry-after'), this.deps.clock.now());
      throw new ProviderError('rate_limited', `${endpoint}: HTTP ${status}, slow down`, {
        endpoint,
        httpStatus: status,
        retryAfterMs,
      });
    }
    const envelope = parseEnvelope(text);
    if (!envelope) {
      const kind = status >= 400 && status < 500 ? 'rejected' : 'unavailable';
      const what = text.trim() === '' ? 'an empty body' : 'a non-JSON body';
      const hint = status === 401 ? ` (check the token of account ${this.account})` : '';
      throw new ProviderError(kind, `${endpoint}: HTTP ${status} with ${what}${hint}`, {
        endpoint,
        httpStatus: status,
      });
    }
    if (status >= 500) {
      throw new ProviderError('unavailable', `${endpoint}: HTTP ${status}: ${envelope.Message ?? 'server error'}`, {
        endpoint,
        httpStatus: status,
      });
    }
    if (envelope.IsSuccess !== true || !envelope.Data) {
      throw new ProviderError('rejected', `${endpoint}: ${describeFailure(envelope)}`, {
        endpoint,
        httpStatus: status,
      });
    }
    return envelope.Data;
  }
}

function parseEnvelope(text: string): Envelope | null {
  if (text.trim() === '') return null;
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' && 'IsSuccess' in parsed ? (parsed as Envelope) : null;
  } catch {
    return null;
  }
}

/** The provider's own words: Message plus every field error, so the operator sees why. */
function describeFailure(envelope: Envelope): string {
  const fields = [...(envelope.ValidationErrors ?? []), ...(envelope.FieldsErrors ?? [])]
    .map((e) => [e.Name, e.Error].filter(Boolean).join(': '))
    .filter(Boolean);
  const message = envelope.Message?.trim() || 'request refused';
  return fields.length ? `${message} (${fields.join('; ')})` : message;
}

/** The `Event.Code` of a V2 webhook body; null for V1 bodies and anything unreadable. */
function v2EventCode(raw: string): number | null {
  try {
    const code = (JSON.parse(raw) as { Event?: { Code?: unknown } }).Event?.Code;
    return typeof code === 'number' ? code : null;
  } catch {
    return null;
  }
}
