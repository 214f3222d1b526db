import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Redis } from 'ioredis';
import { closeDb, openDb } from '../src/db/open.js';
import { contactRulesOf, importLeases } from '../src/operations/import-leases.js';
import { readLeaseFile } from '../src/operations/lease-file.js';
import { createRegistry } from '../src/providers/registry.js';
import { ManualClock } from '../src/time/clock.js';
import { emit, leaseCsv, LEASES, NOW, ratio, round, spawnJsonChild, workerConfig, workerEnv } from './lib.js';

/**
 * Import and tick at LEASES leases: `import` vs a bare parse + insert; the first tick of the month (a
 * charge and a send job per lease) vs bare code doing the same essential work, each in a child process
 * of its own (its peak RSS measured by the kernel); then the ticks that follow with nothing new.
 * Returns the database, now holding LEASES leases and their charges, for the admin figures.
 */
export async function benchImportAndTick(dir: string, redisUrl: string, redis: Redis): Promise<string> {
  const file = join(dir, 'leases.csv');
  writeFileSync(file, leaseCsv(LEASES));
  const settings = { dir, db: join(dir, 'tick.db'), redisUrl, sandboxUrl: 'http://127.0.0.1:9', prefix: 'tick' };
  const config = workerConfig(settings);

  const db = openDb(settings.db);
  const started = performance.now();
  const text = readLeaseFile(file, config.IMPORT_MAX_BYTES);
  const registry = createRegistry(config.accounts, { clock: new ManualClock(NOW), timeoutMs: 1000 });
  const summary = importLeases(db, new ManualClock(NOW), text, contactRulesOf(registry));
  const importMs = performance.now() - started;
  db.$client.pragma('wal_checkpoint(TRUNCATE)');
  closeDb(db);
  const bareImportMs = bareImport(join(dir, 'import-bare.db'), file);
  emit({
    bench: 'import',
    leases: summary.created,
    ms: round(importMs),
    goalMs: 5000,
    baseline: { what: 'csv-parse + prepared INSERTs of tenants and leases, one transaction', ms: round(bareImportMs) },
    ratioToBare: ratio(bareImportMs, importMs),
  });

  // The bare tick works on a copy, so both start from the same imported leases.
  const bareDb = join(dir, 'tick-bare.db');
  copyFileSync(settings.db, bareDb);
  const bare = await runTickChild('bare', workerEnv({ ...settings, db: bareDb, prefix: 'bare' }));
  await redis.flushall();
  const ours = await runTickChild('ours', workerEnv(settings), true);
  await redis.flushall();
  const first = ours.first;
  emit({
    bench: 'tick.first-of-month',
    leases: LEASES,
    charges: first['chargesCreated'],
    sendJobs: first['sendJobs'],
    ms: first['ms'],
    perSecond: round(((first['chargesCreated'] as number) * 1000) / (first['ms'] as number)),
    baseline: {
      what: 'read leases, insert charges in one transaction, addBulk in chunks of 2000',
      ms: bare.first['ms'],
    },
    ratioToBare: ratio(bare.first['ms'] as number, first['ms'] as number),
    goal: '>= 0.7x bare',
  });
  emit({
    bench: 'tick.first-of-month.peak-rss',
    maxRssMb: first['maxRssMb'],
    startupRssMb: ours.ready['rssMb'],
    growthMb: round((first['maxRssMb'] as number) - (ours.ready['rssMb'] as number)),
    heapAtStartup: ours.ready['heap'],
    heapAfterTick: first['heap'],
    goalMb: 200,
    how: 'the tick runs in a child process; maxRSS from getrusage (kernel peak, no sampling gaps)',
    baseline: {
      what: 'the bare tick child',
      maxRssMb: bare.first['maxRssMb'],
      startupRssMb: bare.ready['rssMb'],
      growthMb: round((bare.first['maxRssMb'] as number) - (bare.ready['rssMb'] as number)),
    },
  });
  emit({
    bench: 'tick.steady-state',
    leases: LEASES,
    medianMs: ours.steady?.['medianMs'],
    maxMs: ours.steady?.['maxMs'],
    chargesCreated: ours.steady?.['chargesCreated'],
    sendJobs: ours.steady?.['sendJobs'],
    goalMs: 50,
    note: 'the ticks after the first, one simulated minute apart: only due rows are read, nothing queued again',
  });
  return settings.db;
}

interface TickChildResult {
  ready: Record<string, unknown>;
  first: Record<string, unknown>;
  steady: Record<string, unknown> | null;
}

async function runTickChild(mode: 'ours' | 'bare', env: Record<string, string>, steady = false) {
  const child = spawnJsonChild('child-tick.ts', [mode, JSON.stringify(env)]);
  const result: TickChildResult = { ready: await child.next(), first: {}, steady: null };
  child.send('first');
  result.first = await child.next();
  if (steady) {
    child.send('steady');
    result.steady = await child.next();
  }
  child.send('done');
  await child.exited;
  return result;
}

/** The bare import: parse the CSV and insert tenants and leases with prepared statements, nothing else. */
function bareImport(path: string, file: string): number {
  const db = openDb(path);
  const sqlite = db.$client;
  const started = performance.now();
  const records = parse(readLeaseFile(file, 1 << 30), { bom: true, trim: true, from_line: 2 }) as string[][];
  const tenant = sqlite.prepare(
    'INSERT INTO tenants (name, email, mobile, mobile_country_code, language, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, 0)',
  );
  const lease = sqlite.prepare(
    `INSERT INTO leases (ref, tenant_id, unit, amount_minor, currency, due_day, lead_days, valid_days, timezone,
     channel, max_reissues, starts_on, next_send_at, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'link', ?, ?, 0, 0, 0)`,
  );
  sqlite.transaction(() => {
    for (const r of records) {
      const tenantId = tenant.run(r[1], r[2], r[3], r[4], r[5]).lastInsertRowid;
      const minor = Math.round(Number(r[7]) * 1000);
      lease.run(
        r[0],
        tenantId,
        r[6],
        minor,
        r[8],
        Number(r[9]),
        Number(r[10]),
        Number(r[11]),
        r[12],
        Number(r[16]),
        r[14],
      );
    }
  })();
  const ms = performance.now() - started;
  closeDb(db);
  return ms;
}
