import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, readEnvironment } from '../src/config.js';

const dir = mkdtempSync(join(tmpdir(), 'rentlink-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A fresh directory, with a `.env` holding `dotenv` when given. */
function tempDir(name: string, dotenv?: string): string {
  const path = join(dir, name);
  mkdirSync(path, { recursive: true });
  if (dotenv !== undefined) writeFileSync(join(path, '.env'), dotenv);
  return path;
}

describe('.env', () => {
  it('fills in what the environment does not set; the environment always wins, even when empty', () => {
    const cwd = tempDir(
      'fill',
      'QUEUE_PREFIX=fromfile\nHTTP_PORT=4000\n# a comment\nADMIN_TOKEN="from file with spaces"\nLOG_LEVEL=debug\n',
    );
    const env = readEnvironment({ QUEUE_PREFIX: 'fromenv', LOG_LEVEL: '' }, cwd);
    expect(env).toMatchObject({
      QUEUE_PREFIX: 'fromenv',
      HTTP_PORT: '4000',
      ADMIN_TOKEN: 'from file with spaces',
      LOG_LEVEL: '',
    });
    const config = loadConfig({ ...env, LOG_LEVEL: 'warn' });
    expect(config).toMatchObject({ QUEUE_PREFIX: 'fromenv', HTTP_PORT: 4000, ENV_FILE: join(cwd, '.env') });
  });

  it('a missing ./.env is fine; a missing ENV_FILE is CONFIG_INVALID', () => {
    const cwd = tempDir('none');
    expect(readEnvironment({ QUEUE_PREFIX: 'x' }, cwd)).toEqual({ QUEUE_PREFIX: 'x' });
    expect(() => readEnvironment({ ENV_FILE: 'prod.env' }, cwd)).toThrow(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        message: expect.stringMatching(/ENV_FILE: cannot read .*prod\.env/),
      }),
    );
  });

  it('ENV_FILE names another file (relative to the working directory), read instead of ./.env', () => {
    const cwd = tempDir('named', 'QUEUE_PREFIX=dotenv\n');
    writeFileSync(join(cwd, 'prod.env'), 'QUEUE_PREFIX=prod\nCATCH_UP_PERIODS=5\n');
    const config = loadConfig(readEnvironment({ ENV_FILE: 'prod.env' }, cwd));
    expect(config).toMatchObject({ QUEUE_PREFIX: 'prod', CATCH_UP_PERIODS: 5 });
  });

  it('the real CLI reads ./.env from its working directory, with the environment winning', () => {
    const cwd = tempDir('cli', 'DATABASE_PATH=./from-file.db\nTICK_CRON=not a cron\nLOG_LEVEL=warn\n');
    const bin = resolve('bin/rentlink.js');
    const run = (env: Record<string, string>) =>
      spawnSync(process.execPath, [bin, 'report'], {
        cwd,
        encoding: 'utf8',
        env: { PATH: process.env['PATH'] ?? '', ...env },
        timeout: 30_000,
      });
    const bad = run({});
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/TICK_CRON: "not a cron"/);
    expect(bad.stderr).toContain(join(cwd, '.env'));
    expect(bad.stderr).not.toContain('from-file.db');
    expect(existsSync(join(cwd, 'from-file.db'))).toBe(false);

    const good = run({ TICK_CRON: '*/5 * * * *' });
    expect(good.status).toBe(0);
    expect(good.stdout).toContain('no charges');
    expect(existsSync(join(cwd, 'from-file.db'))).toBe(true);
  });
});

describe('settings are validated together', () => {
  it('names every bad variable at once', () => {
    let message = '';
    try {
      loadConfig({
        TICK_CRON: 'often',
        HTTP_PORT: '99999',
        SANDBOX_PORT: '1.5',
        MYFATOORAH_TIMEZONE: 'Mars/Base',
        MYFATOORAH_ACCOUNT_CURRENCY: 'XYZ',
        REDIS_URL: 'localhost:6379',
        REDIS_CONNECT_TIMEOUT_MS: '0',
        LOG_FORMAT: 'fancy',
      });
    } catch (err) {
      message = (err as Error).message;
    }
    for (const name of [
      'TICK_CRON',
      'HTTP_PORT',
      'SANDBOX_PORT',
      'MYFATOORAH_TIMEZONE',
      'MYFATOORAH_ACCOUNT_CURRENCY',
      'REDIS_URL',
      'REDIS_CONNECT_TIMEOUT_MS',
      'LOG_FORMAT',
    ]) {
      expect(message).toMatch(new RegExp(`^  ${name}: `, 'm'));
    }
  });

  it('accepts the documented forms: port 0, empty values as unset, valid cron, zone and currency', () => {
    const config = loadConfig({
      HTTP_PORT: '0',
      SANDBOX_PORT: '',
      TICK_CRON: '*/5 * * * *',
      MYFATOORAH_TIMEZONE: 'Asia/Riyadh',
      MYFATOORAH_ACCOUNT_CURRENCY: 'SAR',
      REDIS_URL: 'rediss://:pw@redis.example:6380/0',
    });
    expect(config).toMatchObject({
      HTTP_PORT: 0,
      SANDBOX_PORT: 0,
      TICK_CRON: '*/5 * * * *',
      MYFATOORAH_TIMEZONE: 'Asia/Riyadh',
      MYFATOORAH_ACCOUNT_CURRENCY: 'SAR',
      REDIS_CONNECT_TIMEOUT_MS: 10_000,
      LOG_FORMAT: 'auto',
    });
  });
});
