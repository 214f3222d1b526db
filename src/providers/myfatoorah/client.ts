import ky, { type KyInstance } from 'ky';
import type { Clock } from '../../time/clock.js';
import { fromProviderDecimal, toProviderDecimal } from '../../money.js';
import { formatWallClock, zonedWallClockToInstant } from '../../time/periods.js';
import { sendsEmail, type Channel } from '../types.js';
import { parseMyFatoorahExpiry, parseRetryAfter } from '../parse.js';
import {
  ProviderError,
  type CreatedLink,
  type LinkKey,
  type LinkRequest,
  type LinkStatus,
  type PaymentProvider,
  type ProviderId,
  type ProviderTransaction,
} from '../legacy-types.js';

/** Called after every provider HTTP call, for metrics and logs. Never receives secrets. */
export type CallObserver = (call: { endpoint: string; outcome: string; httpStatus: number | null; ms: number }) => void;

export interface MyFatoorahOptions {
  id?: Extract<ProviderId, 'myfatoorah' | 'sandbox'>;
  baseUrl: string;
  token: string;
  /** The account's time zone: ExpiryDate is sent and read as wall-clock time there. */
  accountTimeZone: string;
  /** The account's base currency: GetPaymentStatus states InvoiceValue in it. */
  accountCurrency: string;
  timeoutMs: number;
  clock: Clock;
  observe?: CallObserver;
}

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
 * MyFatoorah API v2 (SendPayment, GetPaymentStatus). Decides on the body, not the status code alone
 * (the official SDK does the same): non-JSON or empty bodies are transport errors unless the status
 * says the request itself was refused (4xx). ky never retries: BullMQ owns retries.
 */
export class MyFatoorahProvider implements PaymentProvider {
  readonly id: Extract<ProviderId, 'myfatoorah' | 'sandbox'>;
  private readonly http: KyInstance;

  constructor(private readonly options: MyFatoorahOptions) {
    this.id = options.id ?? 'myfatoorah';
    this.http = ky.create({
      prefixUrl: options.baseUrl.replace(/\/+$/, ''),
      timeout: options.timeoutMs,
      retry: 0,
      throwHttpErrors: false,
      headers: { Authorization: `Bearer ${options.token}`, Accept: 'application/json' },
    });
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
    return { invoiceId: String(invoiceId), url: typeof url === 'string' ? url : null };
  }

  async findLink(reference: string, currency: string): Promise<LinkStatus | null> {
    try {
      const data = await this.call('GetPaymentStatus', { Key: reference, KeyType: 'CustomerReference' });
      return this.toLinkStatus(data, currency);
    } catch (err) {
      // A business-level "no data match" for our own reference means: no invoice was created.
      if (err instanceof ProviderError && err.kind === 'rejected' && err.httpStatus !== 401 && err.httpStatus !== 403)
        return null;
      throw err;
    }
  }

  async getStatus(key: LinkKey): Promise<LinkStatus> {
    const body = key.paymentId
      ? { Key: key.paymentId, KeyType: 'PaymentId' }
      : { Key: key.invoiceId, KeyType: 'InvoiceId' };
    if (!body.Key)
      throw new ProviderError('rejected', 'getStatus needs an invoiceId or a paymentId', {
        endpoint: 'GetPaymentStatus',
      });
    return this.toLinkStatus(await this.call('GetPaymentStatus', body), key.currency);
  }

  /** The SendPayment body, exactly as MyFatoorah documents it. */
  sendPaymentBody(req: LinkRequest): Record<string, unknown> {
    const body: Record<string, unknown> = {
      NotificationOption: NOTIFICATION_OPTION[req.channel],
      CustomerName: req.customerName,
      InvoiceValue: toProviderDecimal(req.amountMinor, req.currency),
      DisplayCurrencyIso: req.currency,
      Language: req.language,
      CustomerReference: req.reference,
      UserDefinedField: req.userDefinedField,
      ExpiryDate: formatWallClock(req.expiresAt, this.options.accountTimeZone),
    };
    if (sendsEmail(req.channel) || req.email) body['CustomerEmail'] = req.email ?? undefined;
    if (req.mobile && req.mobileCountryCode) {
      body['CustomerMobile'] = req.mobile;
      body['MobileCountryCode'] = req.mobileCountryCode;
    }
    if (req.callbackUrl) body['CallBackUrl'] = req.callbackUrl;
    if (req.errorUrl) body['ErrorUrl'] = req.errorUrl;
    return body;
  }

  private async call(endpoint: string, body: unknown): Promise<Record<string, unknown>> {
    const started = performance.now();
    const report = (outcome: string, httpStatus: number | null) =>
      this.options.observe?.({ endpoint, outcome, httpStatus, ms: performance.now() - started });
    let response: Response;
    let text: string;
    try {
      response = await this.http.post(`v2/${endpoint}`, { json: body });
      text = await response.text();
    } catch (err) {
      report('unavailable', null);
      throw new ProviderError('unavailable', `${endpoint}: ${describeTransportError(err)}`, { endpoint, cause: err });
    }
    try {
      const data = this.classify(endpoint, response, text);
      report('ok', response.status);
      return data;
    } catch (err) {
      report(err instanceof ProviderError ? err.kind : 'unavailable', response.status);
      throw err;
    }
  }

  private classify(endpoint: string, response: Response, text: string): Record<string, unknown> {
    const status = response.status;
    if (status === 429 || status === 503) {
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), this.options.clock.now());
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
      throw new ProviderError(
        kind,
        `${endpoint}: HTTP ${status} with ${what}${status === 401 ? ' (check MYFATOORAH_TOKEN)' : ''}`,
        {
          endpoint,
          httpStatus: status,
        },
      );
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

  private toLinkStatus(data: Record<string, unknown>, currency: string): LinkStatus {
    const rawStatus = String(data['InvoiceStatus'] ?? '');
    const transactions = readTransactions(data['InvoiceTransactions']);
    const paid = rawStatus === 'Paid' || rawStatus === 'DuplicatePayment';
    const success = transactions.find((t) => /^(succss|success|succeeded|paid)$/i.test(t.status)) ?? null;
    const rawSuccess = success ? findRawTransaction(data['InvoiceTransactions'], success.paymentId) : null;
    return {
      invoiceId: String(data['InvoiceId'] ?? ''),
      reference:
        typeof data['CustomerReference'] === 'string' && data['CustomerReference'] !== ''
          ? data['CustomerReference']
          : null,
      state: paid ? 'paid' : rawStatus === 'Canceled' ? 'canceled' : 'pending',
      duplicatePayment: rawStatus === 'DuplicatePayment',
      rawStatus,
      amountMinor: this.invoiceAmount(data, currency),
      expiresAt: parseMyFatoorahExpiry(data['ExpiryDate'], data['ExpiryTime'], this.options.accountTimeZone),
      payment: paid
        ? {
            paymentId: success?.paymentId ?? null,
            gateway: success?.gateway ?? null,
            amountMinor: rawSuccess ? fromProviderDecimal(rawSuccess['TransationValue'], currency) : null,
            paidAt: rawSuccess ? this.readLocalTimestamp(rawSuccess['TransactionDate']) : null,
          }
        : null,
      url: null,
      transactions,
    };
  }

  /** InvoiceValue is in the account's base currency; for other currencies read the display value. */
  private invoiceAmount(data: Record<string, unknown>, currency: string): number | null {
    if (currency === this.options.accountCurrency) return fromProviderDecimal(data['InvoiceValue'], currency);
    const display =
      typeof data['InvoiceDisplayValue'] === 'string'
        ? /[\d.]+/.exec(data['InvoiceDisplayValue'].replace(/,/g, ''))?.[0]
        : undefined;
    return display ? fromProviderDecimal(display, currency) : null;
  }

  private readLocalTimestamp(value: unknown): number | null {
    if (typeof value !== 'string') return null;
    const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})/.exec(value);
    return match ? zonedWallClockToInstant(match[1] as string, match[2] as string, this.options.accountTimeZone) : null;
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

function describeTransportError(err: unknown): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError') return 'timed out';
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return `${err.message}${cause}`;
  }
  return String(err);
}

function readTransactions(value: unknown): ProviderTransaction[] {
  if (!Array.isArray(value)) return [];
  return value.map((t: Record<string, unknown>) => ({
    paymentId: t['PaymentId'] == null ? null : String(t['PaymentId']),
    status: String(t['TransactionStatus'] ?? ''),
    gateway: t['PaymentGateway'] == null ? null : String(t['PaymentGateway']),
    errorCode: t['ErrorCode'] ? String(t['ErrorCode']) : null,
    error: t['Error'] ? String(t['Error']) : null,
  }));
}

function findRawTransaction(value: unknown, paymentId: string | null): Record<string, unknown> | null {
  if (!Array.isArray(value)) return null;
  return (value as Record<string, unknown>[]).find((t) => String(t['PaymentId'] ?? '') === (paymentId ?? '')) ?? null;
}
