import { randomBytes } from 'node:crypto';
import { RentlinkError } from '../../errors.js';
import type { SandboxStore } from '../store.js';
import type { CreateLinkInput } from './validation.js';

/**
 * The fake's checkouts and the rules that change them. No HTTP here: the API, the pay page and the
 * test handle all go through {@link CheckoutBook}, so a click on Pay and `handle.pay()` are the same.
 * Every change saves that one checkout through the host's SandboxStore.
 */

/** What the fake stores; EXPIRED is never stored: a PENDING checkout past its expiry reads EXPIRED. */
export type StoredStatus = 'PENDING' | 'PAID' | 'FAILED' | 'CANCELLED' | 'REFUNDED' | 'PARTIALLY_REFUNDED';
export type CheckoutStatus = StoredStatus | 'EXPIRED';

/** The customer object of the create request, as validated. */
export interface SandboxCustomer {
  firstName: string;
  lastName: string;
  email: string;
  phone: string | null;
}

/** One checkout. Handed out as copies whose `status` is the effective one (EXPIRED included). */
export interface SandboxCheckout {
  /** 19 digits, like paymennt's own ids. */
  id: string;
  /** Six-character human-readable key. */
  displayId: string;
  /** 48 hex characters; the pay page URL is built on it. */
  checkoutKey: string;
  requestId: string;
  orderId: string;
  description: string;
  currency: string;
  amountMinor: number;
  refundedMinor: number;
  status: CheckoutStatus;
  /** Minutes the link was given (the request's expiresIn, or the fake's default). */
  expiresIn: number;
  /** Sandbox clock, epoch ms. */
  createdAt: number;
  expiresAt: number;
  updatedAt: number;
  paidAt: number | null;
  language: string | null;
  sendEmail: boolean;
  sendSms: boolean;
  customer: SandboxCustomer | null;
  /** The create body exactly as received (parsed JSON). */
  request: unknown;
}

/** Options of a Pay / Fail action. */
export interface PaymentOptions {
  /** Pay or fail even though the checkout has expired: a payment that landed at the last second. */
  force?: boolean;
}

/** The `GET /checkout` query filters the fake supports. */
export interface SearchFilter {
  requestId?: string;
  orderId?: string;
  /** Upper-case status words; empty: any. */
  statuses?: string[];
}

const KIND = 'paymennt.checkout';
const FIRST_ID = 1_700_000_000_000_000_000n;
const MINUTE = 60_000;
const DISPLAY_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** The checkouts by id, loaded from the store at construction and saved one record per change. */
export class CheckoutBook {
  private readonly byId = new Map<string, SandboxCheckout>();
  private seq = 0;

  constructor(
    private readonly store: SandboxStore,
    private readonly defaultExpiresInMinutes: number,
  ) {
    for (const checkout of store.load<SandboxCheckout>(KIND)) {
      this.byId.set(checkout.id, checkout);
      this.seq = Math.max(this.seq, Number(BigInt(checkout.id) - FIRST_ID));
    }
  }

  /**
   * Stores a validated create request.
   * @throws RentlinkError CONFLICT when the requestId was used before (by a checkout in any status).
   */
  create(input: CreateLinkInput, request: unknown, now: number): SandboxCheckout {
    if (this.byRequestId(input.requestId).length > 0) {
      throw new RentlinkError('CONFLICT', `Duplicate requestId: a checkout with requestId ${input.requestId} exists`);
    }
    const expiresIn = input.expiresIn ?? this.defaultExpiresInMinutes;
    const checkout: SandboxCheckout = {
      id: String(FIRST_ID + BigInt(++this.seq)),
      displayId: displayId(),
      checkoutKey: randomBytes(24).toString('hex'),
      ...input,
      expiresIn,
      refundedMinor: 0,
      status: 'PENDING',
      createdAt: now,
      expiresAt: now + expiresIn * MINUTE,
      updatedAt: now,
      paidAt: null,
      request,
    };
    return this.save(checkout);
  }

  get(id: string): SandboxCheckout | undefined {
    return this.byId.get(id.trim());
  }

  /** Like {@link get} but throws NOT_FOUND with paymennt's words. */
  require(id: string): SandboxCheckout {
    const checkout = this.get(id);
    if (!checkout) throw new RentlinkError('NOT_FOUND', 'Checkout not found for API merchant');
    return checkout;
  }

  byKey(checkoutKey: string): SandboxCheckout | undefined {
    return this.all().find((checkout) => checkout.checkoutKey === checkoutKey);
  }

  byRequestId(requestId: string): SandboxCheckout[] {
    return this.all().filter((checkout) => checkout.requestId === requestId);
  }

  /** Oldest first. */
  all(): SandboxCheckout[] {
    return [...this.byId.values()];
  }

  /** Newest first, like a dashboard list. */
  search(filter: SearchFilter, now: number): SandboxCheckout[] {
    return this.all()
      .filter((c) => filter.requestId === undefined || c.requestId === filter.requestId)
      .filter((c) => filter.orderId === undefined || c.orderId === filter.orderId)
      .filter((c) => !filter.statuses?.length || filter.statuses.includes(this.statusOf(c, now)))
      .reverse();
  }

  /** The status paymennt would report now. */
  statusOf(checkout: SandboxCheckout, now: number): CheckoutStatus {
    return checkout.status === 'PENDING' && now >= checkout.expiresAt ? 'EXPIRED' : checkout.status;
  }

  /** A copy with the effective status, so tests cannot change the fake's state by accident. */
  view(checkout: SandboxCheckout, now: number): SandboxCheckout {
    return { ...structuredClone(checkout), status: this.statusOf(checkout, now) };
  }

  /** A successful card payment. @throws RentlinkError NOT_FOUND / INVALID_STATE (not payable). */
  pay(id: string, now: number, options: PaymentOptions = {}): SandboxCheckout {
    const checkout = this.requirePayable(id, now, options);
    return this.save({ ...checkout, status: 'PAID', paidAt: now, updatedAt: now });
  }

  /** A payment that failed for good: paymennt closes the checkout as FAILED. Throws like pay(). */
  fail(id: string, now: number, options: PaymentOptions = {}): SandboxCheckout {
    const checkout = this.requirePayable(id, now, options);
    return this.save({ ...checkout, status: 'FAILED', updatedAt: now });
  }

  /** Cancels a PENDING checkout. @throws RentlinkError INVALID_STATE for any other status. */
  cancel(id: string, now: number): SandboxCheckout {
    const checkout = this.require(id);
    const status = this.statusOf(checkout, now);
    if (status !== 'PENDING') {
      throw new RentlinkError('INVALID_STATE', `Checkout cannot be cancelled, current status is ${status}`);
    }
    return this.save({ ...checkout, status: 'CANCELLED', updatedAt: now });
  }

  /**
   * Refunds `amountMinor` (default: what is left) of a paid checkout: REFUNDED when all of it is
   * refunded, PARTIALLY_REFUNDED otherwise. @throws RentlinkError INVALID_STATE when not paid or too much.
   */
  refund(id: string, now: number, amountMinor?: number): SandboxCheckout {
    const checkout = this.require(id);
    if (checkout.status !== 'PAID' && checkout.status !== 'PARTIALLY_REFUNDED') {
      throw new RentlinkError('INVALID_STATE', `Checkout cannot be refunded, current status is ${checkout.status}`);
    }
    const left = checkout.amountMinor - checkout.refundedMinor;
    const amount = amountMinor ?? left;
    if (!Number.isSafeInteger(amount) || amount <= 0 || amount > left) {
      throw new RentlinkError('INVALID_STATE', `Refund amount must be between 1 and ${left} minor units`);
    }
    const refundedMinor = checkout.refundedMinor + amount;
    const status = refundedMinor === checkout.amountMinor ? 'REFUNDED' : 'PARTIALLY_REFUNDED';
    return this.save({ ...checkout, refundedMinor, status, updatedAt: now });
  }

  private requirePayable(id: string, now: number, options: PaymentOptions): SandboxCheckout {
    const checkout = this.require(id);
    const status = this.statusOf(checkout, now);
    const payable = status === 'PENDING' || (status === 'EXPIRED' && options.force === true);
    if (!payable) throw new RentlinkError('INVALID_STATE', `Checkout cannot be paid, current status is ${status}`);
    return checkout;
  }

  private save(checkout: SandboxCheckout): SandboxCheckout {
    this.byId.set(checkout.id, checkout);
    this.store.save(KIND, checkout.id, checkout);
    return checkout;
  }
}

function displayId(): string {
  return [...randomBytes(6)].map((byte) => DISPLAY_ALPHABET[byte % DISPLAY_ALPHABET.length]).join('');
}
