import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { ManualClock } from '../src/time/clock.js';
import { loadConfig } from '../src/config.js';
import { createLogger, silentLogger } from '../src/logger.js';
import { freePort, startEmbeddedRedis } from '../src/redis.js';
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
      expect(await health.json()).toMatchObject({ ok: true, sqlite: 'ok', redis: 'ok' });
      // Without credentials every account is the built-in sandbox.
      expect(service.app.registry.all().every((p) => p.sandbox)).toBe(true);
      // Ready once the workers' own connections are up, a moment after start.
      const readyz = () =>
        fetch(`${service.http.url}/readyz`).then(async (r) => ({ status: r.status, body: await r.json() }));
      await expect
        .poll(readyz, { timeout: 10_000, interval: 50 })
        .toEqual({ status: 200, body: { ready: true, sqlite: 'ok', redis: 'ok', workers: 'running' } });
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

  it('a Redis outage: /healthz and /readyz answer 503 at once, one warning, one info when back, no crash', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rentlink-outage-'));
    // A private redis-server for this test only: the run's shared one must keep running.
    let redis = await startEmbeddedRedis({ dataDir: join(dir, 'redis'), appendOnly: false });
    const redisPort = Number(new URL(redis.url).port);
    const lines: Array<{ level: number; msg: string }> = [];
    const logger = createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line)) });
    const config = loadConfig({
      DATABASE_PATH: join(dir, 'svc.db'),
      REDIS_URL: redis.url,
      QUEUE_PREFIX: 'outage',
      HTTP_PORT: '0',
      // BullMQ workers closed just as their connections come back can hang; the forced close bounds it.
      SHUTDOWN_TIMEOUT_MS: '1000',
    });
    const service = await startService({ config, clock: new ManualClock('2026-11-27T06:00:00Z'), logger, cron: false });
    const get = (path: string) =>
      fetch(`${service.http.url}${path}`, { signal: AbortSignal.timeout(5_000) }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as Record<string, unknown>,
      }));
    try {
      // Ready once the workers' own connections are up, a moment after start.
      await expect.poll(async () => (await get('/readyz')).status, { timeout: 10_000, interval: 50 }).toBe(200);
      await redis.stop();
      await expect.poll(() => lines.filter((l) => /Redis went away/.test(l.msg)).length).toBe(1);
      const ready = await get('/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body).toMatchObject({ ready: false, redis: 'down', sqlite: 'ok' });
      expect(ready.body['reason']).toMatch(/^Redis does not answer/);
      const health = await get('/healthz');
      expect(health).toMatchObject({ status: 503, body: { ok: false, redis: 'down' } });

      redis = await startEmbeddedRedis({ dataDir: join(dir, 'redis'), appendOnly: false, port: redisPort });
      await expect.poll(async () => (await get('/readyz')).status, { timeout: 15_000, interval: 100 }).toBe(200);
      expect(lines.filter((l) => /Redis went away/.test(l.msg))).toHaveLength(1);
      expect(lines.filter((l) => l.msg === 'Redis is back')).toHaveLength(1);
      // Reconnect attempts and the workers' connection errors are not logged one by one.
      expect(lines.filter((l) => l.level >= 50)).toEqual([]);
    } finally {
      await service.stop();
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
