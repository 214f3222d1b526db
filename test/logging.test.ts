import { describe, expect, it } from 'vitest';
import { chooseLogFormat, createLogger, prettyDestination } from '../src/logger.js';
import { createErrorThrottle } from '../src/queue-errors.js';
import { maskRedisUrl, reconnectDelayMs, RECONNECT_MAX_DELAY_MS } from '../src/redis.js';

describe('log format', () => {
  it('auto: pretty on a terminal, JSON otherwise; LOG_FORMAT forces either', () => {
    expect(chooseLogFormat('auto', true)).toBe('pretty');
    expect(chooseLogFormat('auto', false)).toBe('json');
    expect(chooseLogFormat('json', true)).toBe('json');
    expect(chooseLogFormat('pretty', false)).toBe('pretty');
  });

  it('pretty lines are human (level word, UTC time with Z, fields below) and still redact secrets', () => {
    const out: string[] = [];
    const logger = createLogger(
      'info',
      prettyDestination((text) => out.push(text), false),
    );
    logger.info({ chargeId: 12, token: 'sk_live_abc', headers: { authorization: 'Bearer xyz' } }, 'hello there');
    const text = out.join('');
    expect(text).toMatch(/^\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}Z\] INFO: hello there\n/);
    expect(text).toContain('chargeId: 12');
    expect(text).not.toContain('sk_live_abc');
    expect(text).not.toContain('Bearer xyz');
    expect(text).not.toContain('\x1b['); // no colour unless asked (a terminal)
    expect(text).not.toContain('"level"');
  });

  it('JSON lines redact the same secrets', () => {
    const out: string[] = [];
    const logger = createLogger('info', { write: (l: string) => void out.push(l) });
    logger.info({ token: 'sk_live_abc', config: { ADMIN_TOKEN: 'admin-secret-123456' } }, 'x');
    expect(JSON.parse(out[0] ?? '{}')).toMatchObject({ token: '[redacted]', config: { ADMIN_TOKEN: '[redacted]' } });
  });
});

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
