import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { errorMessage, RentlinkError } from './errors.js';
import type { Logger } from './logger.js';
import {
  currentOwner,
  ownedByAnotherLiveProcess,
  readMarker,
  removeMarker,
  sharedServiceConflict,
  writeMarker,
  type MarkerOwner,
} from './markers.js';

/** A Redis connection the whole process shares, plus how to let go of it. */
export interface RedisHandle {
  url: string;
  /** A new client with the options BullMQ workers require. */
  connect(): Redis;
  /** Stops the private redis-server, if this handle started (or took over) one. */
  stop(): Promise<void>;
  embedded: boolean;
}

export interface EmbeddedRedisOptions {
  /** Directory for the AOF and dump files. */
  dataDir: string;
  /** Loopback port; 0 picks a free one. */
  port?: number;
  /** Write an append-only file (what production should do; tests may turn it off for speed). */
  appendOnly?: boolean;
  /**
   * For `start`: refuse to share a private redis-server that another live rentlink process runs for
   * this data directory (when that one stops, this one would lose its queues). Short-lived commands
   * share it: that is how `tick`, `jobs …` and `charges …` reach a running service.
   */
  exclusive?: boolean;
}

export interface ProvideRedisOptions extends EmbeddedRedisOptions {
  /** How long to try reaching REDIS_URL before giving up (REDIS_CONNECT_TIMEOUT_MS). */
  connectTimeoutMs?: number;
}

/** Longest pause between two reconnect attempts once Redis went away. */
export const RECONNECT_MAX_DELAY_MS = 5_000;

/**
 * The pause before reconnect attempt `attempt` (1, 2, …): exponential from 100 ms, capped at
 * RECONNECT_MAX_DELAY_MS, with ±25 % jitter so many processes do not reconnect in step.
 */
export function reconnectDelayMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(RECONNECT_MAX_DELAY_MS, 100 * 2 ** Math.min(Math.max(attempt, 1) - 1, 16));
  return Math.min(RECONNECT_MAX_DELAY_MS, Math.round(base * (0.75 + random() * 0.5)));
}

/**
 * A client with the options every BullMQ connection needs (workers block, so never give up on a
 * command) that reconnects quietly with capped backoff. Connection errors are expected during an
 * outage and reported once by `watchRedis`; without a listener ioredis would print every failed
 * reconnect with a stack trace.
 */
export function connectRedis(url: string): Redis {
  const client = new Redis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (attempt) => reconnectDelayMs(attempt),
  });
  client.on('error', () => {});
  return client;
}

/**
 * Uses REDIS_URL when given (once it answers, within `connectTimeoutMs`), otherwise starts a private
 * redis-server for this data directory, or shares the one another rentlink process runs.
 */
export async function provideRedis(url: string | undefined, options: ProvideRedisOptions): Promise<RedisHandle> {
  if (!url) return startEmbeddedRedis(options);
  await waitUntilReachable(url, options.connectTimeoutMs ?? 10_000);
  return { url, connect: () => connectRedis(url), stop: async () => {}, embedded: false };
}

/**
 * Resolves once Redis at `url` answers PING; tries again with backoff until `timeoutMs` has passed,
 * then throws REDIS_UNAVAILABLE: one line naming REDIS_URL (password masked) and the last reason. A
 * server that answers with an error (wrong password, …) fails at once.
 */
async function waitUntilReachable(url: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown = new Error('no attempt was made');
  for (let attempt = 1; ; attempt++) {
    const remaining = deadline - performance.now();
    if (remaining <= 0) break;
    try {
      await pingOnce(url, Math.max(50, Math.min(remaining, 2_000)));
      return;
    } catch (err) {
      if (err instanceof Error && err.name === 'ReplyError') {
        const refused = `Redis at REDIS_URL=${maskRedisUrl(url)} refused: ${oneLine(err)}`;
        throw new RentlinkError('REDIS_UNAVAILABLE', refused, { cause: err });
      }
      lastError = err;
    }
    await delay(Math.min(reconnectDelayMs(attempt), Math.max(0, deadline - performance.now())));
  }
  throw new RentlinkError(
    'REDIS_UNAVAILABLE',
    `cannot reach Redis at REDIS_URL=${maskRedisUrl(url)} within ${formatSeconds(timeoutMs)} (REDIS_CONNECT_TIMEOUT_MS): ${oneLine(lastError).replace(/\.$/, '')}. Start Redis, fix REDIS_URL, or unset it to use a private redis-server.`,
    { cause: lastError },
  );
}

async function pingOnce(url: string, timeoutMs: number): Promise<void> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // connect() rejects with a bare "Connection is closed."; the socket's own error says why.
  let socketError: Error | null = null;
  client.on('error', (err: Error) => (socketError ??= err));
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([client.connect().then(() => client.ping()), timedOut]);
  } catch (err) {
    throw err instanceof Error && err.name === 'ReplyError' ? err : (socketError ?? err);
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}

/** The URL with its password replaced by `***`, for messages and logs. */
export function maskRedisUrl(url: string): string {
  if (!URL.canParse(url)) return url.startsWith('/') ? url : '(unparseable URL)';
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

/** True when `client` is connected and answers PING within `timeoutMs` (for /healthz and /readyz). */
export async function redisAnswers(client: Redis, timeoutMs = 1_000): Promise<boolean> {
  if (client.status !== 'ready') return false;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([
      client.ping().then(
        (r) => r === 'PONG',
        () => false,
      ),
      timedOut,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Logs an outage of `client` once: one warning when it starts reconnecting, one info when it is
 * ready again (with how long it was away), however many attempts and connections there are. Watch
 * one connection per process (the shared one); the others reconnect just as quietly.
 */
export function watchRedis(client: Redis, logger: Logger, now: () => number = () => performance.now()): void {
  let downSince: number | null = null;
  let lastError: string | null = null;
  const url = maskRedisUrl(redisUrlOf(client));
  client.on('error', (err: Error) => (lastError = oneLine(err)));
  client.on('reconnecting', () => {
    if (downSince !== null) return;
    downSince = now();
    logger.warn(
      { redis: url, reason: lastError ?? 'connection closed' },
      'Redis went away: reconnecting quietly in the background (queued work waits; /readyz answers 503)',
    );
  });
  client.on('ready', () => {
    if (downSince === null) return;
    const awayMs = Math.round(now() - downSince);
    downSince = null;
    lastError = null;
    logger.info({ redis: url, awayMs }, 'Redis is back');
  });
}

function redisUrlOf(client: Redis): string {
  const { host, port, path, tls } = client.options;
  return path ? path : `${tls ? 'rediss' : 'redis'}://${host ?? '127.0.0.1'}:${port ?? 6379}`;
}

/** An error's message on one line (ioredis and BullMQ messages may span several). */
export function oneLine(err: unknown): string {
  return errorMessage(err).replace(/\s+/g, ' ').trim();
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Starts `redis-server` on a free loopback port with its data under `dataDir` (AOF on,
 * `noeviction`, so queued jobs are never evicted), and waits until it answers PING. When another
 * rentlink process already runs one for `dataDir`, shares it (or, `exclusive`, refuses); one whose
 * owner is gone is taken over.
 */
export async function startEmbeddedRedis(options: EmbeddedRedisOptions): Promise<RedisHandle> {
  const dataDir = resolve(options.dataDir);
  const marker = join(dataDir, MARKER_FILE);
  const running = await findRunningEmbedded(dataDir);
  if (running) return shareOrTakeOver(running, marker, dataDir, options.exclusive === true);
  assertRedisServerInstalled();
  mkdirSync(dataDir, { recursive: true });
  const port = options.port || (await freePort());
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dataDir,
    '--appendonly',
    options.appendOnly === false ? 'no' : 'yes',
    '--appendfsync',
    'everysec',
    '--maxmemory-policy',
    'noeviction',
    '--save',
    '',
    '--daemonize',
    'no',
    '--protected-mode',
    'yes',
  ];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const url = `redis://127.0.0.1:${port}`;
  await waitForPing(url, child, () => stderr);
  writeMarker(marker, { url, pid: child.pid, ...currentOwner() } satisfies RedisMarker);
  const stop = async () => {
    removeMarker(marker);
    await stopChild(child);
  };
  return { url, connect: () => connectRedis(url), stop, embedded: true };
}

/** Written next to the AOF while a rentlink process runs the embedded redis-server. */
const MARKER_FILE = 'rentlink-redis.json';

interface RedisMarker extends Partial<MarkerOwner> {
  url: string;
  /** The redis-server's own pid. */
  pid?: number;
}

/**
 * A running server found through the marker: shared while its owner lives (a `start` refuses
 * instead), taken over by a `start` when its owner is gone (e.g. killed with SIGKILL, which leaves
 * redis-server running): the marker then names this process, which shuts the server down on stop.
 */
function shareOrTakeOver(running: RedisMarker, markerPath: string, dataDir: string, exclusive: boolean): RedisHandle {
  const url = running.url;
  const shared: RedisHandle = { url, connect: () => connectRedis(url), stop: async () => {}, embedded: true };
  if (ownedByAnotherLiveProcess(running)) {
    if (exclusive) throw sharedServiceConflict('private redis-server', dataDir, running);
    return shared;
  }
  if (!exclusive) return shared;
  writeMarker(markerPath, { ...running, ...currentOwner() } satisfies RedisMarker);
  const stop = async () => {
    removeMarker(markerPath);
    await shutdownServer(url);
  };
  return { ...shared, stop };
}

async function shutdownServer(url: string): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.shutdown();
  } catch {
    // SHUTDOWN closes the connection before any reply: a rejected promise is the normal outcome.
  } finally {
    client.disconnect();
  }
}

/** The marker of a redis-server that answers and really serves `dataDir`; null when stale. */
async function findRunningEmbedded(dataDir: string): Promise<RedisMarker | null> {
  const marker = readMarker<RedisMarker>(join(dataDir, MARKER_FILE));
  if (!marker?.url) return null;
  const client = new Redis(marker.url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 500,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    const [, dir] = (await client.config('GET', 'dir')) as [string, string];
    return resolve(dir) === dataDir ? marker : null;
  } catch {
    return null;
  } finally {
    client.disconnect();
  }
}

function assertRedisServerInstalled(): void {
  const probe = spawnSync('redis-server', ['--version'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) {
    throw new RentlinkError(
      'REDIS_UNAVAILABLE',
      'redis-server was not found. Install it (Debian/Ubuntu: `sudo apt-get install -y redis-server`, macOS: `brew install redis`) or set REDIS_URL to an existing Redis.',
      { cause: probe.error },
    );
  }
}

async function waitForPing(url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    for (let i = 0; i < 100; i++) {
      if (child.exitCode !== null) {
        throw new RentlinkError(
          'REDIS_UNAVAILABLE',
          `redis-server exited with code ${child.exitCode}: ${stderr().trim()}`,
        );
      }
      try {
        await client.connect();
        if ((await client.ping()) === 'PONG') return;
      } catch {
        client.disconnect();
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    child.kill('SIGKILL');
    throw new RentlinkError('REDIS_UNAVAILABLE', `redis-server did not answer on ${url} within 5 s`);
  } finally {
    client.disconnect();
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** Asks the OS for a free loopback port. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}
