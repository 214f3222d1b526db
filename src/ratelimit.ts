import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * Paces calls to a provider whose real rate limit is unknown (MyFatoorah does not publish it), shared by
 * every process through one Redis hash. AIMD: a 429 multiplies the rate by `decrease` (once per
 * `cutCooldownMs`, so a burst of concurrent 429s is one signal); each success adds
 * `increasePerSecond / rate`, i.e. the rate grows by about `increasePerSecond` per second of success.
 * It never exceeds `maxRate` (the configured ceiling) nor drops below `minRate`. Calls are spaced evenly
 * (1/rate apart), so the steady state sits just under the provider's limit with few 429s.
 * This paces real requests, so it runs on real time (Redis TIME), not the business Clock.
 */
export interface AdaptiveRateLimiter {
  /** Waits for this process's next slot. */
  acquire(): Promise<void>;
  succeeded(): Promise<void>;
  /** A 429/503: cut the rate and hold everyone back for `retryAfterMs` (if given). */
  rateLimited(retryAfterMs: number | null): Promise<void>;
  /** The current shared rate, calls per second. */
  currentRate(): Promise<number>;
}

export interface AdaptiveOptions {
  maxRate: number;
  minRate?: number;
  decrease?: number;
  increasePerSecond?: number;
  cutCooldownMs?: number;
  /** Called with the rate after each change, e.g. for a metrics gauge. */
  onRate?: (rate: number) => void;
}

// KEYS[1] = hash; ARGV: maxRate. Reserves the next slot; returns {waitMs, epoch}.
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local maxRate = tonumber(ARGV[1])
local rate = tonumber(redis.call('HGET', KEYS[1], 'rate')) or maxRate
if rate > maxRate then rate = maxRate end
local nxt = tonumber(redis.call('HGET', KEYS[1], 'next')) or 0
local epoch = tonumber(redis.call('HGET', KEYS[1], 'epoch')) or 0
local slot = math.max(now, nxt)
redis.call('HSET', KEYS[1], 'next', tostring(slot + 1000 / rate), 'rate', tostring(rate))
redis.call('PEXPIRE', KEYS[1], 86400000)
return {slot - now, epoch}
`;

// ARGV: maxRate, increasePerSecond. Additive increase.
const SUCCEEDED = `
local maxRate = tonumber(ARGV[1])
local rate = tonumber(redis.call('HGET', KEYS[1], 'rate')) or maxRate
rate = math.min(maxRate, rate + tonumber(ARGV[2]) / rate)
redis.call('HSET', KEYS[1], 'rate', tostring(rate))
return tostring(rate)
`;

// ARGV: maxRate, minRate, decrease, cooldownMs, retryAfterMs. Multiplicative decrease, once per cooldown.
const RATE_LIMITED = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local maxRate = tonumber(ARGV[1])
local rate = tonumber(redis.call('HGET', KEYS[1], 'rate')) or maxRate
local lastCut = tonumber(redis.call('HGET', KEYS[1], 'lastCut')) or 0
if now - lastCut >= tonumber(ARGV[4]) then
  rate = math.max(tonumber(ARGV[2]), rate * tonumber(ARGV[3]))
  redis.call('HSET', KEYS[1], 'rate', tostring(rate), 'lastCut', tostring(now))
  redis.call('HINCRBY', KEYS[1], 'epoch', 1)
end
local hold = now + tonumber(ARGV[5])
local nxt = tonumber(redis.call('HGET', KEYS[1], 'next')) or 0
if hold > nxt then redis.call('HSET', KEYS[1], 'next', tostring(hold)) end
return tostring(rate)
`;

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');
const SHAS = new Map([ACQUIRE, SUCCEEDED, RATE_LIMITED].map((script) => [script, sha1(script)]));

/**
 * Runs a script by its SHA (EVALSHA), loading it with EVAL only when Redis does not know it (after a
 * restart or a SCRIPT FLUSH). Every status check runs two of these: sending the script text each time
 * was most of the limiter's cost (`npm run bench`).
 */
async function runScript(redis: Redis, script: string, key: string, ...args: Array<string | number>) {
  try {
    return await redis.evalsha(SHAS.get(script) ?? sha1(script), 1, key, ...args);
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
    return redis.eval(script, 1, key, ...args);
  }
}

export class RedisAdaptiveRateLimiter implements AdaptiveRateLimiter {
  private readonly opts: Required<Omit<AdaptiveOptions, 'onRate'>> & Pick<AdaptiveOptions, 'onRate'>;

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    options: AdaptiveOptions,
  ) {
    this.opts = {
      // Measured against a 2/s provider (test/rate-limit.test.ts): halving left the pace well under the
      // limit for ~8 s after every 429 (1.60/s); ×0.7 with +0.05/s per second holds ~1.9/s with ~4 % 429s.
      minRate: 0.1,
      decrease: 0.7,
      increasePerSecond: 0.05,
      cutCooldownMs: 1000,
      ...options,
    };
  }

  async acquire(): Promise<void> {
    // A rate cut while we slept invalidates the reserved slot: reserve again at the new pace.
    for (let tries = 0; tries < 10; tries++) {
      const [wait, epoch] = (await runScript(this.redis, ACQUIRE, this.key, this.opts.maxRate)) as [number, number];
      if (wait <= 0) return;
      await new Promise((r) => setTimeout(r, wait));
      const now = Number((await this.redis.hget(this.key, 'epoch')) ?? 0);
      if (now === epoch) return;
    }
  }

  async succeeded(): Promise<void> {
    const rate = await runScript(this.redis, SUCCEEDED, this.key, this.opts.maxRate, this.opts.increasePerSecond);
    this.opts.onRate?.(Number(rate));
  }

  async rateLimited(retryAfterMs: number | null): Promise<void> {
    const o = this.opts;
    const rate = await runScript(
      this.redis,
      RATE_LIMITED,
      this.key,
      o.maxRate,
      o.minRate,
      o.decrease,
      o.cutCooldownMs,
      retryAfterMs ?? 0,
    );
    this.opts.onRate?.(Number(rate));
  }

  async currentRate(): Promise<number> {
    return Number((await this.redis.hget(this.key, 'rate')) ?? this.opts.maxRate);
  }
}
