import { toDecimalString, toProviderDecimal } from '../../money.js';
import { formatLocalIso, formatLongDate, formatTimeOfDay } from './dates.js';
import type { SandboxInvoice, SandboxTransaction } from './state.js';

/**
 * The JSON MyFatoorah sends: GetPaymentStatus' Data model (shaped like the samples in
 * myfatoorah-get-payment-status.txt, odd spellings included) and the V2 webhook body.
 */

export interface ModelContext {
  accountTimeZone: string;
  /** Account base currency, ISO 4217. */
  currency: string;
}

/** MyFatoorah prints its own currency labels ("KD", not "KWD") in GetPaymentStatus. */
const DISPLAY_CURRENCY: Readonly<Record<string, string>> = {
  KWD: 'KD',
  SAR: 'SR',
  BHD: 'BD',
  QAR: 'QR',
  JOD: 'JD',
  OMR: 'OMR',
  AED: 'AED',
  EGP: 'EGP',
};

const COUNTRY: Readonly<Record<string, { iso: string; name: string }>> = {
  KWD: { iso: 'KWT', name: 'Kuwait' },
  SAR: { iso: 'SAU', name: 'Saudi Arabia' },
  AED: { iso: 'ARE', name: 'United Arab Emirates' },
  QAR: { iso: 'QAT', name: 'Qatar' },
  BHD: { iso: 'BHR', name: 'Bahrain' },
  OMR: { iso: 'OMN', name: 'Oman' },
  JOD: { iso: 'JOR', name: 'Jordan' },
  EGP: { iso: 'EGY', name: 'Egypt' },
};

function displayCurrency(currency: string): string {
  return DISPLAY_CURRENCY[currency] ?? currency;
}

function countryOf(currency: string): { iso: string; name: string } {
  return COUNTRY[currency] ?? { iso: 'KWT', name: 'Kuwait' };
}

/** The mobile as GetPaymentStatus shows it: country code glued on ("+96512345678"). */
function mobileForDisplay(invoice: SandboxInvoice): string | null {
  if (!invoice.customerMobile) return null;
  return `${invoice.mobileCountryCode ?? ''}${invoice.customerMobile}`;
}

/** SendPayment's success `Data`. */
export function sendPaymentData(invoice: SandboxInvoice, invoiceUrl: string): Record<string, unknown> {
  return {
    InvoiceId: invoice.id,
    InvoiceURL: invoiceUrl,
    CustomerReference: invoice.reference,
    UserDefinedField: invoice.userDefinedField,
  };
}

/** GetPaymentStatus' `Data`. */
export function paymentStatusData(invoice: SandboxInvoice, ctx: ModelContext): Record<string, unknown> {
  const tz = ctx.accountTimeZone;
  const value = toDecimalString(invoice.valueMinor, invoice.currency);
  return {
    InvoiceId: invoice.id,
    InvoiceStatus: invoice.status,
    InvoiceReference: invoice.invoiceReference,
    CustomerReference: invoice.reference,
    CreatedDate: formatLocalIso(invoice.createdAt, tz),
    ExpiryDate: formatLongDate(invoice.expiresAt, tz),
    ExpiryTime: formatTimeOfDay(invoice.expiresAt, tz),
    InvoiceValue: toProviderDecimal(invoice.valueMinor, invoice.currency),
    Comments: null,
    CustomerName: invoice.customerName,
    CustomerMobile: mobileForDisplay(invoice),
    CustomerEmail: invoice.customerEmail,
    UserDefinedField: invoice.userDefinedField,
    InvoiceDisplayValue: `${value} ${displayCurrency(invoice.currency)}`,
    DueDeposit: toProviderDecimal(invoice.valueMinor, invoice.currency),
    DepositStatus: 'Not Deposited',
    InvoiceItems: [],
    InvoiceTransactions: invoice.transactions.map((t) => transactionModel(t, invoice.currency, ctx)),
    Suppliers: [],
  };
}

function transactionModel(t: SandboxTransaction, currency: string, ctx: ModelContext): Record<string, unknown> {
  const amount = toDecimalString(t.valueMinor, currency);
  const zero = toDecimalString(0, currency);
  const label = displayCurrency(currency);
  return {
    TransactionDate: formatLocalIso(t.at, ctx.accountTimeZone),
    PaymentGateway: t.gateway,
    ReferenceId: t.referenceId,
    TrackId: t.trackId,
    TransactionId: t.transactionId,
    PaymentId: t.paymentId,
    AuthorizationId: t.authorizationId,
    TransactionStatus: t.status,
    TransationValue: amount,
    CustomerServiceCharge: zero,
    TotalServiceCharge: zero,
    DueValue: amount,
    PaidCurrency: label,
    PaidCurrencyValue: amount,
    VatAmount: zero,
    IpAddress: '127.0.0.1',
    Country: countryOf(currency).name,
    Currency: label,
    Error: t.error,
    CardNumber: null,
    ErrorCode: t.errorCode,
  };
}

/** V2 webhook Invoice.Status: DuplicatePayment is still a paid invoice. */
function webhookInvoiceStatus(invoice: SandboxInvoice): string {
  switch (invoice.status) {
    case 'Paid':
    case 'DuplicatePayment':
      return 'PAID';
    case 'Canceled':
      return 'CANCELED';
    case 'Pending':
      return 'PENDING';
  }
}

/**
 * A V2 `PAYMENT_STATUS_CHANGED` (Code 1) body. Dates are account-local like the rest of the V2 API.
 * `Customer.Reference` is the CustomerCivilId (the customer's id, not the invoice's): our reference
 * travels in `Invoice.ExternalIdentifier`, and keeping them apart shows a worker reading the wrong one.
 */
export function paymentStatusChangedEvent(
  invoice: SandboxInvoice,
  t: SandboxTransaction,
  eventReference: string,
  now: number,
  ctx: ModelContext,
): Record<string, unknown> {
  const tz = ctx.accountTimeZone;
  const amount = toDecimalString(t.valueMinor, invoice.currency);
  const succeeded = t.status === 'Succss';
  return {
    Event: {
      Code: 1,
      Name: 'PAYMENT_STATUS_CHANGED',
      CountryIsoCode: countryOf(ctx.currency).iso,
      CreationDate: formatLocalIso(now, tz),
      Reference: eventReference,
    },
    Data: {
      Invoice: {
        Id: String(invoice.id),
        Status: webhookInvoiceStatus(invoice),
        Reference: invoice.invoiceReference,
        CreationDate: formatLocalIso(invoice.createdAt, tz),
        ExpirationDate: formatLocalIso(invoice.expiresAt, tz),
        ExternalIdentifier: invoice.reference,
        UserDefinedField: invoice.userDefinedField,
        MetaData: null,
      },
      Transaction: {
        Id: t.transactionId,
        Status: succeeded ? 'SUCCESS' : 'FAILED',
        PaymentMethod: 'KNET',
        PaymentId: t.paymentId,
        ReferenceId: t.referenceId,
        TrackId: t.trackId,
        AuthorizationId: t.authorizationId,
        TransactionDate: formatLocalIso(t.at, tz),
        ECI: '',
        IP: { Address: '127.0.0.1', Country: countryOf(invoice.currency).name },
        Error: succeeded ? { Code: '', Message: '' } : { Code: t.errorCode, Message: t.error ?? '' },
        Card: null,
      },
      Customer: {
        Reference: invoice.customerCivilId,
        Name: invoice.customerName,
        Mobile: mobileForDisplay(invoice),
        Email: invoice.customerEmail,
      },
      Amount: {
        BaseCurrency: invoice.currency,
        ValueInBaseCurrency: amount,
        ServiceCharge: toDecimalString(0, invoice.currency),
        ServiceChargeVAT: toDecimalString(0, invoice.currency),
        ReceivableAmount: amount,
        DisplayCurrency: invoice.currency,
        ValueInDisplayCurrency: amount,
        PayCurrency: invoice.currency,
        ValueInPayCurrency: amount,
      },
    },
  };
}
