import type { Db } from './open.js';
import { prepared } from './prepared.js';
import { pickRow, selectList } from './raw.js';
import {
  charges,
  leases,
  paymentLinks,
  tenants,
  type Charge,
  type Lease,
  type PaymentLink,
  type Tenant,
} from './schema.js';

/**
 * Reads the jobs and the HTTP hints share. Changes live in the tables' own modules (charges.ts, links.ts).
 * Every job runs several of these, so they are plain prepared statements (src/db/raw.ts gives the rows
 * the schema's shapes): the query builder cost more than the rest of a job (`npm run bench`).
 */

/** A charge with the lease and tenant it belongs to: what a send job needs to build a request. */
export interface ChargeContext {
  charge: Charge;
  lease: Lease;
  tenant: Tenant;
}

const CHARGE_CONTEXT = `SELECT ${selectList(charges, 'c', 'c')}, ${selectList(leases, 'l', 'l')},
  ${selectList(tenants, 't', 't')}
  FROM charges c JOIN leases l ON l.id = c.lease_id JOIN tenants t ON t.id = l.tenant_id WHERE c.id = ?`;

const LINKS = `SELECT ${selectList(paymentLinks, 'payment_links')} FROM payment_links`;

export function loadChargeContext(db: Db, chargeId: number): ChargeContext | null {
  const row = prepared(db.$client, CHARGE_CONTEXT).get(chargeId) as Record<string, unknown> | undefined;
  if (!row) return null;
  return {
    charge: pickRow<Charge>(row, charges, 'c'),
    lease: pickRow<Lease>(row, leases, 'l'),
    tenant: pickRow<Tenant>(row, tenants, 't'),
  };
}

function linkWhere(db: Db, where: string, ...params: unknown[]): PaymentLink | null {
  return (prepared(db.$client, `${LINKS} WHERE ${where}`).get(...params) as PaymentLink | undefined) ?? null;
}

export function getLink(db: Db, linkId: number): PaymentLink | null {
  return linkWhere(db, 'id = ?', linkId);
}

export function getLinkByAttempt(db: Db, chargeId: number, attempt: number): PaymentLink | null {
  return linkWhere(db, 'charge_id = ? AND attempt = ?', chargeId, attempt);
}

/** The charge's link that may still change (`creating` or `open`), if any: at most one exists. */
export function getOpenLink(db: Db, chargeId: number): PaymentLink | null {
  return linkWhere(db, "charge_id = ? AND status IN ('creating', 'open')", chargeId);
}

/** Our reference is unique across accounts (it embeds lease, period and attempt). */
export function findLinkByReference(db: Db, reference: string): PaymentLink | null {
  return linkWhere(db, 'reference = ?', reference);
}

/** A provider's link id is unique only within its account. */
export function findLinkByProviderId(db: Db, account: string, providerLinkId: string): PaymentLink | null {
  return linkWhere(db, 'account = ? AND provider_invoice_id = ?', account, providerLinkId);
}
