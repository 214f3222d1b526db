import { RentlinkError } from '../../errors.js';
import type { SendPaymentInput } from './validation.js';

/**
 * The sandbox's invoices and the rules that change them. No HTTP here: the pay page, the control
 * endpoints and the handle's methods all go through {@link InvoiceStore} so they behave identically.
 */

/** What GetPaymentStatus reports. Never "Expired": MyFatoorah leaves expiry to the client. */
export type SandboxInvoiceStatus = 'Pending' | 'Paid' | 'Canceled' | 'DuplicatePayment';
/** `Succss` is MyFatoorah's spelling, kept on purpose. */
export type SandboxTransactionStatus = 'Succss' | 'Failed' | 'InProgress';

/** One payment attempt on an invoice. */
export interface SandboxTransaction {
  paymentId: string;
  transactionId: string;
  referenceId: string;
  trackId: string;
  authorizationId: string | null;
  status: SandboxTransactionStatus;
  /** Epoch ms from the sandbox clock. */
  at: number;
  valueMinor: number;
  gateway: 'KNET';
  /** MyFatoorah error code (`MF002` for a decline); '' on success. */
  errorCode: string;
  error: string | null;
}

/** An invoice as the sandbox stores it (copies are handed out; mutate through the handle). */
export interface SandboxInvoice {
  /** MyFatoorah InvoiceId, sequential from 100001. */
  id: number;
  /** MyFatoorah's own InvoiceReference (`2026000001`). */
  invoiceReference: string;
  /** OUR reference: the CustomerReference sent with SendPayment, or null. */
  reference: string | null;
  valueMinor: number;
  currency: string;
  status: SandboxInvoiceStatus;
  /** Epoch ms (sandbox clock). */
  createdAt: number;
  /** Epoch ms (sandbox clock); the invoice is expired from this instant on. */
  expiresAt: number;
  /** Whether ExpiryDate was sent (false → the account default validity was applied). */
  expiryRequested: boolean;
  customerName: string;
  customerEmail: string | null;
  customerMobile: string | null;
  mobileCountryCode: string | null;
  customerCivilId: string | null;
  userDefinedField: string | null;
  notificationOption: SendPaymentInput['notificationOption'];
  language: 'en' | 'ar';
  callBackUrl: string | null;
  errorUrl: string | null;
  transactions: SandboxTransaction[];
  /** The SendPayment body exactly as received (parsed JSON). */
  request: unknown;
}

/** Outcome of a payment attempt, with where the customer's browser is sent next. */
export interface PaymentOutcome {
  invoice: SandboxInvoice;
  transaction: SandboxTransaction;
  paymentId: string;
  /** `CallBackUrl?paymentId=…` / `ErrorUrl?paymentId=…`, or the sandbox's own result page. */
  redirectUrl: string;
}

export interface PaymentOptions {
  /** Pay/fail even when the invoice is expired — a payment that landed at the last second. */
  force?: boolean;
}

const FIRST_INVOICE_ID = 100_001;
const DECLINE_MESSAGE = 'Declined by the issuer bank (sandbox simulated decline)';

export interface StoreOptions {
  defaultValidityMs: number;
  /** Builds the no-CallBackUrl/ErrorUrl landing page for an invoice and payment. */
  resultPageUrl: (invoiceId: number, paymentId: string) => string;
  trackDate: (epochMs: number) => string;
  localYear: (epochMs: number) => number;
  /** Called after every change (create, pay, fail, cancel) with the invoice changed, e.g. to persist it. */
  onChange?: (invoice: SandboxInvoice) => void;
}

/**
 * The invoices, indexed by id, by CustomerReference and by PaymentId, so every request costs the same
 * however many invoices exist (persisted one invoice per change through `onChange`).
 */
export class InvoiceStore {
  private readonly byId = new Map<number, SandboxInvoice>();
  private readonly idsByReference = new Map<string, number[]>();
  private readonly idByPaymentId = new Map<string, number>();
  private nextInvoiceId = FIRST_INVOICE_ID;
  private transactionSeq = 0;

  constructor(private readonly options: StoreOptions) {}

  /** Takes back invoices saved before a restart; id sequences continue after the highest. */
  restore(invoices: SandboxInvoice[]): void {
    for (const invoice of invoices) {
      this.index(invoice);
      this.nextInvoiceId = Math.max(this.nextInvoiceId, invoice.id + 1);
      this.transactionSeq += invoice.transactions.length;
    }
  }

  private index(invoice: SandboxInvoice): void {
    this.byId.set(invoice.id, invoice);
    if (invoice.reference !== null) {
      const ids = this.idsByReference.get(invoice.reference) ?? [];
      if (!ids.includes(invoice.id)) ids.push(invoice.id);
      this.idsByReference.set(invoice.reference, ids);
    }
    for (const t of invoice.transactions) this.idByPaymentId.set(t.paymentId, invoice.id);
  }

  /** Stores a validated SendPayment request. CustomerReference is NOT unique (the real API is not known to enforce it). */
  create(input: SendPaymentInput, request: unknown, now: number): SandboxInvoice {
    const id = this.nextInvoiceId++;
    const invoice: SandboxInvoice = {
      id,
      invoiceReference: `${this.options.localYear(now)}${String(id - FIRST_INVOICE_ID + 1).padStart(6, '0')}`,
      reference: input.customerReference,
      valueMinor: input.valueMinor,
      currency: input.currency,
      status: 'Pending',
      createdAt: now,
      expiresAt: input.expiresAt ?? now + this.options.defaultValidityMs,
      expiryRequested: input.expiresAt !== null,
      customerName: input.customerName,
      customerEmail: input.customerEmail,
      customerMobile: input.customerMobile,
      mobileCountryCode: input.mobileCountryCode,
      customerCivilId: input.customerCivilId,
      userDefinedField: input.userDefinedField,
      notificationOption: input.notificationOption,
      language: input.language,
      callBackUrl: input.callBackUrl,
      errorUrl: input.errorUrl,
      transactions: [],
      request,
    };
    this.index(invoice);
    this.options.onChange?.(invoice);
    return invoice;
  }

  get(id: number | string): SandboxInvoice | undefined {
    const numeric = typeof id === 'number' ? id : /^\d+$/.test(id.trim()) ? Number(id) : NaN;
    return this.byId.get(numeric);
  }

  /** Like {@link get} but throws NOT_FOUND. */
  require(id: number | string): SandboxInvoice {
    const invoice = this.get(id);
    if (!invoice) throw new RentlinkError('NOT_FOUND', `sandbox: no invoice ${String(id)}`);
    return invoice;
  }

  all(): SandboxInvoice[] {
    return [...this.byId.values()];
  }

  /** Every invoice with this CustomerReference, oldest first. */
  byReference(reference: string): SandboxInvoice[] {
    return (this.idsByReference.get(reference) ?? []).map((id) => this.byId.get(id) as SandboxInvoice);
  }

  byPaymentId(paymentId: string): SandboxInvoice | undefined {
    const id = this.idByPaymentId.get(paymentId);
    return id === undefined ? undefined : this.byId.get(id);
  }

  isExpired(invoice: SandboxInvoice, now: number): boolean {
    return now >= invoice.expiresAt;
  }

  /** Why the invoice cannot take a payment attempt now, or null when it can. */
  refusal(invoice: SandboxInvoice, now: number, options: PaymentOptions = {}): string | null {
    if (invoice.status === 'Canceled') return 'the invoice is canceled';
    if (!options.force && this.isExpired(invoice, now)) return 'the invoice has expired';
    return null;
  }

  /**
   * A successful payment: Paid, or DuplicatePayment when it was already paid (the customer paid twice).
   * @throws RentlinkError NOT_FOUND / INVALID_STATE (canceled, or expired without `force`).
   */
  pay(id: number | string, now: number, options: PaymentOptions = {}): PaymentOutcome {
    const invoice = this.requirePayable(id, now, options);
    const transaction = this.addTransaction(invoice, 'Succss', now);
    invoice.status = invoice.transactions.filter((t) => t.status === 'Succss').length > 1 ? 'DuplicatePayment' : 'Paid';
    this.options.onChange?.(invoice);
    return this.outcome(invoice, transaction, invoice.callBackUrl);
  }

  /** A declined attempt (MF002); the invoice status does not change. */
  fail(id: number | string, now: number, options: PaymentOptions = {}): PaymentOutcome {
    const invoice = this.requirePayable(id, now, options);
    const transaction = this.addTransaction(invoice, 'Failed', now);
    this.options.onChange?.(invoice);
    return this.outcome(invoice, transaction, invoice.errorUrl);
  }

  /** Cancels an unpaid invoice. @throws RentlinkError INVALID_STATE when it is already paid. */
  cancel(id: number | string): SandboxInvoice {
    const invoice = this.require(id);
    if (invoice.status === 'Paid' || invoice.status === 'DuplicatePayment') {
      throw new RentlinkError('INVALID_STATE', `sandbox: invoice ${invoice.id} is paid and cannot be canceled`);
    }
    invoice.status = 'Canceled';
    this.options.onChange?.(invoice);
    return invoice;
  }

  private requirePayable(id: number | string, now: number, options: PaymentOptions): SandboxInvoice {
    const invoice = this.require(id);
    const refusal = this.refusal(invoice, now, options);
    if (refusal) throw new RentlinkError('INVALID_STATE', `sandbox: invoice ${invoice.id} cannot be paid: ${refusal}`);
    return invoice;
  }

  private addTransaction(invoice: SandboxInvoice, status: SandboxTransactionStatus, now: number): SandboxTransaction {
    const seq = ++this.transactionSeq;
    const succeeded = status === 'Succss';
    // Deterministic, digit-only ids shaped like the real ones, unique across the sandbox.
    const transaction: SandboxTransaction = {
      paymentId: `0707${invoice.id}${String(seq).padStart(7, '0')}`,
      transactionId: String(330_000_000_000_000 + seq),
      referenceId: String(330_000_000_000 + seq),
      trackId: `${this.options.trackDate(now)}_${1_700_000 + seq}`,
      authorizationId: succeeded ? `B${String(seq).padStart(5, '0')}` : null,
      status,
      at: now,
      valueMinor: invoice.valueMinor,
      gateway: 'KNET',
      errorCode: succeeded ? '' : 'MF002',
      error: succeeded ? null : DECLINE_MESSAGE,
    };
    invoice.transactions.push(transaction);
    this.idByPaymentId.set(transaction.paymentId, invoice.id);
    return transaction;
  }

  private outcome(invoice: SandboxInvoice, transaction: SandboxTransaction, target: string | null): PaymentOutcome {
    const redirectUrl = target
      ? withQueryParam(target, 'paymentId', transaction.paymentId)
      : this.options.resultPageUrl(invoice.id, transaction.paymentId);
    return { invoice, transaction, paymentId: transaction.paymentId, redirectUrl };
  }
}

/** Appends `name=value` the way MyFatoorah does: `?` or `&` depending on the URL, before any fragment. */
function withQueryParam(url: string, name: string, value: string): string {
  const hashAt = url.indexOf('#');
  const base = hashAt === -1 ? url : url.slice(0, hashAt);
  const fragment = hashAt === -1 ? '' : url.slice(hashAt);
  const separator = !base.includes('?') ? '?' : base.endsWith('?') || base.endsWith('&') ? '' : '&';
  return `${base}${separator}${encodeURIComponent(name)}=${encodeURIComponent(value)}${fragment}`;
}

/** A deep copy, so tests cannot mutate sandbox state by accident. */
export function snapshot(invoice: SandboxInvoice): SandboxInvoice {
  return structuredClone(invoice);
}
