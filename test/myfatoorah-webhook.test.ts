import { describe, it, expect } from 'vitest';
import {
  signMyFatoorahWebhook,
  verifyMyFatoorahWebhook,
  webhookSignatureTextV1,
  webhookSignatureTextV2,
} from '../src/providers/myfatoorah/webhook.js';
import { hasDuplicateKey } from '../src/providers/myfatoorah/webhook-shape.js';

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

/**
 * Issue #8 item 7: the signed text is not the body, so a signature must only be accepted for the one
 * structure its text can stand for. Each forged body below is built from a genuine signed delivery and
 * produces exactly the genuine signed text (checked first), so the HMAC alone would accept it.
 */
describe('signatures are bound to the parsed structure', () => {
  function expectSameSignedText(forged: unknown, signature: string): void {
    expect(signMyFatoorahWebhook(forged, SECRET)).toBe(signature);
  }

  it('V1: moving ",InvoiceId=…" into another field\'s value keeps the text, and is refused', () => {
    const { InvoiceId: _moved, ...rest } = v1Body().Data;
    const forged = { ...v1Body(), Data: { ...rest, CustomerReference: 'lease-7,InvoiceId=123' } };
    expectSameSignedText(forged, V1_SIGNATURE);
    expect(verifyMyFatoorahWebhook(JSON.stringify(forged), V1_SIGNATURE, SECRET)).toBeNull();
  });

  it('V1: a key that carries "=" or "," (the same text split elsewhere) is refused', () => {
    const { CustomerReference: _a, InvoiceId: _b, ...rest } = v1Body().Data;
    const forged = { ...v1Body(), Data: { ...rest, 'CustomerReference=lease-7,InvoiceId': 123 } };
    expectSameSignedText(forged, V1_SIGNATURE);
    expect(verifyMyFatoorahWebhook(JSON.stringify(forged), V1_SIGNATURE, SECRET)).toBeNull();
  });

  it('a V2 signature does not verify a crafted V1 body with the same text', () => {
    const [first, ...more] = V2_PAID_TEXT.split(',');
    const [key, value] = (first ?? '').split('=');
    const forged = { EventType: 1, Data: { [key ?? '']: [value, ...more].join(',') } };
    expectSameSignedText(forged, V2_PAID_SIGNATURE);
    expect(verifyMyFatoorahWebhook(JSON.stringify(forged), V2_PAID_SIGNATURE, SECRET)).toBeNull();
  });

  it('V2: a signed field whose value carries the next field (same text) is refused', () => {
    const forged = v2Body({ invoice: { Id: '100001,Invoice.Status=PAID', Status: 'PAID' } });
    // Not the same text (V2's field list is fixed), but the value rule alone must refuse it.
    expect(verifyMyFatoorahWebhook(JSON.stringify(forged), signMyFatoorahWebhook(forged, SECRET), SECRET)).toBeNull();
  });

  it('a duplicate key (JSON.parse keeps the last one) is refused, in V1 and V2', () => {
    const v1 = JSON.stringify(v1Body()).replace('"Data":{', '"Data":{"InvoiceId":999,');
    expect(JSON.parse(v1)).toEqual(v1Body()); // what the HMAC sees is the genuine structure
    expect(verifyMyFatoorahWebhook(v1, V1_SIGNATURE, SECRET)).toBeNull();
    const v2 = JSON.stringify(v2Body()).replace('"Invoice":{', '"Invoice":{"Id":"100009",');
    expect(JSON.parse(v2)).toEqual(v2Body());
    expect(verifyMyFatoorahWebhook(v2, V2_PAID_SIGNATURE, SECRET)).toBeNull();
    const escaped = JSON.stringify(v1Body()).replace('"Data":{', '"Data":{"Invoice\\u0049d":999,');
    expect(verifyMyFatoorahWebhook(escaped, V1_SIGNATURE, SECRET)).toBeNull();
  });

  it('V1 keys equal but for case are refused (the sort cannot order them)', () => {
    const forged = { ...v1Body(), Data: { ...v1Body().Data, invoiceid: 124 } };
    expect(verifyMyFatoorahWebhook(JSON.stringify(forged), signMyFatoorahWebhook(forged, SECRET), SECRET)).toBeNull();
  });

  it('non-object Data, Invoice or Transaction, object values and a body that is both V1 and V2 are refused', () => {
    const signed = (body: unknown) =>
      verifyMyFatoorahWebhook(JSON.stringify(body), signMyFatoorahWebhook(body, SECRET), SECRET);
    expect(signed({ ...v2Body(), Data: [] })).toBeNull();
    expect(signed({ ...v2Body(), Data: { Invoice: 'x', Transaction: v2Body().Data.Transaction } })).toBeNull();
    expect(signed(v2Body({ invoice: { Status: { a: 1 } } }))).toBeNull();
    expect(signed({ ...v1Body(), Data: { ...v1Body().Data, aField: { nested: 'x' } } })).toBeNull();
    expect(signed({ ...v1Body(), Data: { ...v1Body().Data, aField: ['x'] } })).toBeNull();
    expect(signed({ ...v2Body(), EventType: 1 })).toBeNull();
  });

  it('the genuine V1 and V2 vectors still verify, and so do ordinary names with commas', () => {
    expect(verifyMyFatoorahWebhook(JSON.stringify(v1Body()), V1_SIGNATURE, SECRET)?.invoiceId).toBe('123');
    expect(verifyMyFatoorahWebhook(JSON.stringify(v2Body()), V2_PAID_SIGNATURE, SECRET)?.invoiceId).toBe('100001');
    const named = { ...v1Body(), Data: { ...v1Body().Data, CustomerName: 'Al-Sabah, Noura = tenant' } };
    const hint = verifyMyFatoorahWebhook(JSON.stringify(named), signMyFatoorahWebhook(named, SECRET), SECRET);
    expect(hint?.reference).toBe('lease-7');
  });
});

describe('hasDuplicateKey', () => {
  it('finds a key twice in one object at any depth, and only then', () => {
    expect(hasDuplicateKey('{"a":"x\\"}{,\\"a\\":","b":[{"a":1},{"a":2}],"c":{"a":1},"d":["a","a"]}')).toBe(false);
    expect(hasDuplicateKey('{"a":[1,{"b":1,"b":2}]}')).toBe(true);
    expect(hasDuplicateKey('{"a":{"x":1},"a":{"y":1}}')).toBe(true);
    expect(hasDuplicateKey('{"k":"\\u0061","\\u006b":1}')).toBe(true);
  });
});
