import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

/**
 * A small JSON file a process writes next to data it serves (the embedded Redis, the local sandbox), so
 * another rentlink process on the same data finds and shares the running server instead of starting
 * a second one on the same files. Readers must still check the server answers: a marker can be stale.
 */
export function readMarker<T extends object>(path: string | null): T | null {
  if (!path) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return null;
  }
}

/** Writes the marker; `mode` 0o600 for one that holds a secret (created with it, never readable by others). */
export function writeMarker(path: string, value: object, mode = 0o644): void {
  writeFileSync(path, JSON.stringify(value), { mode });
  chmodSync(path, mode);
}

export function removeMarker(path: string): void {
  rmSync(path, { force: true });
}
