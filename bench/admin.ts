import { createApp } from '../src/app.js';
import { openDb, closeDb } from '../src/db/open.js';
import { registerAdminRoutes } from '../src/http/admin/routes.js';
import { createHttpApp, listenHttp } from '../src/http/server.js';
import { silentLogger } from '../src/logger.js';
import { freePort } from '../src/redis.js';
import { ManualClock } from '../src/time/clock.js';
import { emit, LEASES, round, workerConfig } from './lib.js';

/**
 * The admin console at LEASES leases, over real HTTP: the dashboard and the JSON lists, first and last
 * page, bytes and milliseconds (the median of 3 requests). The tick's database gets a realistic mix
 * first: a link per charge, 5 % paid, 1 % failed, 1 % expired, 0.2 % paid twice, the rest open; on
 * 5 December every open charge is overdue, so the attention list is as long as it gets (~93 %).
 */
const TOKEN = 'bench-admin-token-0123456789';
const AT = '2026-12-05T09:00:00Z';

export async function benchAdmin(dir: string, dbPath: string, redisUrl: string): Promise<void> {
  mixStatuses(dbPath);
  const port = await freePort();
  const config = workerConfig({
    dir,
    db: dbPath,
    redisUrl,
    sandboxUrl: 'http://127.0.0.1:9',
    prefix: 'admin',
    extra: { ADMIN_TOKEN: TOKEN, HTTP_PORT: String(port) },
  });
  const app = await createApp({ config, clock: new ManualClock(AT), logger: silentLogger });
  const server = await listenHttp(createHttpApp(app, [registerAdminRoutes]), port, '127.0.0.1');
  try {
    const last = Math.max(0, LEASES - 50);
    for (const [name, path] of [
      ['admin.dashboard', '/admin?period=2026-12'],
      ['admin.dashboard.last-page', `/admin?period=2026-12&page=${last / 50 + 1}&attention=${last / 50 + 1}`],
      ['admin.api.charges', '/admin/api/charges?period=2026-12'],
      ['admin.api.charges.last-page', `/admin/api/charges?period=2026-12&offset=${last}`],
      ['admin.api.charges.failed', '/admin/api/charges?status=failed'],
      ['admin.api.charges.max-page', '/admin/api/charges?status=failed&limit=500'],
      ['admin.api.attention', '/admin/api/attention'],
      ['admin.api.leases.last-page', `/admin/api/leases?offset=${last}`],
      ['admin.api.report', '/admin/api/report?period=2026-12'],
    ] as const) {
      // The largest page an operator can ask for (500 rows) is allowed to weigh more; its time still counts.
      const goal = name.endsWith('max-page') ? '<= 1000 ms' : '<= 200 KB, <= 1000 ms';
      emit({ bench: name, leases: LEASES, path, ...(await measure(server.url, path)), goal });
    }
  } finally {
    await server.close();
    await app.close();
  }
}

async function measure(base: string, path: string): Promise<{ status: number; bytes: number; ms: number }> {
  const runs: Array<{ status: number; bytes: number; ms: number }> = [];
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    const response = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const body = await response.arrayBuffer();
    runs.push({ status: response.status, bytes: body.byteLength, ms: round(performance.now() - started, 1) });
  }
  runs.sort((a, b) => a.ms - b.ms);
  return runs[1] as { status: number; bytes: number; ms: number };
}

/** One statement each: a link row per charge and the status mix (the bench's data, not rentlink's path). */
function mixStatuses(dbPath: string): void {
  const db = openDb(dbPath);
  const sqlite = db.$client;
  const now = Date.parse('2026-11-27T06:00:00Z');
  sqlite.transaction(() => {
    sqlite.exec(`INSERT INTO payment_links (charge_id, attempt, kind, reference, provider, account, channel, status,
      provider_invoice_id, url, expires_at, create_calls, next_check_at, created_at, updated_at)
      SELECT c.id, 1, 'first', l.ref || '-' || c.period || '-1', 'myfatoorah', 'default', 'link', 'open',
        CAST(100000 + c.id AS TEXT), 'http://127.0.0.1:9/pay/' || (100000 + c.id), ${now + 15 * 86_400_000}, 1,
        ${now + 900_000}, ${now}, ${now}
      FROM charges c JOIN leases l ON l.id = c.lease_id`);
    sqlite.exec(`UPDATE charges SET status = 'invoiced', next_send_at = NULL, send_job = NULL, send_queued_at = NULL`);
    sqlite.exec(`UPDATE charges SET status = 'paid', paid_at = ${now + 86_400_000} WHERE id % 20 = 0`);
    sqlite.exec(`UPDATE payment_links SET status = 'paid', next_check_at = NULL, payment_id = 'P' || charge_id
      WHERE charge_id % 20 = 0`);
    sqlite.exec(
      `UPDATE charges SET status = 'failed', status_reason = 'Mobile number is not valid' WHERE id % 100 = 1`,
    );
    sqlite.exec(`UPDATE charges SET status = 'expired', status_reason = 'unpaid after 3 link(s)' WHERE id % 100 = 2`);
    sqlite.exec(`UPDATE charges SET extra_payments = 1, extra_paid_minor = amount_minor WHERE id % 500 = 0`);
  })();
  sqlite.pragma('wal_checkpoint(TRUNCATE)');
  closeDb(db);
}
