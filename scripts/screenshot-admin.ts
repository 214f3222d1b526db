/**
 * Seeds a realistic year of rent collection through the real system (import → tick → send →
 * sandbox payments → status checks) and saves a full-page screenshot of /admin to docs/admin.png.
 *
 *   npx tsx scripts/screenshot-admin.ts
 *
 * Needs redis-server (a private one is started in a temp dir) and Debian's chromium.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { registerAdminRoutes } from '../src/http/admin/routes.js';
import { createApp, type App } from '../src/app.js';
import { ManualClock } from '../src/time/clock.js';
import { loadConfig } from '../src/config.js';
import { createHttpApp, listenHttp } from '../src/http/server.js';
import { contactRulesOf, importLeases } from '../src/operations/import-leases.js';
import { silentLogger } from '../src/logger.js';
import { freePort, startEmbeddedRedis } from '../src/redis.js';
import { startWorkers, waitUntilIdle } from '../src/runtime.js';
import { startSandbox, type SandboxHandle } from '../src/sandbox/server.js';
import { addDays, addMonths } from '../src/time/periods.js';
import { runTick } from '../src/schedule/tick.js';

const OUT = resolve(dirname(fileURLToPath(import.meta.url)), '../docs/admin.png');
const TOKEN = 'screenshot-admin-token';
const FIRST = '2026-01';
const LAST = '2026-12';
/** "Today" in the picture: a week into December, some rent still outstanding. */
const NOW = '2026-12-09T07:30:00Z';

const HEADER =
  'lease_ref,tenant_name,email,mobile,mobile_country_code,language,unit,amount,currency,due_day,lead_days,valid_days,timezone,channel,starts_on,ends_on,max_reissues';

interface Tenant {
  ref: string;
  name: string;
  lang: 'en' | 'ar';
  unit: string;
  amount: string;
  currency: 'KWD' | 'SAR';
  /** Months (1–12) this tenant let the link expire. */
  missed?: number[];
  /** Still unpaid in the last month. */
  late?: boolean;
}

const TENANTS: Tenant[] = [
  {
    ref: 'SAL-101',
    name: 'فاطمة العلي',
    lang: 'ar',
    unit: 'Salmiya, Block 10, Apt 4',
    amount: '450.750',
    currency: 'KWD',
  },
  {
    ref: 'SAL-102',
    name: 'Omar Haddad',
    lang: 'en',
    unit: 'Salmiya, Block 10, Apt 7',
    amount: '325.500',
    currency: 'KWD',
    missed: [3],
  },
  {
    ref: 'HAW-201',
    name: 'عبدالله الكندري',
    lang: 'ar',
    unit: 'Hawalli, Tower B, 12F',
    amount: '600.000',
    currency: 'KWD',
    late: true,
  },
  { ref: 'HAW-202', name: 'Priya Nair', lang: 'en', unit: 'Hawalli, Tower B, 3C', amount: '280.000', currency: 'KWD' },
  {
    ref: 'JAB-301',
    name: 'خالد المطيري',
    lang: 'ar',
    unit: 'Jabriya, Villa 3 (annex)',
    amount: '375.250',
    currency: 'KWD',
    missed: [7, 10],
  },
  {
    ref: 'JAB-302',
    name: 'Sara Ali',
    lang: 'en',
    unit: 'Jabriya, Block 1A, Apt 2',
    amount: '520.000',
    currency: 'KWD',
    late: true,
  },
  {
    ref: 'FIN-401',
    name: 'نورة السبيعي',
    lang: 'ar',
    unit: 'Fintas, Sea View 8',
    amount: '410.000',
    currency: 'KWD',
    missed: [5],
  },
  {
    ref: 'RUH-501',
    name: 'محمد القحطاني',
    lang: 'ar',
    unit: 'Riyadh, Al Olaya 14',
    amount: '4500.00',
    currency: 'SAR',
  },
  {
    ref: 'RUH-502',
    name: 'Lina Yousef',
    lang: 'en',
    unit: 'Riyadh, Al Malqa 2',
    amount: '6200.00',
    currency: 'SAR',
    missed: [9],
    late: true,
  },
];

function csvLine(t: Tenant, startsOn: string, mobile = '51234567'): string {
  const tz = t.currency === 'SAR' ? 'Asia/Riyadh' : 'Asia/Kuwait';
  const cc = t.currency === 'SAR' ? '+966' : '+965';
  return [
    t.ref,
    t.name,
    `${t.ref.toLowerCase()}@example.com`,
    mobile,
    cc,
    t.lang,
    `"${t.unit}"`,
    t.amount,
    t.currency,
    '1',
    '5',
    '10',
    tz,
    'ALL',
    startsOn,
    '',
    '0',
  ].join(',');
}

async function settle(app: App): Promise<void> {
  if (!(await waitUntilIdle(app, { timeoutMs: 60_000, pollMs: 20 }))) throw new Error('queues did not become idle');
}

async function tick(app: App): Promise<void> {
  await runTick(app);
  await settle(app);
}

function payOnTime(sandbox: SandboxHandle, period: string, month: number): void {
  for (const t of TENANTS) {
    const unpaid = t.missed?.includes(month) || (period === LAST && t.late);
    if (unpaid) continue;
    const invoice = sandbox.invoicesByReference(`${t.ref}-${period}-1`)[0];
    if (invoice) sandbox.pay(invoice.id);
  }
}

/** One month: links go out five days before the 1st, tenants pay, the worker notices, expiries land. */
async function simulateMonth(
  app: App,
  sandbox: SandboxHandle,
  clock: ManualClock,
  period: string,
  month: number,
): Promise<void> {
  clock.set(`${addDays(`${period}-01`, -4)}T06:00:00Z`);
  await tick(app);
  clock.set(`${period}-0${1 + (month % 4)}T09:00:00Z`);
  payOnTime(sandbox, period, month);
  if (period === LAST) return;
  clock.set(`${period}-13T06:00:00Z`); // past the links' expiry (due + 10 days, end of day)
  await tick(app);
}

async function seed(app: App, sandbox: SandboxHandle, clock: ManualClock): Promise<void> {
  importLeases(
    app.db,
    clock,
    [HEADER, ...TENANTS.map((t) => csvLine(t, `${FIRST}-01`))].join('\n'),
    contactRulesOf(app.registry),
  );
  for (let month = 1, period = FIRST; period <= LAST; month++, period = addMonths(period, 1)) {
    await simulateMonth(app, sandbox, clock, period, month);
  }
  clock.set(NOW);
  await tick(app);
  // A tenant who moved in this month: MyFatoorah rejects the mobile number on file.
  const newcomer: Tenant = {
    ref: 'SAL-103',
    name: 'Yousef Al-Sabah',
    lang: 'en',
    unit: 'Salmiya, Block 10, Apt 9',
    amount: '350.000',
    currency: 'KWD',
  };
  importLeases(
    app.db,
    clock,
    [HEADER, csvLine(newcomer, `${LAST}-01`, '99999999')].join('\n'),
    contactRulesOf(app.registry),
  );
  sandbox.injectFault(
    'SendPayment',
    {
      kind: 'reject',
      message: 'Invalid data',
      errors: [{ Name: 'CustomerMobile', Error: 'Mobile number is not valid' }],
    },
    1,
  );
  await tick(app);
}

async function screenshot(url: string): Promise<void> {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
    await page.goto(`${url}/admin/login`);
    await page.fill('input[name="token"]', TOKEN);
    await Promise.all([page.waitForURL(`${url}/admin`), page.click('button[type="submit"]')]);
    mkdirSync(dirname(OUT), { recursive: true });
    await page.screenshot({ path: OUT, fullPage: true });
    // For reviewing the history page too: SCREENSHOT_CHARGE=/tmp/charge.png saves the failed charge's page.
    const chargeShot = process.env['SCREENSHOT_CHARGE'];
    if (chargeShot) {
      await page.click('table.attention tr:first-child td.name a');
      await page.screenshot({ path: chargeShot, fullPage: true });
    }
  } finally {
    await browser.close();
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rentlink-shot-'));
  const redis = await startEmbeddedRedis({ dataDir: join(dir, 'redis'), appendOnly: false });
  const clock = new ManualClock(`${FIRST}-01T00:00:00Z`);
  const sandbox = await startSandbox({ clock });
  const port = await freePort();
  const config = loadConfig({
    DATABASE_PATH: join(dir, 'rentlink.db'),
    REDIS_URL: redis.url,
    QUEUE_PREFIX: 'shot',
    MYFATOORAH_TOKEN: 'sandbox-token',
    MYFATOORAH_BASE_URL: sandbox.url,
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    ADMIN_TOKEN: TOKEN,
    RETRY_BASE_DELAY_MS: '20',
    POLL_JITTER: '0',
    LOG_LEVEL: 'silent',
  });
  const app = await createApp({ config, clock, logger: silentLogger });
  const workers = startWorkers(app);
  const http = await listenHttp(createHttpApp(app, [registerAdminRoutes]), port, '127.0.0.1');
  try {
    await seed(app, sandbox, clock);
    await screenshot(http.url);
    console.log(`wrote ${OUT}`);
  } finally {
    await workers.close(5000);
    await http.close();
    await sandbox.close();
    await app.close();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
