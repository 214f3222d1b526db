import type { Db } from './open.js';

/**
 * Group commit for the jobs' writes. Each send job makes two write transactions and each status check
 * one; a commit writes every page the transaction touched (a link, a charge, an event and their dozen
 * index pages) to the WAL. Jobs that finish in the same turn of the event loop share pages (the tail
 * of every index), so their writes go into one IMMEDIATE transaction, each in its own savepoint: one
 * write failing rolls back only itself. A caller's promise settles after the COMMIT, so "written
 * before the provider is called" still holds. Profile: most of the SQLite time of a send job was
 * commits (`npm run bench`).
 */
interface Pending {
  write: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

const queues = new WeakMap<Db, Pending[]>();

/** Runs `write` (synchronous SQLite work, typically a transaction of its own) in the next group commit. */
export function batchedWrite<T>(db: Db, write: () => T): Promise<T> {
  let queue = queues.get(db);
  if (!queue) {
    queue = [];
    queues.set(db, queue);
  }
  if (queue.length === 0) setImmediate(() => flush(db));
  return new Promise<T>((resolve, reject) => {
    (queue as Pending[]).push({ write, resolve: resolve as (value: unknown) => void, reject });
  });
}

function flush(db: Db): void {
  const batch = (queues.get(db) ?? []).splice(0);
  if (batch.length === 0) return;
  const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
  const savepoint = db.$client.transaction((write: () => unknown) => write());
  try {
    db.$client
      .transaction(() => {
        for (const { write } of batch) {
          try {
            outcomes.push({ ok: true, value: savepoint(write) });
          } catch (error) {
            outcomes.push({ ok: false, error });
          }
        }
      })
      .immediate();
  } catch (error) {
    // BEGIN or COMMIT failed (e.g. busy past busy_timeout): nothing of the batch was written.
    for (const { reject } of batch) reject(error);
    return;
  }
  batch.forEach((pending, i) => {
    const outcome = outcomes[i];
    if (outcome?.ok) pending.resolve(outcome.value);
    else pending.reject(outcome?.error);
  });
}
