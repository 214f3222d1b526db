/**
 * `npm run bench`: rentlink's hot paths at BENCH_LEASES leases (default 100,000), one JSON line per
 * figure, each beside a bare baseline measured in the same run on the same machine. Everything runs
 * locally: a private redis-server, temp SQLite files, the sandbox on loopback; all removed at the end.
 * BENCH_ONLY=tick,pipelines,multi,sandbox,admin runs some phases only (admin needs the tick's data).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedRedis } from '../src/redis.js';
import { benchAdmin } from './admin.js';
import { benchImportAndTick } from './import-tick.js';
import { emit, LEASES, spawnJsonChild } from './lib.js';
import { benchMultiProcess } from './multi.js';
import { benchPipelines } from './pipelines.js';
import { benchSandboxLoad } from './sandbox-load.js';

const ONLY = (process.env['BENCH_ONLY'] ?? '').split(',').filter(Boolean);
const wanted = (phase: string) => ONLY.length === 0 || ONLY.includes(phase);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rentlink-bench-'));
  const redisHandle = await startEmbeddedRedis({ dataDir: join(dir, 'redis'), appendOnly: false });
  const redis = redisHandle.connect();
  const sandbox = spawnJsonChild('child-sandbox.ts', ['{}']);
  const started = performance.now();
  emit({ bench: 'machine', cores: cpus().length, node: process.version, leases: LEASES });
  try {
    const { url: sandboxUrl } = await sandbox.next<{ url: string }>();
    const tickDb = wanted('tick') || wanted('admin') ? await benchImportAndTick(dir, redisHandle.url, redis) : null;
    if (wanted('pipelines')) await benchPipelines(dir, redisHandle.url, sandboxUrl, redis);
    if (wanted('multi')) await benchMultiProcess(dir, redisHandle.url, redis);
    if (wanted('sandbox')) await benchSandboxLoad(dir);
    if (tickDb && wanted('admin')) await benchAdmin(dir, tickDb, redisHandle.url);
  } finally {
    sandbox.send('done');
    await sandbox.exited;
    redis.disconnect();
    await redisHandle.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  emit({ bench: 'total', seconds: Math.round((performance.now() - started) / 1000) });
}

await main();
process.exit(0);
