import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { paymenntModule } from '../../src/providers/paymennt/index.js';
import type { PaymenntProvider } from '../../src/providers/paymennt/client.js';
import { paymenntSettingsSchema } from '../../src/providers/paymennt/settings.js';
import type { CallObserver, LinkRequest } from '../../src/providers/types.js';
import { startFakeHost, type FakeHost } from '../../src/sandbox/host.js';
import {
  createPaymenntFake,
  type PaymenntFakeHandle,
  type PaymenntFakeOptions,
} from '../../src/sandbox/paymennt/index.js';
import type { SandboxStore } from '../../src/sandbox/store.js';
import { DAY, ManualClock } from '../../src/time/clock.js';

/** The paymennt fake on a real port, and the production client pointed at it, sharing one ManualClock. */

export const API_KEY = 'pk-test-4f1c';
export const API_SECRET = 'sk-test-9b7e';
export const HMAC_KEY = 'hmac-test-2d5a';
export const START = '2026-11-01T06:00:00Z';

export interface PaymenntRig {
  host: FakeHost;
  fake: PaymenntFakeHandle;
  clock: ManualClock;
  provider: PaymenntProvider;
  baseUrl: string;
  /** Another client on the same fake (e.g. with a wrong key). */
  client(settings?: Record<string, unknown>, timeoutMs?: number): PaymenntProvider;
}

export interface RigOptions {
  fake?: Partial<PaymenntFakeOptions>;
  settings?: Record<string, unknown>;
  timeoutMs?: number;
  store?: SandboxStore;
  observe?: CallObserver;
}

const rigs: FakeHost[] = [];

export async function startPaymennt(options: RigOptions = {}): Promise<PaymenntRig> {
  const clock = new ManualClock(START);
  let fake: PaymenntFakeHandle | undefined;
  const host = await startFakeHost(
    (ctx) => {
      const made = createPaymenntFake({ apiKey: API_KEY, apiSecret: API_SECRET, ...options.fake }, ctx);
      fake = made.handle;
      return [made.fake];
    },
    { clock, ...(options.store ? { store: options.store } : {}) },
  );
  rigs.push(host);
  const baseUrl = `${host.url}/mer/v2.0`;
  const client = (settings: Record<string, unknown> = {}, timeoutMs = 5_000) =>
    paymenntModule.create(
      paymenntSettingsSchema.parse({
        name: 'dubai',
        provider: 'paymennt',
        baseUrl,
        apiKey: API_KEY,
        apiSecret: API_SECRET,
        ...settings,
      }),
      { clock, timeoutMs, sandbox: true, ...(options.observe ? { observe: options.observe } : {}) },
    ) as PaymenntProvider;
  return {
    host,
    fake: fake as PaymenntFakeHandle,
    clock,
    provider: client(options.settings, options.timeoutMs),
    baseUrl,
    client,
  };
}

/** Closes every rig and receiver started by the helpers (call from afterEach). */
export async function closeAll(): Promise<void> {
  await Promise.all(rigs.splice(0).map((host) => host.close()));
  await Promise.all(
    receivers.splice(0).map(
      (server) =>
        new Promise((resolve) => {
          server.closeAllConnections();
          server.close(resolve);
        }),
    ),
  );
}

/** A LinkRequest for a tenant in Dubai; `now` is the clock's instant. */
export function linkRequest(now: number, overrides: Partial<LinkRequest> = {}): LinkRequest {
  return {
    reference: 'rl-c42-a1',
    orderReference: 'rl-c42',
    customer: {
      name: 'Fatma Al Sabah',
      email: 'fatma@example.com',
      mobile: '0501234567',
      mobileCountryCode: '+971',
      language: 'en',
    },
    channel: 'link',
    amountMinor: 125_000,
    currency: 'AED',
    expiresAt: now + 3 * DAY,
    description: 'Rent December 2026 – Unit 12',
    metadata: { charge: '42' },
    ...overrides,
  };
}

export interface ReceivedWebhook {
  headers: Record<string, string>;
  rawBody: string;
}

/** An HTTP endpoint that records webhooks and answers `answers.shift() ?? 200`. */
export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  answers: number[];
}

const receivers: Server[] = [];

export async function startReceiver(): Promise<WebhookReceiver> {
  const receiver: WebhookReceiver = { url: '', received: [], answers: [] };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const headers = Object.fromEntries(
        Object.entries(req.headers).map(([name, value]) => [
          name,
          Array.isArray(value) ? value.join(',') : (value ?? ''),
        ]),
      );
      receiver.received.push({ headers, rawBody: Buffer.concat(chunks).toString('utf8') });
      res.statusCode = receiver.answers.shift() ?? 200;
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receivers.push(server);
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/paymennt`;
  return receiver;
}

/** A SandboxStore that keeps records in memory and counts saves, to test persistence. */
export function recordingStore(): SandboxStore & { saves: number } {
  const records = new Map<string, Map<string, unknown>>();
  const store = {
    saves: 0,
    load: <T>(kind: string) => [...(records.get(kind)?.values() ?? [])].map((value) => structuredClone(value) as T),
    save: (kind: string, id: string, value: unknown) => {
      store.saves++;
      const byId = records.get(kind) ?? new Map<string, unknown>();
      byId.set(id, structuredClone(value));
      records.set(kind, byId);
    },
    close: () => undefined,
  };
  return store;
}
