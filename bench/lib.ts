import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { loadConfig, type Config } from '../src/config.js';

/**
 * What the bench modules share: the JSON-line output, lease files, the worker configuration, and child
 * processes that answer in JSON lines (the tick and the worker processes run apart from the bench, so
 * their peak memory and their CPU are theirs alone).
 */

/** Bench settings: the bench may read BENCH_* itself (src/config.ts reads everything else). */
export const LEASES = Number(process.env['BENCH_LEASES'] ?? 100_000);
export const LINKS = Number(process.env['BENCH_LINKS'] ?? 3000);
/** The first tick of the month: every lease is due on the 1st with 5 to 7 lead days, so all are due now. */
export const NOW = '2026-11-27T06:00:00Z';

export function emit(figure: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(figure)}\n`);
}

export const perSecond = (n: number, ms: number) => Number(((n * 1000) / Math.max(ms, 0.001)).toFixed(1));
export const round = (value: number, digits = 0) => Number(value.toFixed(digits));
export const ratio = (ours: number, bare: number) => round(ours / Math.max(bare, 1e-9), 2);

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0, 2);
}

export const CSV_HEADER =
  'lease_ref,tenant_name,email,mobile,mobile_country_code,language,unit,amount,currency,due_day,lead_days,valid_days,timezone,channel,starts_on,ends_on,max_reissues';

/** `count` leases, all due on 1 December 2026 (so all due at NOW), KWD in Asia/Kuwait, link only. */
export function leaseCsv(count: number, prefix = 'B'): string {
  const rows = Array.from(
    { length: count },
    (_, i) =>
      `${prefix}-${i},Tenant ${i},t${i}@example.com,5${String(1000000 + (i % 9_000_000)).padStart(7, '0')},+965,en,Unit ${i},${250 + (i % 50)}.500,KWD,1,${5 + (i % 3)},10,Asia/Kuwait,LNK,2026-12-01,,2`,
  );
  return [CSV_HEADER, ...rows].join('\n');
}

export interface WorkerSettings {
  dir: string;
  db: string;
  redisUrl: string;
  sandboxUrl: string;
  prefix: string;
  extra?: Record<string, string>;
}

/** The worker's environment for a bench phase: its own queue prefix, no rate limit unless asked. */
export function workerEnv(s: WorkerSettings): Record<string, string> {
  return {
    DATABASE_PATH: s.db,
    REDIS_URL: s.redisUrl,
    QUEUE_PREFIX: s.prefix,
    MYFATOORAH_TOKEN: 'sandbox-token',
    MYFATOORAH_BASE_URL: s.sandboxUrl,
    SEND_CONCURRENCY: '8',
    STATUS_CONCURRENCY: '8',
    STATUS_RATE_LIMIT_PER_SECOND: '100000',
    POLL_JITTER: '0',
    LOG_LEVEL: 'warn',
    ...s.extra,
  };
}

export function workerConfig(s: WorkerSettings): Config {
  return loadConfig(workerEnv(s));
}

/** A child process that prints JSON lines: `next()` waits for the next one. */
export interface JsonChild {
  process: ChildProcess;
  next<T = Record<string, unknown>>(): Promise<T>;
  send(line: string): void;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/** Extra node flags for every bench child, e.g. `BENCH_CHILD_FLAGS=--cpu-prof` to profile them. */
const CHILD_FLAGS = (process.env['BENCH_CHILD_FLAGS'] ?? '').split(' ').filter(Boolean);

/** Runs `bench/<script>` under tsx with `args` and `env` (added to this environment). */
export function spawnJsonChild(script: string, args: string[], env: Record<string, string> = {}): JsonChild {
  const child = spawn(process.execPath, [...CHILD_FLAGS, '--import', 'tsx', `bench/${script}`, ...args], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const waiters: Array<(line: string | null) => void> = [];
  const reader = createInterface({ input: child.stdout! });
  reader.on('line', (line) => {
    const waiter = waiters.shift();
    if (waiter) waiter(line);
    else lines.push(line);
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  void exited.then(() => {
    for (const waiter of waiters.splice(0)) waiter(null);
  });
  return {
    process: child,
    exited,
    send: (line) => void child.stdin!.write(`${line}\n`),
    next: async <T>() => {
      const line = lines.shift() ?? (await new Promise<string | null>((resolve) => waiters.push(resolve)));
      if (line === null) throw new Error(`bench/${script} exited before answering`);
      return JSON.parse(line) as T;
    },
  };
}

/** Reads JSON-line commands from stdin: what a bench child does between answers. */
export function commands(): AsyncIterable<string> {
  return createInterface({ input: process.stdin });
}

/** This process's peak resident set so far, in MB (the kernel's own count: nothing is missed between samples). */
export function maxRssMb(): number {
  return round(process.resourceUsage().maxRSS / 1024);
}
