import { describe, it, expect } from 'vitest';
import {
  signMyFatoorahWebhook,
  verifyMyFatoorahWebhook,
  webhookSignatureTextV1,
  webhookSignatureTextV2,
} from '../src/providers/myfatoorah/webhook.js';

const SECRET = 'whsec-test-123';

/**
 * Known-answer vectors computed independently of this code, once, with
 *   printf '%s' '<text>' | openssl dgst -sha256 -hmac 'whsec-test-123' -binary | base64
 */
const V2_PAID_TEXT =
  'Invoice.Id=100001,Invoice.Status=PAID,Transaction.Status=SUCCESS,Transaction.PaymentId=07071000011000001,Invoice.ExternalIdentifier=lease-42-2026-11';
const V2_PAID_SIGNATURE = '8gQU14x3b+pdEUjaUPgHXGaIB1M8qA7WQ885u+lLH2k=';
const V2_FAILED_NULL_REF_TEXT =
  'Invoice.Id=100002,Invoice.Status=PENDING,Transaction.Status=FAILED,Transaction.PaymentId=0707100002,Invoice.ExternalIdentifier=';
const V2_FAILED_NULL_REF_SIGNATURE = 'f1JXVMgwSTLrkMzUh+pMl033LvSBHGZe9S5QvfBW6ek=';
const V1_TEXT =
  'aField=x,BField=2,CreatedDate=2026-11-01T09:00:00,CustomerReference=lease-7,InvoiceId=123,PaymentId=0707123,TransactionStatus=SUCCESS,UserDefinedField=';
const V1_SIGNATURE = 'bjZPQALs+umTbDpn3WA5y56pvjnI+LtT1EG+1UVYDH4=';

function v2Body(overrides: { invoice?: Record<string, unknown>; transaction?: Record<string, unknown> } = {}) {
  return {
    Event: {
      Code: 1,
      Name: 'PAYMENT_STATUS_CHANGED',
      CountryIsoCode: 'KWT',
      CreationDate: '2026-11-01T09:00:00.000',
      Reference: 'WH-1',
    },
    Data: {
      Invoice: {
        Id: '100001',
        Status: 'PAID',
        Reference: '2026000001',
        CreationDate: '2026-11-01T09:00:00.000',
        ExpirationDate: '2026-11-08T09:00:00.000',
        ExternalIdentifier: 'lease-42-2026-11',
        UserDefinedField: null,
        ...overrides.invoice,
      },
      Transaction: {
        Id: '330000000000001',
        Status: 'SUCCESS',
        PaymentMethod: 'KNET',
        PaymentId: '07071000011000001',
        ReferenceId: '330000000001',
        TrackId: '01-11-2026_1700001',
        AuthorizationId: 'B00001',
        TransactionDate: '2026-11-01T09:05:00.000',
        ...overrides.transaction,
      },
      Customer: { Reference: null, Name: 'Tenant', Mobile: '+96512345678', Email: null },
      Amount: { BaseCurrency: 'KWD', ValueInBaseCurrency: '250.500' },
    },
  };
}

function v1Body() {
  // Keys deliberately out of order, and with mixed case so a case-sensitive sort would differ
  // ('BField' < 'CreatedDate' < … < 'aField' in ASCII).
  return {
    EventType: 1,
    Event: 'TransactionsStatusChanged',
    DateTime: '01112026090000',
    CountryIsoCode: 'KWT',
    Data: {
      TransactionStatus: 'SUCCESS',
      InvoiceId: 123,
      UserDefinedField: null,
      BField: 2,
      PaymentId: '0707123',
      CustomerReference: 'lease-7',
      aField: 'x',
      CreatedDate: '2026-11-01T09:00:00',
    },
  };
}

describe('webhook signature text', () => {
  it('builds the V2 Code 1 text in the fixed field order, null as empty', () => {
    expect(webhookSignatureTextV2(v2Body())).toBe(V2_PAID_TEXT);
    const failed = v2Body({
      invoice: { Id: '100002', Status: 'PENDING', ExternalIdentifier: null },
      transaction: { Status: 'FAILED', PaymentId: '0707100002' },
    });
    expect(webhookSignatureTextV2(failed)).toBe(V2_FAILED_NULL_REF_TEXT);
  });

  it('builds the V1 text from every Data property sorted case-insensitively', () => {
    expect(webhookSignatureTextV1(v1Body().Data)).toBe(V1_TEXT);
  });

  it('refuses V2 event codes whose field list it does not know', () => {
    const refund = { ...v2Body(), Event: { Code: 2, Name: 'REFUND_STATUS_CHANGED' } };
    expect(() => webhookSignatureTextV2(refund)).toThrow(/unsupported/);
  });
});

describe('signMyFatoorahWebhook (known answers from openssl)', () => {
  it('signs V2 bodies', () => {
    expect(signMyFatoorahWebhook(v2Body(), SECRET)).toBe(V2_PAID_SIGNATURE);
    const failed = v2Body({
      invoice: { Id: '100002', Status: 'PENDING', ExternalIdentifier: null },
      transaction: { Status: 'FAILED', PaymentId: '0707100002' },
    });
    expect(signMyFatoorahWebhook(failed, SECRET)).toBe(V2_FAILED_NULL_REF_SIGNATURE);
  });

  it('signs V1 bodies', () => {
    expect(signMyFatoorahWebhook(v1Body(), SECRET)).toBe(V1_SIGNATURE);
  });

  it('throws on a body that is neither V1 nor V2', () => {
    expect(() => signMyFatoorahWebhook({ hello: 'world' }, SECRET)).toThrow();
  });
});

describe('verifyMyFatoorahWebhook', () => {
  const rawV2 = JSON.stringify(v2Body());

  it('accepts a valid V2 delivery and extracts the hint', () => {
    expect(verifyMyFatoorahWebhook(rawV2, V2_PAID_SIGNATURE, SECRET)).toEqual({
      version: 'v2',
      invoiceId: '100001',
      paymentId: '07071000011000001',
      reference: 'lease-42-2026-11',
      invoiceStatus: 'PAID',
      transactionStatus: 'SUCCESS',
      dedupeKey: '100001|07071000011000001|PAID|SUCCESS',
    });
  });

  it('accepts a valid V1 delivery (numbers stringified, no invoice status)', () => {
    expect(verifyMyFatoorahWebhook(JSON.stringify(v1Body()), V1_SIGNATURE, SECRET)).toEqual({
      version: 'v1',
      invoiceId: '123',
      paymentId: '0707123',
      reference: 'lease-7',
      invoiceStatus: null,
      transactionStatus: 'SUCCESS',
      dedupeKey: '123|0707123|null|SUCCESS',
    });
  });

  it('tolerates surrounding whitespace in the header', () => {
    expect(verifyMyFatoorahWebhook(rawV2, ` ${V2_PAID_SIGNATURE} `, SECRET)).not.toBeNull();
  });

  it('rejects a wrong secret', () => {
    expect(verifyMyFatoorahWebhook(rawV2, V2_PAID_SIGNATURE, 'another-secret')).toBeNull();
  });

  it('rejects a tampered signed field', () => {
    const tampered = rawV2.replace('"Status":"PAID"', '"Status":"PENDING"');
    expect(tampered).not.toBe(rawV2);
    expect(verifyMyFatoorahWebhook(tampered, V2_PAID_SIGNATURE, SECRET)).toBeNull();
    const otherInvoice = rawV2.replace('"Id":"100001"', '"Id":"100009"');
    expect(verifyMyFatoorahWebhook(otherInvoice, V2_PAID_SIGNATURE, SECRET)).toBeNull();
  });

  it('rejects a missing, empty, truncated or garbage header without throwing', () => {
    expect(verifyMyFatoorahWebhook(rawV2, undefined, SECRET)).toBeNull();
    expect(verifyMyFatoorahWebhook(rawV2, '', SECRET)).toBeNull();
    expect(verifyMyFatoorahWebhook(rawV2, V2_PAID_SIGNATURE.slice(0, 10), SECRET)).toBeNull();
    expect(verifyMyFatoorahWebhook(rawV2, 'ä'.repeat(44), SECRET)).toBeNull();
  });

  it('rejects bodies that are not JSON or not a webhook', () => {
    expect(verifyMyFatoorahWebhook('not json', V2_PAID_SIGNATURE, SECRET)).toBeNull();
    expect(verifyMyFatoorahWebhook('null', V2_PAID_SIGNATURE, SECRET)).toBeNull();
    expect(verifyMyFatoorahWebhook('{"x":1}', V2_PAID_SIGNATURE, SECRET)).toBeNull();
  });

  it('rejects an empty secret (misconfiguration must not verify anything)', () => {
    const signedWithEmpty = signMyFatoorahWebhook(v2Body(), '');
    expect(verifyMyFatoorahWebhook(rawV2, signedWithEmpty, '')).toBeNull();
  });

  it('round-trips with signMyFatoorahWebhook', () => {
    const body = v2Body({ invoice: { Id: '555', ExternalIdentifier: 'r-1' } });
    const raw = JSON.stringify(body);
    const hint = verifyMyFatoorahWebhook(raw, signMyFatoorahWebhook(body, SECRET), SECRET);
    expect(hint?.invoiceId).toBe('555');
    expect(hint?.reference).toBe('r-1');
  });
});
