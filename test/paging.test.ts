import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attentionPage, chargesPage } from '../src/operations/charges.js';
import { leasesPage } from '../src/operations/leases.js';
import { createDueCharges } from '../src/schedule/tick.js';
import { createHarness, csvOf, leaseLine, type Harness } from './helpers/harness.js';

/** Operator lists come a page at a time with the total of what the filter matches (small data). */
let h: Harness;
beforeAll(async () => {
  h = await createHarness({ now: '2026-11-27T06:00:00Z' });
  h.importCsv(
    csvOf(
      ...Array.from({ length: 7 }, (_, i) => leaseLine({ lease_ref: `KW-${i}` })),
      leaseLine({ lease_ref: 'SA-1', currency: 'SAR', amount: '100.00', timezone: 'Asia/Riyadh' }),
    ),
  );
  createDueCharges(h.app, h.clock.now());
});
afterAll(async () => h?.close());

describe('paged lists', () => {
  it('charges: limit and offset walk the list in order, the total stays', () => {
    const first = chargesPage(h.app.db, { period: '2026-12' }, { limit: 3 });
    const second = chargesPage(h.app.db, { period: '2026-12' }, { limit: 3, offset: 3 });
    const rest = chargesPage(h.app.db, { period: '2026-12' }, { limit: 3, offset: 6 });
    expect([first.total, second.total, rest.total]).toEqual([8, 8, 8]);
    expect([...first.rows, ...second.rows, ...rest.rows].map((c) => c.leaseRef)).toEqual([
      'KW-0',
      'KW-1',
      'KW-2',
      'KW-3',
      'KW-4',
      'KW-5',
      'KW-6',
      'SA-1',
    ]);
    expect(chargesPage(h.app.db, {}, { offset: 50 }).rows).toEqual([]);
    expect(() => chargesPage(h.app.db, {}, { limit: 501 })).toThrow('limit must be a whole number from 1 to 500');
    expect(() => chargesPage(h.app.db, {}, { offset: -1 })).toThrow('offset must be a whole number');
  });

  it('charges: filters by account and double-paid; an unknown account matches nothing', () => {
    expect(chargesPage(h.app.db, { account: 'default' }).total).toBe(8);
    expect(chargesPage(h.app.db, { account: 'other' }).total).toBe(0);
    expect(chargesPage(h.app.db, { status: 'double-paid' }).total).toBe(0);
  });

  it('leases: by ref, filtered by state, with the total', () => {
    const page = leasesPage(h.app.db, { state: 'active' }, { limit: 2, offset: 6 });
    expect(page).toMatchObject({ total: 8, limit: 2, offset: 6 });
    expect(page.rows.map((l) => l.ref)).toEqual(['KW-6', 'SA-1']);
    expect(() => leasesPage(h.app.db, { state: 'gone' })).toThrow('state must be one of active, paused, ended');
  });

  it('attention: overdue by each lease zone, counted by reason, paged', () => {
    // Due 1 December: at 21:30 UTC it is the 2nd in Kuwait and in Riyadh (both UTC+3).
    const at = Date.parse('2026-12-01T21:30:00Z');
    const page = attentionPage(h.app.db, at, { limit: 5 });
    expect(page.counts).toEqual({ doublePaid: 0, failed: 0, expired: 0, overdue: 8 });
    expect(page.rows).toHaveLength(5);
    expect(attentionPage(h.app.db, at, { limit: 5, offset: 5 }).rows.map((c) => c.leaseRef)).toEqual([
      'KW-5',
      'KW-6',
      'SA-1',
    ]);
    expect(attentionPage(h.app.db, Date.parse('2026-12-01T20:30:00Z')).total).toBe(0);
  });
});
