import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { App } from '../app.js';
import { pingDb } from '../db/open.js';
import { redisAnswers } from '../redis.js';
import { registerCallback } from './callback.js';
import { limitRequestBody } from './limits.js';
import { registerWebhooks } from './webhook.js';

export interface HttpServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Extra routes mounted by other concerns (admin, metrics), so this file stays the wiring. */
export type RouteRegistrar = (http: Hono, app: App) => void;

/** What /readyz asks beyond SQLite and Redis. */
export interface ReadinessProbes {
  /** True while this process's queue workers run (the service sets it; absent: not running). */
  workersRunning?: () => boolean;
}

/**
 * The worker's HTTP app: health, tenant callbacks, provider webhooks, plus registered extras. Bodies
 * on callbacks and webhooks are capped at MAX_BODY_BYTES (413 beyond; see limits.ts).
 */
export function createHttpApp(app: App, extras: RouteRegistrar[] = [], probes: ReadinessProbes = {}): Hono {
  const http = new Hono();
  const limit = limitRequestBody(app.config.MAX_BODY_BYTES);
  http.use('/webhooks/*', limit);
  http.use('/callback', limit);
  registerHealthRoutes(http, app, probes);
  registerCallback(http, app);
  registerWebhooks(http, app);
  for (const register of extras) register(http, app);
  http.onError((err, c) => {
    app.logger.error({ err: err.message, path: c.req.path }, 'http handler failed');
    return c.json({ error: 'internal error' }, 500);
  });
  return http;
}

/**
 * `GET /healthz`: SQLite and Redis answer (503 when either does not; never waits on a Redis that is
 * away). `GET /readyz`: 200 only when both answer and the queue workers run; else 503 with the reason.
 */
function registerHealthRoutes(http: Hono, app: App, probes: ReadinessProbes): void {
  const check = async () => ({ sqlite: pingDb(app.db), redis: await redisAnswers(app.connection) });
  http.get('/healthz', async (c) => {
    const { sqlite, redis } = await check();
    return c.json(
      {
        ok: sqlite && redis,
        sqlite: sqlite ? 'ok' : 'down',
        redis: redis ? 'ok' : 'down',
        accounts: app.registry.all().map((p) => ({ name: p.account, provider: p.id, sandbox: p.sandbox })),
      },
      sqlite && redis ? 200 : 503,
    );
  });
  http.get('/readyz', async (c) => {
    const { sqlite, redis } = await check();
    const workers = probes.workersRunning?.() ?? false;
    const reasons = [
      ...(sqlite ? [] : ['SQLite does not answer']),
      ...(redis ? [] : ['Redis does not answer']),
      ...(workers ? [] : ['the queue workers are not running']),
    ];
    const body = {
      ready: reasons.length === 0,
      sqlite: sqlite ? 'ok' : 'down',
      redis: redis ? 'ok' : 'down',
      workers: workers ? 'running' : 'stopped',
    };
    return reasons.length === 0 ? c.json(body, 200) : c.json({ ...body, reason: reasons.join('; ') }, 503);
  });
}

export function listenHttp(http: Hono, port: number, hostname: string): Promise<HttpServer> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: http.fetch, port, hostname, overrideGlobalObjects: false }, () => {
      const address = server.address() as AddressInfo;
      const host = hostname.includes(':') ? `[${hostname}]` : hostname === '0.0.0.0' ? '127.0.0.1' : hostname;
      resolve({
        url: `http://${host}:${address.port}`,
        port: address.port,
        close: () =>
          new Promise<void>((done) => {
            (server as Server).closeAllConnections?.();
            server.close(() => done());
          }),
      });
    }) as Server;
    server.once('error', reject);
  });
}
