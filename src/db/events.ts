import type Database from 'better-sqlite3';
import { events, type Actor } from './schema.js';
import type { Db } from './open.js';
import { prepared } from './prepared.js';

/** A transaction handle or the database: events are written inside the caller's transaction. */
export type DbOrTx = Pick<Db, 'insert' | 'select' | 'update' | 'delete' | 'run' | 'all' | 'get'>;

export interface NewEvent {
  at: number;
  type: string;
  actor: Actor;
  leaseId?: number | null;
  chargeId?: number | null;
  linkId?: number | null;
  details?: Record<string, unknown>;
  /** When set, a second event with the same key is ignored (returns false). */
  dedupeKey?: string;
}

/**
 * Appends one audit event. Call it in the same transaction as the state change it describes.
 * Returns false when `dedupeKey` was already recorded (a replay), true otherwise.
 */
export function recordEvent(db: DbOrTx, event: NewEvent): boolean {
  const result = db
    .insert(events)
    .values({
      at: event.at,
      type: event.type,
      actor: event.actor,
      leaseId: event.leaseId ?? null,
      chargeId: event.chargeId ?? null,
      linkId: event.linkId ?? null,
      details: JSON.stringify(event.details ?? {}),
      dedupeKey: event.dedupeKey ?? null,
    })
    .onConflictDoNothing({ target: events.dedupeKey })
    .run();
  return result.changes > 0;
}

const COLUMNS = '(at, type, actor, lease_id, charge_id, link_id, details, dedupe_key)';
const ROW = '(?, ?, ?, ?, ?, ?, ?, ?)';
/** Rows per INSERT: 8 parameters each, far below SQLite's limit of 32,766. */
const CHUNK = 100;

function insertSql(rows: number): string {
  return `INSERT INTO events ${COLUMNS} VALUES ${Array.from({ length: rows }, () => ROW).join(', ')}
    ON CONFLICT (dedupe_key) DO NOTHING`;
}

function params(event: NewEvent): unknown[] {
  return [
    event.at,
    event.type,
    event.actor,
    event.leaseId ?? null,
    event.chargeId ?? null,
    event.linkId ?? null,
    JSON.stringify(event.details ?? {}),
    event.dedupeKey ?? null,
  ];
}

/**
 * Appends many audit events with multi-row INSERTs (what the tick and the import write by the
 * thousand). Like {@link recordEvent}, call it inside the transaction of the changes they describe;
 * an event whose `dedupeKey` was recorded before is skipped.
 */
export function recordEvents(db: Database.Database, list: readonly NewEvent[]): void {
  let i = 0;
  for (; i + CHUNK <= list.length; i += CHUNK) {
    prepared(db, insertSql(CHUNK)).run(list.slice(i, i + CHUNK).flatMap(params));
  }
  if (i < list.length) prepared(db, insertSql(list.length - i)).run(list.slice(i).flatMap(params));
}
