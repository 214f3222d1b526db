import { and, gt, inArray, sql } from 'drizzle-orm';
import type { Db } from '../db/open.js';
import { events } from '../db/schema.js';
import type { Logger } from '../logger.js';
import type { QueueCounts } from '../runtime.js';

/**
 * Progress of `tick --wait` (and `demo`) while it works the queues: one updating line on a terminal,
 * a log line every 10 s otherwise. Fed by the queue counts `waitUntilIdle` polls and by event counts
 * from SQLite; the final summary still goes to stdout.
 */

/** What a progress line reports, counted since the run started. */
export interface ProgressCounts {
  linksCreated: number;
  /** Links found at the provider after an uncertain create, instead of creating them twice. */
  linksAdopted: number;
  /** Sends the provider rejected or that ran out of attempts. */
  failures: number;
  /** Status checks finished (each attempt counts). */
  checksDone: number;
  /** Jobs still waiting, active, delayed or prioritized, in both queues. */
  remaining: number;
}

/** Jobs finished per second and the time left at that pace (null until there is a pace). */
export interface ProgressPace {
  perSecond: number;
  etaMs: number | null;
}

/** Work done so far / elapsed time, and the remaining queue at that pace. */
export function progressPace(counts: ProgressCounts, elapsedMs: number): ProgressPace {
  const done = counts.linksCreated + counts.linksAdopted + counts.failures + counts.checksDone;
  const perSecond = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
  const etaMs = counts.remaining === 0 ? 0 : perSecond > 0 ? Math.round((counts.remaining / perSecond) * 1000) : null;
  return { perSecond, etaMs };
}

/** One progress line, e.g. `links 1,204 created, 3 adopted · 2 failed · 310 checks · 41.3/s · 3,796 queued · ETA 1m 32s`. */
export function formatProgress(counts: ProgressCounts, elapsedMs: number): string {
  const pace = progressPace(counts, elapsedMs);
  const adopted = counts.linksAdopted ? `, ${grouped(counts.linksAdopted)} adopted` : '';
  return [
    `links ${grouped(counts.linksCreated)} created${adopted}`,
    `${grouped(counts.failures)} failed`,
    `${grouped(counts.checksDone)} checks`,
    `${pace.perSecond.toFixed(1)}/s`,
    `${grouped(counts.remaining)} queued`,
    `ETA ${pace.etaMs === null ? '—' : formatDuration(pace.etaMs)}`,
  ].join(' · ');
}

/** `95_000` → `1m 35s`; `4_000` → `4s`; `7_380_000` → `2h 03m`. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}

function grouped(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * The one line at the bottom of a terminal that progress redraws in place. Log lines are written
 * above it (the line is cleared, the log printed, the line redrawn), so the two never garble.
 */
export class StatusLine {
  private current: string | null = null;

  constructor(private readonly out: { write(text: string): unknown }) {}

  show(text: string): void {
    this.current = text;
    this.out.write(`\r\x1b[2K${text}`);
  }

  /** Writes `text` (whole lines) above the status line. */
  writeAbove(text: string): void {
    if (this.current === null) {
      this.out.write(text);
      return;
    }
    this.out.write(`\r\x1b[2K${text}${this.current}`);
  }

  clear(): void {
    if (this.current === null) return;
    this.current = null;
    this.out.write('\r\x1b[2K');
  }
}

export interface ProgressReporterOptions {
  /** stderr is a terminal: redraw `line`; otherwise log a line every `intervalMs`. */
  terminal: boolean;
  line: StatusLine;
  logger: Logger;
  /** Monotonic milliseconds (performance.now in the CLI; a fake in tests). */
  now: () => number;
  /** Reads the counts; called only when a line is due (it queries SQLite). */
  read: (queues: QueueCounts) => ProgressCounts;
  /** Between two log lines when not on a terminal; default 10 s. */
  intervalMs?: number;
  /** Between two redraws on a terminal; default 250 ms. */
  redrawMs?: number;
}

export interface ProgressReporter {
  /** Called with every poll of the queue counts; draws or logs when a line is due. */
  onQueueCounts(queues: QueueCounts): void;
  /** Removes the terminal line (the summary follows on stdout). */
  finish(): void;
}

/** Throttles progress to a redraw every 250 ms on a terminal, or a log line every 10 s otherwise. */
export function createProgressReporter(options: ProgressReporterOptions): ProgressReporter {
  const started = options.now();
  const every = options.terminal ? (options.redrawMs ?? 250) : (options.intervalMs ?? 10_000);
  let last = started;
  return {
    onQueueCounts(queues) {
      const now = options.now();
      if (now - last < every) return;
      last = now;
      const counts = options.read(queues);
      const line = formatProgress(counts, now - started);
      if (options.terminal) options.line.show(line);
      else options.logger.info({ progress: counts, perSecond: progressPace(counts, now - started).perSecond }, line);
    },
    finish() {
      options.line.clear();
    },
  };
}

/** Jobs not finished yet, over both queues. */
export function remainingJobs(queues: QueueCounts): number {
  let total = 0;
  for (const counts of Object.values(queues)) {
    for (const state of ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children'])
      total += counts[state] ?? 0;
  }
  return total;
}

const COUNTED_EVENTS = ['link.created', 'link.adopted', 'link.rejected', 'send.exhausted'] as const;

/** Link events since `sinceEventId`, by type, in one grouped query. */
export function linkEventCounts(
  db: Db,
  sinceEventId: number,
): Pick<ProgressCounts, 'linksCreated' | 'linksAdopted' | 'failures'> {
  const rows = db
    .select({ type: events.type, n: sql<number>`COUNT(*)` })
    .from(events)
    .where(and(gt(events.id, sinceEventId), inArray(events.type, [...COUNTED_EVENTS])))
    .groupBy(events.type)
    .all();
  const count = (type: string) => rows.find((r) => r.type === type)?.n ?? 0;
  return {
    linksCreated: count('link.created'),
    linksAdopted: count('link.adopted'),
    failures: count('link.rejected') + count('send.exhausted'),
  };
}
