import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { ManualClock } from '../src/time/clock.js';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/logger.js';
import { freePort } from '../src/redis.js';
import { startService } from '../src/service.js';

describe('rentlink start', () => {
  it('serves /healthz with SQLite and Redis checked, uses the sandbox without a token, and stops cleanly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rentlink-svc-'));
    const port = await freePort();
    const config = loadConfig({
      DATABASE_PATH: join(dir, 'svc.db'),
      REDIS_URL: inject('redisUrl'),
      QUEUE_PREFIX: 'svc',
      HTTP_PORT: String(port),
    });
    const service = await startService({
      config,
      clock: new ManualClock('2026-11-27T06:00:00Z'),
      logger: silentLogger,
      cron: false,
    });
    try {
      const health = await fetch(`${service.http.url}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ ok: true, sqlite: 'ok', redis: 'ok', provider: 'sandbox' });
      // Without PUBLIC_BASE_URL, sandbox links call back to this server.
      expect(service.app.config.PUBLIC_BASE_URL).toBe(`http://127.0.0.1:${port}`);
    } finally {
      await service.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    await expect(fetch(`${service.http.url}/healthz`)).rejects.toThrow();
    expect(service.app.db.$client.open).toBe(false);
  });

  it('HTTP_PORT=0 listens on a free port, and sandbox callbacks point at that port', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rentlink-svc-'));
    const config = loadConfig({
      DATABASE_PATH: join(dir, 'svc.db'),
      REDIS_URL: inject('redisUrl'),
      QUEUE_PREFIX: 'svc0',
      HTTP_PORT: '0',
    });
    const service = await startService({
      config,
      clock: new ManualClock('2026-11-27T06:00:00Z'),
      logger: silentLogger,
      cron: false,
    });
    try {
      expect(service.http.port).toBeGreaterThan(0);
      expect(service.app.config.PUBLIC_BASE_URL).toBe(`http://127.0.0.1:${service.http.port}`);
    } finally {
      await service.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
