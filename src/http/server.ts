import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { App } from '../app.js';
import { pingDb } from '../db/open.js';
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

/**
 * The worker's HTTP app: health, tenant callbacks, provider webhooks, plus registered extras. Bodies
 * on callbacks and webhooks are capped at MAX_BODY_BYTES (413 beyond; see limits.ts).
 */
export function createHttpApp(app: App, extras: RouteRegistrar[] = []): Hono {
  const http = new Hono();
  const limit = limitRequestBody(app.config.MAX_BODY_BYTES);
  http.use('/webhooks/*', limit);
  http.use('/callback', limit);
  http.get('/healthz', async (c) => {
    const sqlite = pingDb(app.db);
    const redis = await app.connection.ping().then(
      (r) => r === 'PONG',
      () => false,
    );
    return c.json(
      {
        ok: sqlite && redis,
        sqlite: sqlite ? 'ok' : 'down',
        redis: redis ? 'ok' : 'down',
        accounts: app.registry.all().map((p) => p.account),
      },
      sqlite && redis ? 200 : 503,
    );
  });
  registerCallback(http, app);
  registerWebhooks(http, app);
  for (const register of extras) register(http, app);
  http.onError((err, c) => {
    app.logger.error({ err: err.message, path: c.req.path }, 'http handler failed');
    return c.json({ error: 'internal error' }, 500);
  });
  return http;
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
