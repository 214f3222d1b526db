import { existsSync } from 'node:fs';
import { eq } from 'drizzle-orm';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAdminRoutes } from '../src/http/admin/routes.js';
import { HOUR } from '../src/time/clock.js';
import { charges, leases, paymentLinks } from '../src/db/schema.js';
import { createHarness, csvOf, leaseLine, type Harness } from './helpers/harness.js';

const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'browser-test-admin-token';
const ARABIC_NAME = 'فاطمة العلي';
const hasChromium = existsSync(CHROMIUM);

if (!hasChromium) {
  // CI installs Debian's chromium (.ci/run); a developer machine without it skips loudly instead of failing.
  console.warn(`admin-browser.test.ts skipped: ${CHROMIUM} not found (Debian/Ubuntu: apt-get install chromium)`);
}

let h: Harness;
let browser: Browser;

const chargeOf = (ref: string) =>
  h.app.db
    .select({ c: charges })
    .from(charges)
    .innerJoin(leases, eq(leases.id, charges.leaseId))
    .where(eq(leases.ref, ref))
    .get()?.c;

/** A realistic small month through the real system: a rejected send, an Arabic tenant who paid, others open. */
async function seed(): Promise<void> {
  // The bad send goes alone first, so the one-shot fault cannot hit another lease's request.
  h.importCsv(
    csvOf(
      leaseLine({
        lease_ref: 'KW-101',
        tenant_name: 'Omar Haddad',
        unit: 'Salmiya 101',
        amount: '325.500',
        starts_on: '2026-12-01',
      }),
    ),
  );
  h.sandbox.injectFault(
    'SendPayment',
    {
      kind: 'reject',
      message: 'Invalid data',
      errors: [{ Name: 'CustomerMobile', Error: 'Mobile number is not valid' }],
    },
    1,
  );
  await h.tickAndSettle();
  h.importCsv(
    csvOf(
      leaseLine({
        lease_ref: 'KW-102',
        tenant_name: ARABIC_NAME,
        language: 'ar',
        unit: 'Hawalli 12',
        amount: '450.750',
        starts_on: '2026-12-01',
      }),
      leaseLine({
        lease_ref: 'KW-103',
        tenant_name: 'Sara Ali',
        unit: 'Jabriya 3',
        amount: '280',
        starts_on: '2026-12-01',
      }),
    ),
  );
  await h.tickAndSettle();
  h.sandbox.pay(h.sandbox.invoicesByReference('KW-102-2026-12-1')[0]?.id ?? 'missing');
  await h.sandbox.webhooksIdle();
  h.clock.advance(HOUR);
  await h.tickAndSettle();
}

describe.skipIf(!hasChromium)('admin console in headless Chromium', () => {
  beforeAll(async () => {
    h = await createHarness({
      now: '2026-12-10T06:00:00Z',
      http: true,
      extraRoutes: [registerAdminRoutes],
      env: { ADMIN_TOKEN: TOKEN },
    });
    await seed();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('logs in, sees the chart and the failed charge, retries it, and sees it move on', async () => {
    expect(chargeOf('KW-101')?.status).toBe('failed');
    expect(chargeOf('KW-102')?.status).toBe('paid');
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const base = h.http?.url ?? '';

    await page.goto(`${base}/admin`);
    expect(new URL(page.url()).pathname).toBe('/admin/login');
    await page.fill('input[name="token"]', TOKEN);
    await Promise.all([page.waitForURL(`${base}/admin`), page.click('button[type="submit"]')]);
    await expect.poll(() => page.title()).toContain('Collection');

    const chart = page.locator('svg.collection-chart[data-currency="KWD"]');
    await chart.waitFor({ state: 'visible' });
    expect(await chart.locator('rect.seg-paid').count()).toBe(1); // one period with paid money
    expect(await chart.textContent()).toContain('Dec');

    const arabic = page.locator('a[dir="auto"]', { hasText: ARABIC_NAME }).first();
    expect(await arabic.textContent()).toBe(ARABIC_NAME);
    // dir="auto" must resolve to right-to-left. (The tests compile without the DOM lib, hence the cast.)
    const direction = await arabic.evaluate(
      (el) =>
        (globalThis as unknown as { getComputedStyle(e: unknown): { direction: string } }).getComputedStyle(el)
          .direction,
    );
    expect(direction).toBe('rtl');

    const failedId = chargeOf('KW-101')?.id;
    const row = page.locator(`table.attention tr[data-charge-id="${failedId}"]`);
    await row.waitFor({ state: 'visible' });
    expect(await row.textContent()).toContain('Omar Haddad');
    expect(await row.textContent()).toContain('Mobile number is not valid');
    expect(await row.locator('.badge').textContent()).toBe('failed');

    await Promise.all([
      page.waitForURL(/\/admin\?period=2026-12$/),
      row.locator('button[data-action="retry"]').click(),
    ]);
    expect(await page.locator('.flash.ok').textContent()).toContain('Retrying');

    await h.settle();
    await page.reload();
    // Due on Dec 1 and unpaid on Dec 10, it still needs attention, but as an open, overdue link now.
    const after = page.locator(`table.attention tr[data-charge-id="${failedId}"]`);
    expect(await after.locator('.badge').textContent()).toBe('open');
    expect(await after.textContent()).not.toContain('Mobile number is not valid');
    expect(await after.locator('button[data-action="retry"]').count()).toBe(0);
    expect(await page.locator('.flash').count()).toBe(0); // the flash showed once
    expect(chargeOf('KW-101')?.status).toBe('invoiced');
    const links = h.app.db
      .select()
      .from(paymentLinks)
      .where(eq(paymentLinks.chargeId, failedId ?? 0))
      .all();
    expect(links.map((l) => l.status)).toEqual(['open']);
    expect(h.sandbox.invoicesByReference('KW-101-2026-12-1')).toHaveLength(1);

    // Its history page tells the story: the rejection, the operator's retry, the link.
    await page.goto(`${base}/admin/charges/${failedId}`);
    const history = await page.locator('table.timeline').textContent();
    expect(history).toContain('job.retried');
    expect(history).toContain('admin');
    expect(await page.locator('span.badge').first().textContent()).toBe('open');

    // The queue dashboard works behind the same session: its assets and XHR API load with the cookie.
    await page.goto(`${base}/admin/queues`);
    await page.getByText('status-default', { exact: true }).first().waitFor({ state: 'visible', timeout: 15_000 });
    expect(await page.getByText('send-default', { exact: true }).count()).toBeGreaterThan(0);
    await page.close();
  });
});
