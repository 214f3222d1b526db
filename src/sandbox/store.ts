import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';

/**
 * Where the sandbox fakes keep their records (invoices, payment links, checkouts) across restarts, so
 * links made by `demo` or `tick` stay payable under `start`. Each change writes one record, so the cost
 * of a change does not grow with the number of records kept.
 */
export interface SandboxStore {
  /** Every saved record of one kind, oldest first. */
  load<T>(kind: string): T[];
  /** Inserts or replaces one record. */
  save(kind: string, id: string, value: unknown): void;
  close(): void;
}

/** Keeps nothing: for tests and the standalone `rentlink sandbox` without a state file. */
export function memoryStore(): SandboxStore {
  return { load: () => [], save: () => undefined, close: () => undefined };
}

/** A small SQLite file beside rentlink's own database (never the same file). */
export function fileStore(path: string): SandboxStore {
  mkdirSync(dirname(resolve(path)), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL, value TEXT NOT NULL, PRIMARY KEY (kind, id))`);
  // Without it, MAX(seq) read the whole table on every save: each change cost more as records piled up.
  db.exec('CREATE INDEX IF NOT EXISTS records_seq ON records (seq)');
  const upsert = db.prepare(
    `INSERT INTO records (kind, id, seq, value) VALUES (?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM records), ?)
     ON CONFLICT (kind, id) DO UPDATE SET value = excluded.value`,
  );
  const select = db.prepare('SELECT value FROM records WHERE kind = ? ORDER BY seq');
  return {
    load: <T>(kind: string) => (select.all(kind) as Array<{ value: string }>).map((r) => JSON.parse(r.value) as T),
    save: (kind, id, value) => void upsert.run(kind, id, JSON.stringify(value)),
    close: () => db.close(),
  };
}
