import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { freePort } from '../src/redis.js';

/**
 * A second `start` on the same data must not share the first one's private services (its embedded
 * redis-server, its in-process sandbox): it refuses at once. Real processes, real markers.
 */

const root = mkdtempSync(join(tmpdir(), 'rentlink-single-'));
const started: ChildProcess[] = [];
afterEach(async () => {
  for (const child of started.splice(0)) await stop(child, 'SIGKILL');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function envFor(dir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env['PATH'] ?? '',
    DATABASE_PATH: join(dir, 'data', 'rentlink.db'),
    REDIS_DATA_DIR: join(dir, 'data', 'redis'),
    QUEUE_PREFIX: `single${process.pid}`,
    HTTP_PORT: '0',
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
    SHUTDOWN_TIMEOUT_MS: '2000',
    ...extra,
  };
}

/** Spawns `rentlink start` and resolves once it runs (its signal handlers are in place). */
async function startService(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['bin/rentlink.js', 'start'], { env });
  started.push(child);
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`start did not come up:\n${stderr}`)), 30_000);
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes('rentlink is running')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`start exited with ${code}:\n${stderr}`)));
  });
  return child;
}

async function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill(signal);
  return exited;
}

function rentlink(args: string[], env: Record<string, string>) {
  const started = performance.now();
  const result = spawnSync(process.execPath, ['bin/rentlink.js', ...args], { env, encoding: 'utf8', timeout: 30_000 });
  return { code: result.status, stderr: result.stderr, stdout: result.stdout, ms: performance.now() - started };
}

/** True while a process with this pid exists. */
function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A pid that surely belongs to no process now. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describe('a second start on the same database', () => {
  it('refuses at once while the first runs the private Redis; short commands still share it; works once the first stopped', async () => {
    const dir = join(root, 'private');
    const env = envFor(dir);
    const first = await startService(env);

    const second = rentlink(['start'], env);
    expect(second.code).toBe(1);
    expect(second.ms).toBeLessThan(15_000);
    expect(second.stderr).toContain(`pid ${first.pid}`);
    expect(second.stderr).toContain(join(dir, 'data', 'redis'));
    expect(second.stderr).toMatch(/private redis-server/);
    expect(second.stderr).toMatch(/stop it first.*set REDIS_URL.*MYFATOORAH_TOKEN/);
    expect(second.stderr).toContain('[CONFLICT]');
    expect(second.stderr).not.toContain('http server listening');

    // A short-lived command talks to the running service through its private Redis.
    const jobs = rentlink(['jobs', 'failed', '--format', 'json'], env);
    expect(jobs.code).toBe(0);
    expect(JSON.parse(jobs.stdout)).toEqual([]);

    expect(await stop(first)).toBe(0);
    const again = await startService(env);
    expect(await stop(again)).toBe(0);
  });

  it('refuses to share the first one’s in-process sandbox, even with a shared REDIS_URL', async () => {
    const dir = join(root, 'sandbox');
    const env = envFor(dir, { REDIS_URL: inject('redisUrl') });
    const first = await startService(env);
    const second = rentlink(['start'], env);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`pid ${first.pid}`);
    expect(second.stderr).toMatch(/built-in sandbox provider for data directory .*sandbox[/\\]data/);
    expect(await stop(first)).toBe(0);
  });

  it('takes over stale markers silently: a dead owner and a server that does not answer', async () => {
    const dir = join(root, 'stale');
    const env = envFor(dir);
    mkdirSync(join(dir, 'data', 'redis'), { recursive: true });
    const closed = await freePort();
    const owner = { ownerPid: deadPid(), ownerStartedAt: '2026-01-01T00:00:00.000Z' };
    writeFileSync(
      join(dir, 'data', 'redis', 'rentlink-redis.json'),
      JSON.stringify({ url: `redis://127.0.0.1:${closed}`, ...owner }),
    );
    writeFileSync(
      join(dir, 'data', 'sandbox.json'),
      JSON.stringify({ url: `http://127.0.0.1:${closed}`, port: closed, ...owner }),
    );
    const service = await startService(env);
    const marker = JSON.parse(readFileSync(join(dir, 'data', 'redis', 'rentlink-redis.json'), 'utf8')) as {
      ownerPid: number;
    };
    expect(marker.ownerPid).toBe(service.pid);
    expect(await stop(service)).toBe(0);
  });

  it('takes over the redis-server a killed start left running, and stops it on the way out', async () => {
    const dir = join(root, 'orphan');
    const env = envFor(dir);
    const markerPath = join(dir, 'data', 'redis', 'rentlink-redis.json');
    const killed = await startService(env);
    await stop(killed, 'SIGKILL');
    const orphan = JSON.parse(readFileSync(markerPath, 'utf8')) as { pid: number; url: string };
    expect(isProcessAlive(orphan.pid)).toBe(true);

    const service = await startService(env);
    const marker = JSON.parse(readFileSync(markerPath, 'utf8')) as { pid: number; url: string; ownerPid: number };
    expect(marker).toMatchObject({ pid: orphan.pid, url: orphan.url, ownerPid: service.pid });
    expect(await stop(service)).toBe(0);
    await expect.poll(() => isProcessAlive(orphan.pid), { timeout: 10_000 }).toBe(false);
  });
});
