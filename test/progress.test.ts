import { describe, expect, it } from 'vitest';
import {
  createProgressReporter,
  formatDuration,
  formatProgress,
  progressPace,
  remainingJobs,
  StatusLine,
  type ProgressCounts,
} from '../src/cli/progress.js';
import { createLogger } from '../src/logger.js';
import type { QueueCounts } from '../src/runtime.js';

const counts = (over: Partial<ProgressCounts> = {}): ProgressCounts => ({
  linksCreated: 0,
  linksAdopted: 0,
  failures: 0,
  checksDone: 0,
  remaining: 0,
  ...over,
});

const queues = (send: Record<string, number>, status: Record<string, number> = {}): QueueCounts => ({ send, status });

describe('progress line', () => {
  it('counts, rate per second and ETA from the remaining queue', () => {
    // 1,000 jobs done in 25 s = 40/s; 4,000 left at 40/s = 100 s.
    const line = formatProgress(
      counts({ linksCreated: 960, linksAdopted: 5, failures: 3, checksDone: 32, remaining: 4_000 }),
      25_000,
    );
    expect(line).toBe('links 960 created, 5 adopted · 3 failed · 32 checks · 40.0/s · 4,000 queued · ETA 1m 40s');
  });

  it('has no ETA before anything finished, and 0s once nothing is left', () => {
    expect(progressPace(counts({ remaining: 5_000 }), 2_000)).toEqual({ perSecond: 0, etaMs: null });
    expect(formatProgress(counts({ remaining: 5_000 }), 2_000)).toMatch(/ETA —$/);
    expect(progressPace(counts({ linksCreated: 10 }), 0)).toEqual({ perSecond: 0, etaMs: 0 });
    expect(progressPace(counts({ linksCreated: 5_000, remaining: 0 }), 100_000).etaMs).toBe(0);
  });

  it('ETA math: remaining / (done / elapsed)', () => {
    expect(progressPace(counts({ checksDone: 300, remaining: 150 }), 60_000)).toEqual({ perSecond: 5, etaMs: 30_000 });
    expect(progressPace(counts({ linksCreated: 1, remaining: 3 }), 3_000).etaMs).toBe(9_000);
  });

  it('durations read like a person would say them', () => {
    expect(formatDuration(4_400)).toBe('4s');
    expect(formatDuration(95_000)).toBe('1m 35s');
    expect(formatDuration(7_380_000)).toBe('2h 03m');
  });

  it('remaining jobs: waiting, active, delayed, prioritized over both queues; finished ones do not count', () => {
    expect(
      remainingJobs(
        queues({ waiting: 3, active: 2, completed: 100, failed: 4 }, { delayed: 10, prioritized: 1, completed: 7 }),
      ),
    ).toBe(16);
  });
});

/** A reporter with a fake clock, a fake terminal and a logger whose lines we keep. */
function reporter(terminal: boolean) {
  let now = 0;
  const screen: string[] = [];
  const logs: Array<{ msg: string; progress?: ProgressCounts }> = [];
  let done = 0;
  const progress = createProgressReporter({
    terminal,
    line: new StatusLine({ write: (text: string) => screen.push(text) }),
    logger: createLogger('info', { write: (l: string) => void logs.push(JSON.parse(l)) }),
    now: () => now,
    read: (q) => counts({ linksCreated: done, remaining: remainingJobs(q) }),
  });
  return {
    progress,
    screen,
    logs,
    /** Moves the fake clock and the work, then polls once (as waitUntilIdle does every 100 ms). */
    poll(ms: number, linksDone: number, waiting: number) {
      now += ms;
      done = linksDone;
      progress.onQueueCounts(queues({ waiting }));
    },
  };
}

describe('progress reporter', () => {
  it('not on a terminal: one log line every 10 s, whatever the poll rate', () => {
    const r = reporter(false);
    for (let i = 1; i <= 350; i++) r.poll(100, i * 10, 5_000 - i * 10); // 35 s of polls every 100 ms
    expect(r.logs.map((l) => l.msg)).toEqual([
      'links 1,000 created · 0 failed · 0 checks · 100.0/s · 4,000 queued · ETA 40s',
      'links 2,000 created · 0 failed · 0 checks · 100.0/s · 3,000 queued · ETA 30s',
      'links 3,000 created · 0 failed · 0 checks · 100.0/s · 2,000 queued · ETA 20s',
    ]);
    expect(r.logs[0]?.progress).toMatchObject({ linksCreated: 1_000, remaining: 4_000 });
    expect(r.screen).toEqual([]);
  });

  it('on a terminal: redraws one line in place (at most every 250 ms), cleared at the end', () => {
    const r = reporter(true);
    for (let i = 1; i <= 10; i++) r.poll(100, i, 10 - i);
    expect(r.logs).toEqual([]);
    // Polls at 100…1000 ms: drawn at 300, 600 and 900 ms.
    expect(r.screen).toEqual([
      '\r\x1b[2Klinks 3 created · 0 failed · 0 checks · 10.0/s · 7 queued · ETA 1s',
      '\r\x1b[2Klinks 6 created · 0 failed · 0 checks · 10.0/s · 4 queued · ETA 0s',
      '\r\x1b[2Klinks 9 created · 0 failed · 0 checks · 10.0/s · 1 queued · ETA 0s',
    ]);
    r.progress.finish();
    expect(r.screen.at(-1)).toBe('\r\x1b[2K');
  });

  it('log lines written while the progress line shows go above it, and it is drawn again', () => {
    const screen: string[] = [];
    const line = new StatusLine({ write: (text: string) => screen.push(text) });
    line.writeAbove('before\n');
    line.show('links 1 created');
    line.writeAbove('a warning\n');
    expect(screen).toEqual(['before\n', '\r\x1b[2Klinks 1 created', '\r\x1b[2Ka warning\nlinks 1 created']);
  });
});
