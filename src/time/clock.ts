/**
 * Time is injected everywhere it matters (tick, expiry, poll plan, sandbox) so tests and `--now`
 * can run the whole system at a chosen instant. This is the only module that reads the wall clock.
 */
export interface Clock {
  /** Current instant in epoch milliseconds (UTC). */
  now(): number;
}

/** The real wall clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** A clock that can be set and moved forward by tests and the `--now` CLI flag. */
export class ManualClock implements Clock {
  private current: number;

  constructor(start: number | Date | string) {
    this.current = toEpochMs(start);
  }

  now(): number {
    return this.current;
  }

  set(at: number | Date | string): void {
    this.current = toEpochMs(at);
  }

  advance(ms: number): void {
    this.current += ms;
  }
}

/**
 * A clock that starts at `start` and then runs at real speed: what `--now` gives a long-running
 * process, so timeouts and poll plans still move forward.
 */
export class OffsetClock implements Clock {
  private readonly offset: number;

  constructor(start: number | Date | string) {
    this.offset = toEpochMs(start) - Date.now();
  }

  now(): number {
    return Date.now() + this.offset;
  }
}

/**
 * Testing only: business time read from a file holding epoch milliseconds, so a test can move the
 * time of whole worker processes it runs (the chaos test kills and restarts them). The file is read
 * at most every 20 ms; an unreadable file keeps the last time read.
 */
export class FileClock implements Clock {
  private last = 0;
  private readAt = -Infinity;

  constructor(
    private readonly path: string,
    private readonly read: (path: string) => string,
  ) {
    this.now();
    if (this.last === 0) throw new Error(`clock file ${path} does not hold an instant`);
  }

  now(): number {
    const at = performance.now();
    if (at - this.readAt < 20) return this.last;
    this.readAt = at;
    try {
      const ms = Number(this.read(this.path).trim());
      if (Number.isFinite(ms) && ms > 0) this.last = ms;
    } catch {
      // keep the last instant read
    }
    return this.last;
  }
}

/** Parses an ISO-8601 string, Date or epoch ms; throws on anything that is not a valid instant. */
function toEpochMs(value: number | Date | string): number {
  const ms = typeof value === 'number' ? value : typeof value === 'string' ? Date.parse(value) : value.getTime();
  if (!Number.isFinite(ms)) throw new Error(`not a valid instant: ${String(value)}`);
  return ms;
}

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
