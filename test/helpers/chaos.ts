import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import type { ManualClock } from '../../src/time/clock.js';

/**
 * The moving parts of the chaos test: a seeded random source, a redis-server the test can kill, worker
 * processes it can kill (real `rentlink start --role worker` processes), and a clock shared with them
 * through a file.
 */

/** mulberry32: small, fast, seeded; enough to make a chaos run replayable from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The test's ManualClock, mirrored into the file the worker processes read their time from. */
export function sharedClock(clock: ManualClock, file: string) {
  const write = () => writeFileSync(file, String(clock.now()));
  write();
  return {
    set(at: number) {
      clock.set(at);
      write();
    },
  };
}

/** A redis-server on a fixed port, without persistence: a kill and restart empties it. */
export class KillableRedis {
  private child: ChildProcess | null = null;

  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    );
    await waitFor(async () => {
      const { Redis } = await import('ioredis');
      const probe = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        return (await probe.ping()) === 'PONG';
      } catch {
        return false;
      } finally {
        probe.disconnect();
      }
    }, 10_000);
  }

  /** SIGKILL: whatever it held is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }
}

/** A `rentlink start --role worker` process that the test kills with SIGKILL and starts again. */
export class WorkerProcess {
  private child: ChildProcess | null = null;
  kills = 0;

  constructor(
    readonly name: string,
    private readonly env: Record<string, string>,
  ) {}

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    this.child = spawn(process.execPath, ['bin/rentlink.js', 'start', '--role', 'worker'], {
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'ignore', 'ignore'],
    });
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    this.kills++;
    await exited;
  }

  /** Waits until its HTTP server answers (it has connected to SQLite and Redis and started its workers). */
  async ready(port: number): Promise<void> {
    await waitFor(async () => {
      try {
        return (await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(500) })).ok;
      } catch {
        return false;
      }
    }, 30_000);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

/** Polls `check` until it is true; fails after `timeoutMs` of real time (waiting on real processes). */
export async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
