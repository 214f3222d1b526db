import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';

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
    });
  });
});
