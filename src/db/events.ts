import { events, type Actor } from './schema.js';
import type { Db } from './open.js';

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
