import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import { createErrorThrottle } from '../src/queue-errors.js';
import { maskRedisUrl, reconnectDelayMs, RECONNECT_MAX_DELAY_MS } from '../src/redis.js';

describe('queue error throttle', () => {
  const setup = () => {
    let now = 0;
    const lines: Array<{ level: number; msg: string; repeated?: number; source: string }> = [];
    const logger = createLogger('debug', { write: (l: string) => void lines.push(JSON.parse(l)) });
    const throttle = createErrorThrottle(logger, { windowMs: 60_000, now: () => now });
    return { lines, throttle, advance: (ms: number) => (now += ms) };
  };

  it('logs the first of a repeated error, counts the repeats, and reports the count after the window', () => {
    const t = setup();
    for (let i = 0; i < 20; i++) {
      t.throttle.report(i % 2 ? 'send worker' : 'status worker', new Error('Missing lock for job 12'));
      t.advance(1_000);
    }
    t.advance(45_000);
    t.throttle.report('send worker', new Error('Missing lock for job 12'));
    expect(t.lines.map((l) => [l.level, l.msg, l.repeated])).toEqual([
      [50, 'queue error', undefined],
      [50, 'queue error (and 19 more like it since the last report)', 19],
    ]);
  });

  it('connection errors (Redis away) go to debug: the outage itself is logged once elsewhere', () => {
    const t = setup();
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });
    for (let i = 0; i < 5; i++) t.throttle.report('send worker', refused);
    expect(t.lines.every((l) => l.level === 20)).toBe(true);
  });
});

describe('redis connection helpers', () => {
  it('masks the password of REDIS_URL, keeps the rest', () => {
    expect(maskRedisUrl('redis://app:s3cret@10.0.0.5:6379/2')).toBe('redis://app:***@10.0.0.5:6379/2');
    expect(maskRedisUrl('rediss://:s3cret@redis.example:6380')).toBe('rediss://:***@redis.example:6380');
    expect(maskRedisUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });

  it('reconnects with exponential backoff from 100 ms, capped, with ±25 % jitter', () => {
    const mid = () => 0.5;
    expect([1, 2, 3, 4, 5, 6, 7, 20].map((n) => reconnectDelayMs(n, mid))).toEqual([
      100, 200, 400, 800, 1600, 3200, 5000, 5000,
    ]);
    expect(reconnectDelayMs(1, () => 0)).toBe(75);
    expect(reconnectDelayMs(30, () => 0.999)).toBe(RECONNECT_MAX_DELAY_MS);
  });
});
