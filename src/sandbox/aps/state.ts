import { RentlinkError } from '../../errors.js';
import type { SandboxStore } from '../store.js';
import type { PaymentLinkInput } from './validation.js';

/**
 * The fake's payment links and the rules that change them. No HTTP here: the API, the pay page and
 * the test handle all go through {@link ApsLinkStore}, so a click on Pay and `handle.pay()` do the
 * same. Every change is written to the SandboxStore as one record (the link), so links survive a
 * restart of `rentlink sandbox` / `start`.
 */

/** What is stored; `Expired` is never stored, it is read from the clock (see {@link linkStatusAt}). */
export type ApsStoredStatus = 'Open' | 'Paid' | 'Closed';
/** What CHECK_PAYMENT_LINK_STATUS reports. */
export type ApsLinkStatus = ApsStoredStatus | 'Expired';

/** One payment attempt on a link. */
export interface ApsSandboxTransaction {
  /** APS' transaction id (18 digits). */
  fortId: string;
  outcome: 'success' | 'declined';
  /** `14000` purchase success, `13666` declined. */
  responseCode: string;
  responseMessage: string;
  /** Sandbox clock. */
  at: number;
  amountMinor: number;
  paymentOption: 'VISA';
}

export interface ApsSandboxLink {
  /** payment_link_id (18 digits). */
  linkId: string;
  /** merchant_reference: unique per merchant. */
  reference: string;
  amountMinor: number;
  currency: string;
  language: 'en' | 'ar';
  customerEmail: string;
  customerName: string | null;
  customerPhone: string | null;
  /** As sent: `EMAIL`, `SMS`, `NONE`, `EMAIL,SMS`. */
  notificationType: string;
  orderDescription: string | null;
  returnUrl: string | null;
  linkCommand: string;
  paymentOption: string | null;
  /** request_expiry_date exactly as sent. */
  requestExpiryDate: string;
  /** The instant it denotes: the link is Expired from then on. */
  expiresAt: number;
  status: ApsStoredStatus;
  /** Sandbox clock. */
  createdAt: number;
  transactions: ApsSandboxTransaction[];
  /** The PAYMENT_LINK request as received. */
  request: Record<string, unknown>;
}

/** A copy of a link with the status it has at the moment it was taken. */
export type ApsLinkSnapshot = ApsSandboxLink & { linkStatus: ApsLinkStatus };

export interface PaymentOptions {
  /** Pay (or fail) even when the link has expired — a payment that landed at the last second. */
  force?: boolean;
}

const LINK_ID_PREFIX = '1487083927';
const FORT_ID_PREFIX = '1690';
const DECLINE = { code: '13666', message: 'Transaction declined' };
const SUCCESS = { code: '14000', message: 'Success' };

export function linkStatusAt(link: ApsSandboxLink, now: number): ApsLinkStatus {
  return link.status === 'Open' && now >= link.expiresAt ? 'Expired' : link.status;
}

export function snapshotAt(link: ApsSandboxLink, now: number): ApsLinkSnapshot {
  return { ...structuredClone(link), linkStatus: linkStatusAt(link, now) };
}

export class ApsLinkStore {
  private readonly byId = new Map<string, ApsSandboxLink>();
  private linkSeq = 0;
  private fortSeq = 0;

  /** Loads what `store` kept under `kind` (one kind per merchant). */
  constructor(
    private readonly store: SandboxStore,
    private readonly kind: string,
  ) {
    for (const link of store.load<ApsSandboxLink>(kind)) {
      this.byId.set(link.linkId, link);
      this.linkSeq = Math.max(this.linkSeq, Number(link.linkId.slice(LINK_ID_PREFIX.length)) || 0);
      for (const t of link.transactions) {
        this.fortSeq = Math.max(this.fortSeq, Number(t.fortId.slice(FORT_ID_PREFIX.length)) || 0);
      }
    }
  }

  /** Stores a validated PAYMENT_LINK request (the caller has refused a reused reference). */
  create(input: PaymentLinkInput, request: Record<string, unknown>, now: number): ApsSandboxLink {
    const link: ApsSandboxLink = {
      linkId: `${LINK_ID_PREFIX}${String(++this.linkSeq).padStart(8, '0')}`,
      ...input,
      status: 'Open',
      createdAt: now,
      transactions: [],
      request: structuredClone(request),
    };
    this.byId.set(link.linkId, link);
    this.persist(link);
    return link;
  }

  get(linkId: string): ApsSandboxLink | undefined {
    return this.byId.get(linkId.trim());
  }

  /** Like {@link get} but throws NOT_FOUND. */
  require(linkId: string): ApsSandboxLink {
    const link = this.get(linkId);
    if (!link) throw new RentlinkError('NOT_FOUND', `APS sandbox: no payment link ${linkId}`);
    return link;
  }

  all(): ApsSandboxLink[] {
    return [...this.byId.values()];
  }

  /** Links with this merchant_reference, oldest first (the API keeps it to one; tests check that). */
  byReference(reference: string): ApsSandboxLink[] {
    return this.all().filter((link) => link.reference === reference);
  }

  /**
   * A successful card payment: the link becomes Paid.
   * @throws RentlinkError NOT_FOUND, or INVALID_STATE (paid, closed, or expired without `force`).
   */
  pay(linkId: string, now: number, options: PaymentOptions = {}): ApsPaymentOutcome {
    const link = this.requirePayable(linkId, now, options);
    const transaction = this.addTransaction(link, 'success', now);
    link.status = 'Paid';
    this.persist(link);
    return { link, transaction };
  }

  /** A declined attempt: the link stays Open, the tenant may try again. Throws like {@link pay}. */
  fail(linkId: string, now: number, options: PaymentOptions = {}): ApsPaymentOutcome {
    const link = this.requirePayable(linkId, now, options);
    const transaction = this.addTransaction(link, 'declined', now);
    this.persist(link);
    return { link, transaction };
  }

  /** Closes an unpaid link (what the merchant dashboard does). @throws RentlinkError INVALID_STATE when paid. */
  close(linkId: string): ApsSandboxLink {
    const link = this.require(linkId);
    if (link.status === 'Paid') throw new RentlinkError('INVALID_STATE', `APS sandbox: link ${linkId} is paid`);
    link.status = 'Closed';
    this.persist(link);
    return link;
  }

  /** Why the link cannot take a payment attempt now, or null when it can. */
  refusal(link: ApsSandboxLink, now: number, options: PaymentOptions = {}): string | null {
    const status = linkStatusAt(link, now);
    if (status === 'Paid') return 'the link has already been paid';
    if (status === 'Closed') return 'the link is closed';
    if (status === 'Expired' && !options.force) return 'the link has expired';
    return null;
  }

  private requirePayable(linkId: string, now: number, options: PaymentOptions): ApsSandboxLink {
    const link = this.require(linkId);
    const refusal = this.refusal(link, now, options);
    if (refusal) throw new RentlinkError('INVALID_STATE', `APS sandbox: link ${linkId} cannot be paid: ${refusal}`);
    return link;
  }

  private addTransaction(link: ApsSandboxLink, outcome: 'success' | 'declined', now: number): ApsSandboxTransaction {
    const result = outcome === 'success' ? SUCCESS : DECLINE;
    const transaction: ApsSandboxTransaction = {
      fortId: `${FORT_ID_PREFIX}${String(++this.fortSeq).padStart(14, '0')}`,
      outcome,
      responseCode: result.code,
      responseMessage: result.message,
      at: now,
      amountMinor: link.amountMinor,
      paymentOption: 'VISA',
    };
    link.transactions.push(transaction);
    return transaction;
  }

  private persist(link: ApsSandboxLink): void {
    this.store.save(this.kind, link.linkId, link);
  }
}

export interface ApsPaymentOutcome {
  link: ApsSandboxLink;
  transaction: ApsSandboxTransaction;
}
