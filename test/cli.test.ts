import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { openDb, closeDb } from '../src/db/open.js';
import { charges, events, leases, paymentLinks } from '../src/db/schema.js';
import { contactRulesOf, importLeases } from '../src/operations/import-leases.js';
import { createRegistry } from '../src/providers/registry.js';
import { ManualClock } from '../src/time/clock.js';
import { csvOf, leaseLine } from './helpers/harness.js';

const dir = mkdtempSync(join(tmpdir(), 'rentlink-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the real `rentlink` bin in a child process, in sandbox mode (no MYFATOORAH_TOKEN). */
function rentlink(args: string[], env: Record<string, string> = {}, timeout = 60_000) {
  const result = spawnRentlink(args, env, timeout);
  return { code: result.status, stdout: result.stdout.toString('utf8'), stderr: result.stderr.toString('utf8') };
}

/** The same, with stdout as bytes (for a byte-order mark). */
function rentlinkBytes(args: string[], env: Record<string, string> = {}) {
  const result = spawnRentlink(args, env);
  return { code: result.status, stdout: result.stdout, stderr: result.stderr.toString('utf8') };
}

function spawnRentlink(args: string[], env: Record<string, string>, timeout = 60_000) {
  return spawnSync(process.execPath, ['bin/rentlink.js', ...args], {
    env: cliEnv(env),
    timeout,
  });
}

function cliEnv(env: Record<string, string>): Record<string, string> {
  return {
    PATH: process.env['PATH'] ?? '',
    DATABASE_PATH: join(dir, 'cli.db'),
    REDIS_URL: inject('redisUrl'),
    QUEUE_PREFIX: `cli${process.pid}`,
    LOG_LEVEL: 'warn',
    HTTP_PORT: '0',
    ...env,
  };
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs each argument list through `rentlinkAsync`, three at a time (two cores; each run boots tsx). */
async function rentlinkAll(argLists: string[][], env: Record<string, string>): Promise<Run[]> {
  const runs: Run[] = [];
  for (let i = 0; i < argLists.length; i += 3) {
    runs.push(...(await Promise.all(argLists.slice(i, i + 3).map((args) => rentlinkAsync(args, env)))));
  }
  return runs;
}

/** The same, without blocking: several runs go at once. A run still going after `timeout` is killed (code null). */
function rentlinkAsync(args: string[], env: Record<string, string> = {}, timeout = 30_000): Promise<Run> {
  const started = performance.now();
  const child = spawn(process.execPath, ['bin/rentlink.js', ...args], { env: cliEnv(env) });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - started });
    });
  });
}

/** A database with two leases due on 2026-12-01 (sent from 2026-11-26), and nothing else. */
function seededDb(name: string): string {
  const path = join(dir, name);
  const db = openDb(path);
  importLeases(
    db,
    new ManualClock('2026-11-20T00:00:00Z'),
    csvOf(leaseLine({ lease_ref: 'V-1' }), leaseLine({ lease_ref: 'V-2' })),
    contactRulesOf(createRegistry(loadConfig({}).accounts, { clock: new ManualClock(0), timeoutMs: 1000 })),
  );
  closeDb(db);
  return path;
}

/** Charges and events in the file: what "nothing changed" is checked against. */
function rowCounts(path: string): { charges: number; events: number } {
  const db = openDb(path);
  try {
    return { charges: db.select().from(charges).all().length, events: db.select().from(events).all().length };
  } finally {
    closeDb(db);
  }
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

describe('import refuses what it cannot read safely (issue #8 item 11)', () => {
  const env = { DATABASE_PATH: join(dir, 'limits.db') };
  const leaseCount = () => {
    const db = openDb(env.DATABASE_PATH);
    try {
      return db.select().from(leases).all().length;
    } finally {
      closeDb(db);
    }
  };

  it('/dev/zero, a directory and a FIFO are not regular files: exit 2 at once, nothing written', () => {
    const zero = spawnRentlink(['import', '/dev/zero'], env, 20_000);
    expect(zero.status).toBe(2);
    expect(zero.stderr.toString()).toContain('/dev/zero is a device, not a regular file');
    const folder = join(dir, 'a-folder');
    mkdirSync(folder);
    const directory = rentlink(['import', folder], env);
    expect(directory.code).toBe(2);
    expect(directory.stderr).toContain('is a directory, not a regular file');
    const fifo = join(dir, 'a-fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const pipe = spawnRentlink(['import', fifo], env, 20_000); // opening a FIFO must not wait for a writer
    expect(pipe.status).toBe(2);
    expect(pipe.stderr.toString()).toContain('is a pipe, not a regular file');
    expect(leaseCount()).toBe(0);
  });

  it('a file over IMPORT_MAX_BYTES is refused: exit 2, nothing written', () => {
    const file = join(dir, 'big.csv');
    writeFileSync(file, csvOf(...Array.from({ length: 40 }, (_, i) => leaseLine({ lease_ref: `BIG-${i}` }))));
    const { code, stderr } = rentlink(['import', file], { ...env, IMPORT_MAX_BYTES: '2048' });
    expect(code).toBe(2);
    expect(stderr).toContain('is larger than IMPORT_MAX_BYTES (2048 bytes)');
    expect(leaseCount()).toBe(0);
  });

  it('a Latin-1 file is refused as not UTF-8, naming line and byte: exit 2, nothing written', () => {
    const file = join(dir, 'latin1.csv');
    writeFileSync(file, Buffer.from(csvOf(leaseLine({ lease_ref: 'L1-1', tenant_name: 'José Müller' })), 'latin1'));
    const { code, stderr } = rentlink(['import', file], env);
    expect(code).toBe(2);
    expect(stderr).toMatch(/line 2, field file: the file is not UTF-8: byte 0xE9 at line 2, byte 9 /);
    expect(leaseCount()).toBe(0);
  });

  it('a control or bidi-override character is named with its line and field: exit 2', () => {
    const file = join(dir, 'bidi.csv');
    writeFileSync(file, csvOf(leaseLine({ lease_ref: 'BIDI-1', tenant_name: 'Noura \u202Eexe.pdf' })));
    const { code, stderr } = rentlink(['import', file], env);
    expect(code).toBe(2);
    expect(stderr).toContain('line 2, field tenant_name: tenant_name contains U+202E RIGHT-TO-LEFT OVERRIDE');
    expect(leaseCount()).toBe(0);
  });
});

describe('settings that are URLs (issue #8 item 11)', () => {
  it.each([
    [
      'PUBLIC_BASE_URL',
      'javascript:alert(1)',
      /PUBLIC_BASE_URL: must be an http:\/\/ or https:\/\/ URL, not javascript:/,
    ],
    ['PUBLIC_BASE_URL', 'file:///etc/passwd', /PUBLIC_BASE_URL: .*not file:/],
    ['MYFATOORAH_BASE_URL', 'data:text/html,hi', /MYFATOORAH_BASE_URL: .*not data:/],
    [
      'MYFATOORAH_BASE_URL',
      'https://user:secret@api.myfatoorah.com',
      /MYFATOORAH_BASE_URL: must not carry a user name or password/,
    ],
    ['PUBLIC_BASE_URL', 'not a url', /PUBLIC_BASE_URL: is not a URL/],
  ])('%s=%s is refused, naming the variable', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(message);
    let text = '';
    try {
      loadConfig({ [name]: value });
    } catch (err) {
      text = (err as Error).message;
    }
    expect(text).not.toContain('secret'); // a password in the URL is not echoed
  });

  it('http and https URLs are accepted', () => {
    expect(
      loadConfig({ PUBLIC_BASE_URL: 'https://rent.example.com', MYFATOORAH_BASE_URL: 'http://127.0.0.1:8090' }),
    ).toMatchObject({
      PUBLIC_BASE_URL: 'https://rent.example.com',
      MYFATOORAH_BASE_URL: 'http://127.0.0.1:8090',
    });
  });

  it('the real CLI exits 2 on one, naming it', () => {
    const { code, stderr } = rentlink(['leases', 'list'], { PUBLIC_BASE_URL: 'file:///etc/passwd' });
    expect(code).toBe(2);
    expect(stderr).toContain('PUBLIC_BASE_URL');
    expect(stderr).toContain('CONFIG_INVALID');
  });
});

describe('IMPORT_MAX_BYTES', () => {
  it('defaults to 64 MiB and must be a positive whole number', () => {
    expect(loadConfig({}).IMPORT_MAX_BYTES).toBe(64 * 1024 * 1024);
    expect(() => loadConfig({ IMPORT_MAX_BYTES: '0' })).toThrow(/IMPORT_MAX_BYTES/);
    expect(() => loadConfig({ IMPORT_MAX_BYTES: 'lots' })).toThrow(/IMPORT_MAX_BYTES/);
  });
});

describe('validate everything before doing anything', () => {
  it('start with a bad TICK_CRON exits 2 before the first tick: no charge, no event', () => {
    const db = seededDb('cron.db');
    const before = rowCounts(db);
    const run = rentlink(['start'], { DATABASE_PATH: db, TICK_CRON: 'every minute' }, 30_000);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/TICK_CRON: "every minute" is not a cron expression/);
    expect(rowCounts(db)).toEqual(before);
  });

  it('lists every bad setting at once, each by name, and changes nothing', () => {
    const db = seededDb('settings.db');
    const before = rowCounts(db);
    const run = rentlink(['tick', '--now', '2026-11-27T06:00:00Z', '--wait'], {
      DATABASE_PATH: db,
      TICK_CRON: '61 * * * *',
      HTTP_PORT: '99999',
      SANDBOX_PORT: '-1',
      MYFATOORAH_TIMEZONE: 'Mars/Base',
      MYFATOORAH_ACCOUNT_CURRENCY: 'XYZ',
      POLL_PLAN: 'often',
    });
    expect(run.code).toBe(2);
    for (const name of [
      'TICK_CRON',
      'HTTP_PORT',
      'SANDBOX_PORT',
      'MYFATOORAH_TIMEZONE',
      'MYFATOORAH_ACCOUNT_CURRENCY',
      'POLL_PLAN',
    ]) {
      expect(run.stderr).toMatch(new RegExp(`^\\s+${name}: `, 'm'));
    }
    expect(run.stderr).toContain('[CONFIG_INVALID]');
    expect(rowCounts(db)).toEqual(before);
  });

  it('a bad option value exits 2 naming the option, before any work', { timeout: 180_000 }, async () => {
    const db = seededDb('options.db');
    const before = rowCounts(db);
    const now = ['--now', '2026-11-27T06:00:00Z'];
    const cases: Array<[string[], RegExp]> = [
      [['tick', ...now, '--wait', '--max-wait', 'garbage'], /--max-wait/],
      [['tick', '--now', 'garbage', '--wait'], /--now/],
      [['tick', ...now, '--format', 'yaml'], /--format/],
      [['sandbox', '--port', '99999'], /--port/],
      [['sandbox', '--port', '0', '--rate-limit', 'x'], /--rate-limit/],
      [['sandbox', '--port', '0', '--webhook-url', 'javascript:alert(1)'], /--webhook-url/],
      [['charges', 'show', 'abc'], /argument 'id'/],
      [['charges', 'reissue', 'abc'], /argument 'id'/],
      [['charges', 'list', '--period', '2026-13'], /--period/],
      [['jobs', 'failed', '--queue', 'nope'], /--queue/],
      [['report', '--period', 'december'], /--period/],
    ];
    const runs = await rentlinkAll(
      cases.map(([args]) => args),
      { DATABASE_PATH: db },
    );
    runs.forEach((run, i) => {
      const [args, option] = cases[i] as [string[], RegExp];
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
      expect(run.stderr).toMatch(option);
      expect(run.stderr).toContain('[INVALID_INPUT]');
    });
    expect(rowCounts(db)).toEqual(before);
  });

  it(
    'exit codes: unknown command or option, unknown id, missing file → 2; a refused action → 1',
    { timeout: 180_000 },
    async () => {
      const db = seededDb('codes.db');
      const env = { DATABASE_PATH: db, QUEUE_PREFIX: `codes${process.pid}` };
      const made = rentlink(['tick', '--now', '2026-11-27T06:00:00Z', '--wait', '--format', 'json'], env);
      expect(made.code).toBe(0);
      const chargeId = String(rentlinkIds(db)[0]);
      expect(rentlink(['charges', 'void', chargeId, '--reason', 'moved out'], env).code).toBe(0);
      const before = rowCounts(db);
      const cases: Array<[string[], number, RegExp]> = [
        [['nope'], 2, /unknown command 'nope'/],
        [['tick', '--bogus'], 2, /unknown option '--bogus'/],
        [['charges', 'show'], 2, /missing required argument 'id'/],
        [['charges', 'show', '999'], 2, /charge 999 not found \[NOT_FOUND\]/],
        [['charges', 'void', '999', '--reason', 'x'], 2, /charge 999 not found \[NOT_FOUND\]/],
        [['leases', 'pause', 'NOPE'], 2, /lease "NOPE" not found \[NOT_FOUND\]/],
        [['charges', 'list', '--lease', 'NOPE'], 2, /\[NOT_FOUND\]/],
        [['jobs', 'retry', 'send-999-1'], 2, /no such job: send-999-1.*\[NOT_FOUND\]/],
        [['import', join(dir, 'nope.csv')], 2, /cannot (read|open) .*nope\.csv.*\[INVALID_INPUT\]/],
        [['demo', join(dir, 'nope.csv')], 2, /cannot (read|open) .*nope\.csv.*\[INVALID_INPUT\]/],
        [['charges', 'void', chargeId, '--reason', 'again'], 1, /already void \[INVALID_STATE\]/],
        [['charges', 'reissue', chargeId], 1, /void; it cannot be reissued \[INVALID_STATE\]/],
      ];
      const runs = await rentlinkAll(
        cases.map(([args]) => args),
        env,
      );
      runs.forEach((run, i) => {
        const [args, code, message] = cases[i] as [string[], number, RegExp];
        expect({ args, code: run.code }).toEqual({ args, code });
        expect(run.stderr).toMatch(message);
      });
      expect(rowCounts(db)).toEqual(before);
    },
  );
});

describe('logs when stderr is not a terminal', () => {
  it('JSON lines (no per-link lines at info), or human lines with LOG_FORMAT=pretty; the summary on stdout', () => {
    const db = seededDb('logs.db');
    const env = { DATABASE_PATH: db, QUEUE_PREFIX: `logs${process.pid}`, LOG_LEVEL: 'info' };
    const json = rentlink(['tick', '--now', '2026-11-27T06:00:00Z', '--wait'], env);
    expect(json.code).toBe(0);
    expect(json.stdout).toContain('links created: 2');
    const records = json.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string });
    expect(records.map((r) => r.msg)).toContain(
      'these accounts use the built-in sandbox provider (no real links are created)',
    );
    expect(records.map((r) => r.msg)).not.toContain('payment link created');

    const pretty = rentlink(['tick', '--now', '2026-11-27T06:01:00Z', '--wait'], { ...env, LOG_FORMAT: 'pretty' });
    expect(pretty.code).toBe(0);
    expect(pretty.stderr).toMatch(
      /^\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}Z\] WARN: these accounts use the built-in sandbox provider/m,
    );
    expect(pretty.stderr).not.toContain('{"level"');
    expect(pretty.stderr).not.toContain('\x1b['); // colour only on a terminal
  });
});

describe('unreachable Redis', () => {
  it('tick, jobs failed and start give up after REDIS_CONNECT_TIMEOUT_MS with one line naming REDIS_URL, exit 1', async () => {
    const env = {
      REDIS_URL: 'redis://rentlink:s3cret-pw@127.0.0.1:1',
      REDIS_CONNECT_TIMEOUT_MS: '500',
      LOG_LEVEL: 'info',
    };
    // One database each: three processes creating one new file at once race on its first migration.
    const runs = await Promise.all(
      [['tick'], ['jobs', 'failed'], ['start']].map((args, i) =>
        rentlinkAsync(args, { ...env, DATABASE_PATH: join(dir, `no-redis-${i}.db`) }, 20_000),
      ),
    );
    for (const run of runs) {
      expect(run.code).toBe(1);
      expect(run.ms).toBeLessThan(15_000);
      expect(run.stderr.trimEnd().split('\n'), run.stderr).toHaveLength(1);
      expect(run.stderr).toMatch(/^rentlink: cannot reach Redis at REDIS_URL=redis:\/\/rentlink:\*\*\*@127\.0\.0\.1:1/);
      expect(run.stderr).toMatch(/ECONNREFUSED.*\[REDIS_UNAVAILABLE\]$/m);
      expect(run.stderr).not.toContain('s3cret-pw');
    }
  });
});

function rentlinkIds(path: string): number[] {
  const db = openDb(path);
  try {
    return db
      .select({ id: charges.id })
      .from(charges)
      .all()
      .map((c) => c.id);
  } finally {
    closeDb(db);
  }
}
