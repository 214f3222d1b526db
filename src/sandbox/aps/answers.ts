import { linkStatusAt, type ApsSandboxLink, type ApsSandboxTransaction } from './state.js';

/**
 * The bodies the fake answers with, before signing. APS echoes every request parameter (except the
 * request's signature, which the answer's own replaces) and adds its result fields.
 */

export type Answer = Record<string, unknown>;

/** The request's parameters without its signature. */
export function echo(body: Record<string, unknown>): Answer {
  const { signature: _signature, ...rest } = body;
  return rest;
}

/** A refusal: `responseCode` is 5 digits, its first two are the status. */
export function refusal(body: Record<string, unknown>, responseCode: string, message: string): Answer {
  return { ...echo(body), response_code: responseCode, response_message: message, status: responseCode.slice(0, 2) };
}

/** PAYMENT_LINK success: status 48. */
export function createdAnswer(body: Record<string, unknown>, link: ApsSandboxLink, payUrl: string): Answer {
  return {
    ...echo(body),
    payment_link_id: link.linkId,
    payment_link: payUrl,
    response_code: '48000',
    response_message: 'Success',
    status: '48',
  };
}

/**
 * CHECK_PAYMENT_LINK_STATUS success: status 12, the link's status word at `now`, `amount` as a string
 * of minor units, request_expiry_date in UTC (written without an offset), the payment when paid.
 */
export function statusAnswer(body: Record<string, unknown>, link: ApsSandboxLink, now: number, payUrl: string): Answer {
  const status = linkStatusAt(link, now);
  const paid = status === 'Paid' ? lastSuccess(link) : undefined;
  return {
    ...echo(body),
    merchant_reference: link.reference,
    payment_link_id: link.linkId,
    payment_link: payUrl,
    payment_link_status: status,
    amount: String(link.amountMinor),
    currency: link.currency,
    request_expiry_date: new Date(link.expiresAt).toISOString().slice(0, 19),
    ...(paid ? { fort_id: paid.fortId, payment_option: paid.paymentOption } : {}),
    response_code: '12000',
    response_message: 'Success',
    status: '12',
  };
}

/** The transaction feedback fields for one attempt (unsigned; every value a string, form-ready). */
export function feedbackFields(
  link: ApsSandboxLink,
  transaction: ApsSandboxTransaction,
  merchant: { accessCode: string; merchantIdentifier: string },
): Record<string, string> {
  const success = transaction.outcome === 'success';
  return {
    command: link.linkCommand,
    access_code: merchant.accessCode,
    merchant_identifier: merchant.merchantIdentifier,
    merchant_reference: link.reference,
    payment_link_id: link.linkId,
    fort_id: transaction.fortId,
    amount: String(transaction.amountMinor),
    currency: link.currency,
    language: link.language,
    customer_email: link.customerEmail,
    ...(link.customerName ? { customer_name: link.customerName } : {}),
    payment_option: transaction.paymentOption,
    card_number: '400555******0001',
    expiry_date: '2705',
    eci: 'ECOMMERCE',
    ...(success ? { authorization_code: `A${transaction.fortId.slice(-5)}` } : {}),
    response_code: transaction.responseCode,
    response_message: transaction.responseMessage,
    status: transaction.responseCode.slice(0, 2),
  };
}

function lastSuccess(link: ApsSandboxLink): ApsSandboxTransaction | undefined {
  return link.transactions.filter((t) => t.outcome === 'success').at(-1);
}
