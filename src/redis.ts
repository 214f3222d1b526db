import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { RentlinkError } from './errors.js';
import { readMarker, removeMarker, writeMarker } from './markers.js';

/** A Redis connection the whole process shares, plus how to let go of it. */
export interface RedisHandle {
  url: string;
  /** A new client with the options BullMQ workers require. */
  connect(): Redis;
  /** Stops the private redis-server, if this handle started one. */
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
}

/** ioredis options every BullMQ connection needs: workers block, so never give up on a command. */
export function connectRedis(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true });
}

/** Uses REDIS_URL when given, otherwise starts a private redis-server for this process. */
export async function provideRedis(url: string | undefined, embedded: EmbeddedRedisOptions): Promise<RedisHandle> {
  if (url) return { url, connect: () => connectRedis(url), stop: async () => {}, embedded: false };
  return startEmbeddedRedis(embedded);
}

/**
 * Starts `redis-server` on a free loopback port with its data under `dataDir` (AOF on,
 * `noeviction`, so queued jobs are never evicted), and waits until it answers PING.
 */
export async function startEmbeddedRedis(options: EmbeddedRedisOptions): Promise<RedisHandle> {
  const dataDir = resolve(options.dataDir);
  // Another rentlink process (e.g. `start`) may already run the private Redis for this data dir: share
  // it rather than start a second server on the same AOF files. Only the starter stops it.
  const running = await findRunningEmbedded(dataDir);
  if (running) return { url: running, connect: () => connectRedis(running), stop: async () => {}, embedded: true };
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
  const marker = join(dataDir, MARKER_FILE);
  writeMarker(marker, { url, pid: child.pid });
  const stop = async () => {
    removeMarker(marker);
    await stopChild(child);
  };
  return { url, connect: () => connectRedis(url), stop, embedded: true };
}

/** Written next to the AOF while a rentlink process runs the embedded redis-server. */
const MARKER_FILE = 'rentlink-redis.json';

async function findRunningEmbedded(dataDir: string): Promise<string | null> {
  const url = readMarker<{ url: string }>(join(dataDir, MARKER_FILE))?.url;
  if (!url) return null;
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 500,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG' ? url : null;
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
