import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startEmbeddedRedis, type RedisHandle } from '../src/redis.js';

/**
 * One real redis-server for the whole run (BullMQ's Lua scripts need the real thing); each test file
 * isolates itself with its own queue prefix. Files get the URL through `inject('redisUrl')`.
 */
let redis: RedisHandle | undefined;
let dir: string | undefined;

export async function setup(project: TestProject): Promise<void> {
  dir = mkdtempSync(join(tmpdir(), 'rentlink-redis-'));
  redis = await startEmbeddedRedis({ dataDir: dir, appendOnly: false });
  project.provide('redisUrl', redis.url);
}

export async function teardown(): Promise<void> {
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}
