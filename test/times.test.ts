import { execFileSync } from 'node:child_process';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withIsoInstants } from '../src/cli/shared.js';
import { charges, leases } from '../src/db/schema.js';
import { registerAdminRoutes } from '../src/http/admin/routes.js';
import { instant } from '../src/http/admin/views/format.js';
import { HOUR } from '../src/time/clock.js';
import { createHarness, csvOf, leaseLine, type Harness } from './helpers/harness.js';

/** Times say their zone: the CLI prints ISO-8601 UTC with `Z`, the admin pages the lease's wall clock and zone. */

const TOKEN = 'times-admin-token-0123456789';
let h: Harness;

beforeAll(async () => {
  h = await createHarness({
    now: '2026-11-27T06:00:00Z',
    http: true,
    extraRoutes: [registerAdminRoutes],
    env: { ADMIN_TOKEN: TOKEN },
  });
  h.importCsv(
    csvOf(
      leaseLine({ lease_ref: 'KW-1' }),
      leaseLine({
        lease_ref: 'SA-1',
        currency: 'SAR',
        amount: '4250.50',
        timezone: 'Asia/Riyadh',
        mobile: '551234567',
        mobile_country_code: '+966',
      }),
      leaseLine({ lease_ref: 'AE-1', currency: 'AED', amount: '9000.00', timezone: 'Asia/Dubai', channel: 'EML' }),
    ),
  );
  await h.tickAndSettle();
  const invoice = h.sandbox.invoicesByReference('AE-1-2026-12-1')[0];
  h.sandbox.pay(invoice?.id ?? 'missing');
  await h.sandbox.webhooksIdle();
  h.clock.advance(HOUR);
  await h.tickAndSettle();
});

afterAll(async () => h?.close());

function chargeIdOf(ref: string): number {
  const row = h.app.db
    .select({ id: charges.id })
    .from(charges)
    .innerJoin(leases, eq(leases.id, charges.leaseId))
    .where(eq(leases.ref, ref))
    .get();
  return row?.id ?? 0;
}

function cli(...args: string[]): string {
  return execFileSync(process.execPath, ['bin/rentlink.js', ...args], {
    env: { PATH: process.env['PATH'] ?? '', DATABASE_PATH: h.app.config.DATABASE_PATH, LOG_LEVEL: 'silent' },
    encoding: 'utf8',
  });
}

/** Every value under a key that names an instant, at any depth. */
function instantValues(value: unknown, found: unknown[] = []): unknown[] {
  if (Array.isArray(value)) value.forEach((v) => instantValues(v, found));
  else if (value && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (/^at$|[a-z]At(?:[A-Z][a-z]+)?$/.test(key) && v !== null) found.push(v);
      else instantValues(v, found);
    }
  }
  return found;
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

// The pages first: the CLI runs take seconds, after which the client's idle keep-alive socket may be gone.
describe('admin pages: the lease’s wall clock, with its zone', () => {
  const page = async (path: string) => {
    const res = await fetch(`${h.http?.url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    return res.text();
  };

  it('formats an instant as local wall clock plus the zone name', () => {
    expect(instant(Date.parse('2026-12-11T20:59:59Z'), 'Asia/Kuwait')).toBe('2026-12-11 23:59 (Asia/Kuwait)');
    expect(instant('2026-12-11T20:59:59.000Z', 'Asia/Dubai')).toBe('2026-12-12 00:59 (Asia/Dubai)');
    expect(instant(null, 'Asia/Dubai')).toBe('—');
  });

  it('the charge page shows the lease’s zone and every time in it', async () => {
    const html = await page(`/admin/charges/${chargeIdOf('SA-1')}`);
    expect(html).toMatch(/<dt>Time zone<\/dt><dd>Asia\/Riyadh/);
    // Expiry: 23:59:59 on due date + 10 days, local to the lease.
    expect(html).toContain('2026-12-11 23:59 (Asia/Riyadh)');
    // The history: created at 2026-11-27 06:00Z = 09:00 in Riyadh.
    expect(html).toContain('2026-11-27 09:00 (Asia/Riyadh)');
    expect(html).not.toContain('(Asia/Kuwait)');

    const paid = await page(`/admin/charges/${chargeIdOf('AE-1')}`);
    expect(paid).toMatch(/<dt>Paid at<\/dt><dd>2026-11-27 10:00 \(Asia\/Dubai\)<\/dd>/);
  });

  it('the dashboard names the zone of its “As of” line and of each paid time', async () => {
    const html = await page('/admin?period=2026-12');
    expect(html).toMatch(/As of 2026-11-27 10:00 \(Asia\/Kuwait\)/);
    expect(html).toContain('2026-11-27 10:00 (Asia/Dubai)');
  });
});

describe('CLI: every instant is ISO-8601 UTC with Z', () => {
  it('charges show (table and json), charges list, leases show and report csv print no epoch numbers', () => {
    const id = String(chargeIdOf('AE-1'));
    const shown = JSON.parse(cli('charges', 'show', id, '--format', 'json')) as unknown[];
    const listed = JSON.parse(cli('charges', 'list', '--format', 'json')) as unknown[];
    const lease = JSON.parse(cli('leases', 'show', 'AE-1', '--format', 'json')) as unknown[];
    const values = [...instantValues(shown), ...instantValues(listed), ...instantValues(lease)];
    // Links (expiresAt, nextCheckAt, createdAt, …), events (at), the lease and tenant rows, paidAt.
    expect(values.length).toBeGreaterThan(15);
    for (const value of values) expect(value).toMatch(ISO_UTC);

    const table = cli('charges', 'show', id);
    const history = table.slice(table.indexOf('History'));
    expect(history).toMatch(/\n\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z\s+charge\.created/);
    expect(table).not.toMatch(/\b1\d{12}\b/); // no epoch milliseconds anywhere
    expect(table).toMatch(/paidAt\s+2026-11-27T06:00:\d{2}\.\d{3}Z/);

    const csv = cli('report', '--format', 'csv');
    expect(csv).not.toMatch(/\b1\d{12}\b/);
    expect(csv).toMatch(/,2026-11-27T06:00:\d{2}\.\d{3}Z,/);
  });

  it('withIsoInstants converts instant fields at any depth and leaves amounts and counters alone', () => {
    expect(
      withIsoInstants({
        at: 1_797_022_799_000,
        amountMinor: 250_500,
        pollCount: 3,
        links: [{ expiresAt: 1_797_022_799_000, canceledAtProvider: 1_797_022_799_000, paidAt: null }],
        attempt: 1_797_022_799_000,
      }),
    ).toEqual({
      at: '2026-12-11T20:59:59.000Z',
      amountMinor: 250_500,
      pollCount: 3,
      links: [{ expiresAt: '2026-12-11T20:59:59.000Z', canceledAtProvider: '2026-12-11T20:59:59.000Z', paidAt: null }],
      attempt: 1_797_022_799_000,
    });
  });
});
