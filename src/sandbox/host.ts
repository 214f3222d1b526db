import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve, type HttpBindings } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import type { ProviderId } from '../providers/types.js';
import { systemClock, type Clock } from '../time/clock.js';
import { memoryStore, type SandboxStore } from './store.js';

/**
 * One HTTP server for the built-in fakes of the providers' APIs. Their paths do not collide
 * (MyFatoorah `/v2/…`, APS `/FortAPI/…`, paymennt `/mer/v2.0/…`; pay pages under `/<provider>/…`), so
 * every account that points at the sandbox shares one port. Dev and test only: never on the production
 * path, loaded with a dynamic import when an account points at the sandbox.
 */

export type SandboxEnv = { Bindings: HttpBindings };

/** The subset of pino the sandbox uses. */
export interface SandboxLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** What every fake gets from the host. */
export interface FakeContext {
  /** Source of all business times (creation, expiry, payment dates). Rate limits and holds use real time. */
  clock: Clock;
  /** The host's public base URL (pay pages are built on it); known once the server listens. */
  publicBaseUrl(): string;
  store: SandboxStore;
  logger?: SandboxLogger;
}

/** One provider's fake API, mounted on the host. */
export interface ProviderFake {
  readonly provider: ProviderId;
  register(app: Hono<SandboxEnv>): void;
  /** Ends held requests and pending webhook deliveries. */
  close(): Promise<void>;
}

export interface FakeHostOptions {
  port?: number;
  host?: string;
  clock?: Clock;
  store?: SandboxStore;
  logger?: SandboxLogger;
  /** Base of pay-page URLs; default the listening URL. */
  publicBaseUrl?: string;
}

export interface FakeHost {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Starts the server with the fakes `build` returns (built with the host's context). */
export async function startFakeHost<F extends ProviderFake[]>(
  build: (ctx: FakeContext) => F,
  options: FakeHostOptions = {},
): Promise<FakeHost & { fakes: F }> {
  let base = '';
  const store = options.store ?? memoryStore();
  const ctx: FakeContext = {
    clock: options.clock ?? systemClock,
    publicBaseUrl: () => base,
    store,
    ...(options.logger ? { logger: options.logger } : {}),
  };
  const fakes = build(ctx);
  const app = new Hono<SandboxEnv>();
  app.get('/_sandbox/health', (c) => c.json({ ok: true, providers: fakes.map((f) => f.provider) }));
  for (const fake of fakes) fake.register(app);
  app.notFound((c) => c.json({ error: `the sandbox has no route for ${c.req.method} ${c.req.path}` }, 404));
  const hostname = options.host ?? '127.0.0.1';
  const server = await listen(app, options.port ?? 0, hostname);
  const { port } = server.address() as AddressInfo;
  const url = `http://${hostname.includes(':') ? `[${hostname}]` : hostname}:${port}`;
  base = (options.publicBaseUrl ?? url).replace(/\/+$/, '');
  let closing: Promise<void> | null = null;
  const close = async () => {
    await Promise.all(fakes.map((f) => f.close()));
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
    store.close();
  };
  return { url, port, fakes, close: () => (closing ??= close()) };
}

function listen(app: Hono<SandboxEnv>, port: number, hostname: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    // overrideGlobalObjects: false keeps the process's global Request/Response untouched (tests share it).
    const server = serve({ fetch: app.fetch, port, hostname, overrideGlobalObjects: false }, () =>
      resolve(server as Server),
    );
    server.once('error', reject);
  });
}

/**
 * "The provider did the work but the answer never left": destroys the socket without a response and
 * tells @hono/node-server not to write anything (a fresh header object: the library's is mutable).
 */
export function dropConnection(c: Context<SandboxEnv>): Response {
  c.env.incoming.socket.destroy();
  return new Response(null, { headers: { 'x-hono-already-sent': 'true' } });
}
