import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { closeDb, openDb } from '../src/db/open.js';
import { charges } from '../src/db/schema.js';
import { createHarness, CSV_HEADER, csvOf, leaseLine, type Harness } from './helpers/harness.js';

const dir = mkdtempSync(join(tmpdir(), 'rentlink-dry-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let h: Harness | undefined;
afterEach(async () => h?.close());

function rentlink(args: string[], db: string) {
  const result = spawnSync(process.execPath, ['bin/rentlink.js', ...args], {
    encoding: 'utf8',
    env: { PATH: process.env['PATH'] ?? '', DATABASE_PATH: db, LOG_LEVEL: 'warn' },
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function rowCounts(path: string) {
  const db = openDb(path);
  try {
    const count = (table: string) =>
      (db.$client.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
    return { leases: count('leases'), charges: count('charges'), events: count('events') };
  } finally {
    closeDb(db);
  }
}

describe('dry runs: what would be billed, nothing written', () => {
  it('import --dry-run checks the file and shows the charges and totals of the next tick; tick --dry-run likewise', () => {
    const db = join(dir, 'dry.db');
    const file = join(dir, 'leases.csv');
    writeFileSync(
      file,
      csvOf(
        leaseLine({ lease_ref: 'A', starts_on: '2026-09-01', amount: '100.000' }),
        leaseLine({ lease_ref: 'B', starts_on: '2026-09-01', amount: '50.500', currency: 'KWD' }),
      ),
    );
    const dry = rentlink(['import', '--dry-run', '--now', '2026-12-03T06:00:00Z', file], db);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('would import: 2 created, 0 updated, 0 unchanged');
    // Catch-up: this period and two before it, per lease.
    expect(dry.stdout.match(/^(A|B) +2026-1[012]|^(A|B) +2026-12/gm)?.length).toBeGreaterThanOrEqual(6);
    expect(dry.stdout).toContain('total: 451.500 KWD (6)');
    expect(rowCounts(db)).toEqual({ leases: 0, charges: 0, events: 0 });

    expect(rentlink(['import', file], db).code).toBe(0);
    const before = rowCounts(db);
    const tick = rentlink(['tick', '--dry-run', '--now', '2026-12-03T06:00:00Z', '--format', 'json'], db);
    expect(tick.code).toBe(0);
    const plan = JSON.parse(tick.stdout) as { charges: Array<{ lease: string; period: string }>; totals: unknown[] };
    expect(plan.charges.map((c) => `${c.lease} ${c.period}`).sort()).toEqual([
      'A 2026-10',
      'A 2026-11',
      'A 2026-12',
      'B 2026-10',
      'B 2026-11',
      'B 2026-12',
    ]);
    expect(plan.totals).toEqual([{ currency: 'KWD', charges: 6, amount: '451.500' }]);
    expect(rowCounts(db)).toEqual(before);
  });
});

describe('paid_through', () => {
  it('months collected outside rentlink are never billed, however far back the lease starts', async () => {
    h = await createHarness({ now: '2026-12-03T06:00:00Z' });
    const header = `${CSV_HEADER},paid_through`;
    h.importCsv([header, `${leaseLine({ lease_ref: 'P', starts_on: '2026-06-01' })},2026-11`].join('\n'));
    await h.tickAndSettle();
    expect(h.app.db.select({ period: charges.period }).from(charges).all()).toEqual([{ period: '2026-12' }]);
    // Moving paid_through back bills what is no longer covered, within the catch-up window.
    h.importCsv([header, `${leaseLine({ lease_ref: 'P', starts_on: '2026-06-01' })},2026-10`].join('\n'));
    await h.tickAndSettle();
    expect(
      h.app.db
        .select({ period: charges.period })
        .from(charges)
        .all()
        .map((c) => c.period)
        .sort(),
    ).toEqual(['2026-11', '2026-12']);
  });
});
