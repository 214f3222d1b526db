import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { openDb, closeDb } from '../src/db/open.js';
import { charges, leases, paymentLinks } from '../src/db/schema.js';
import { csvOf, leaseLine } from './helpers/harness.js';

const dir = mkdtempSync(join(tmpdir(), 'rentlink-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the real `rentlink` bin in a child process, in sandbox mode (no MYFATOORAH_TOKEN). */
function rentlink(args: string[], env: Record<string, string> = {}) {
  const result = spawnRentlink(args, env);
  return { code: result.status, stdout: result.stdout.toString('utf8'), stderr: result.stderr.toString('utf8') };
}

/** The same, with stdout as bytes (for a byte-order mark). */
function rentlinkBytes(args: string[], env: Record<string, string> = {}) {
  const result = spawnRentlink(args, env);
  return { code: result.status, stdout: result.stdout, stderr: result.stderr.toString('utf8') };
}

function spawnRentlink(args: string[], env: Record<string, string>) {
  return spawnSync(process.execPath, ['bin/rentlink.js', ...args], {
    env: {
      PATH: process.env['PATH'] ?? '',
      DATABASE_PATH: join(dir, 'cli.db'),
      REDIS_URL: inject('redisUrl'),
      QUEUE_PREFIX: `cli${process.pid}`,
      LOG_LEVEL: 'warn',
      HTTP_PORT: '0',
      ...env,
    },
    timeout: 60_000,
  });
}

describe('rentlink CLI', () => {
  it('--help lists every command', () => {
    const { code, stdout } = rentlink(['--help']);
    expect(code).toBe(0);
    for (const command of ['start', 'tick', 'import', 'sandbox', 'demo', 'jobs', 'charges', 'leases', 'report']) {
      expect(stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    }
  });

  it('import: a file with one bad row imports nothing, names line and field, exits 2', () => {
    const file = join(dir, 'bad.csv');
    writeFileSync(
      file,
      csvOf(
        leaseLine({ lease_ref: 'OK-1' }),
        leaseLine({ lease_ref: 'BAD-1', due_day: '32' }),
        leaseLine({ lease_ref: 'BAD-2', currency: 'XYZ' }),
      ),
    );
    const { code, stderr } = rentlink(['import', file]);
    expect(code).toBe(2);
    expect(stderr).toContain('nothing imported');
    expect(stderr).toMatch(/line 3.*due_day/);
    expect(stderr).toMatch(/line 4.*currency/);
    const db = openDb(join(dir, 'cli.db'));
    expect(db.select().from(leases).all()).toHaveLength(0);
    closeDb(db);
  });

  it('import then tick --now --wait creates the links against the in-process sandbox; a second run creates nothing', () => {
    const file = join(dir, 'good.csv');
    writeFileSync(
      file,
      csvOf(
        leaseLine({ lease_ref: 'CLI-1' }),
        leaseLine({
          lease_ref: 'CLI-2',
          currency: 'SAR',
          amount: '4250.50',
          timezone: 'Asia/Riyadh',
          mobile: '551234567',
          mobile_country_code: '+966',
        }),
      ),
    );
    expect(rentlink(['import', file]).stdout).toContain('2 created');
    const first = rentlink(['tick', '--now', '2026-11-27T06:00:00Z', '--wait', '--format', 'json']);
    expect(first.code).toBe(0);
    const summary = JSON.parse(first.stdout) as { chargesCreated: number; linksCreated: number; failures: unknown[] };
    expect(summary).toMatchObject({ chargesCreated: 2, linksCreated: 2, failures: [] });
    expect(first.stderr).toContain('built-in sandbox');
    const again = JSON.parse(
      rentlink(['tick', '--now', '2026-11-27T06:01:00Z', '--wait', '--format', 'json']).stdout,
    ) as typeof summary;
    expect(again).toMatchObject({ chargesCreated: 0, linksCreated: 0 });
    const db = openDb(join(dir, 'cli.db'));
    expect(
      db
        .select()
        .from(charges)
        .all()
        .map((c) => c.status),
    ).toEqual(['invoiced', 'invoiced']);
    expect(db.select().from(paymentLinks).all()).toHaveLength(2);
    closeDb(db);
  });

  it('a bad setting is a clear error naming the variable', () => {
    const { code, stderr } = rentlink(['tick'], { STATUS_RATE_LIMIT_PER_SECOND: 'fast' });
    expect(code).toBe(2);
    expect(stderr).toMatch(/STATUS_RATE_LIMIT_PER_SECOND/);
    expect(stderr).toContain('CONFIG_INVALID');
  });

  it('CSV listings neutralise formula names, and --bom starts them with EF BB BF', () => {
    const env = { DATABASE_PATH: join(dir, 'csv.db') };
    const file = join(dir, 'formulas.csv');
    const names = ['=HYPERLINK("http://evil.example","x")', "+cmd|' /C calc'!A0", '@SUM(1+1)', '-2+3', 'فاطمة العلي'];
    const quoted = (v: string) => `"${v.replaceAll('"', '""')}"`;
    writeFileSync(
      file,
      csvOf(...names.map((name, i) => leaseLine({ lease_ref: `F-${i}`, tenant_name: quoted(name) }))),
    );
    expect(rentlink(['import', file], env).code).toBe(0);
    const plain = rentlink(['leases', 'list', '--format', 'csv'], env);
    expect(plain.code).toBe(0);
    const tenants = plain.stdout
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(',').find((cell) => /HYPERLINK|cmd|SUM|2\+3|فاطمة/.test(cell)));
    expect(tenants).toEqual([
      `"'=HYPERLINK(""http://evil.example""`,
      "'+cmd|' /C calc'!A0",
      "'@SUM(1+1)",
      "'-2+3",
      'فاطمة العلي',
    ]);
    const bom = rentlinkBytes(['leases', 'list', '--format', 'csv', '--bom'], env);
    expect(bom.code).toBe(0);
    expect([...bom.stdout.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(bom.stdout.subarray(3).toString('utf8')).toBe(plain.stdout);
    const report = rentlinkBytes(['report', '--format', 'csv', '--bom'], env);
    expect(report.code).toBe(0);
    const notCsv = rentlink(['leases', 'list', '--bom'], env);
    expect(notCsv.code).toBe(2);
    expect(notCsv.stderr).toContain('--bom only applies to --format csv');
  });
});
