import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { RentlinkError } from './errors.js';
import { systemClock } from './time/clock.js';

/**
 * A small JSON file a process writes next to data it serves (the embedded Redis, the local sandbox), so
 * another rentlink process on the same data finds and shares the running server instead of starting
 * a second one on the same files. Readers must still check the server answers: a marker can be stale.
 * Each marker names the rentlink process that owns the server (pid and start time), so a second
 * `start` can refuse to share it, and a marker whose owner is gone can be taken over.
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

/** Deletes the marker at `path`, if there is one. */
export function removeMarker(path: string): void {
  rmSync(path, { force: true });
}

/** Who runs the server a marker points at. Optional in what is read: older markers lack them. */
export interface MarkerOwner {
  ownerPid: number;
  /** ISO instant the owning process started. */
  ownerStartedAt: string;
}

/** This process, as the owner recorded in a marker it writes. */
export function currentOwner(): MarkerOwner {
  const startedAt = systemClock.now() - Math.round(process.uptime() * 1000);
  return { ownerPid: process.pid, ownerStartedAt: new Date(startedAt).toISOString() };
}

/** True when the marker names a live process other than this one as its owner. */
export function ownedByAnotherLiveProcess(marker: Partial<MarkerOwner>): boolean {
  const pid = marker.ownerPid;
  return typeof pid === 'number' && pid !== process.pid && isProcessAlive(pid);
}

/**
 * True when a process with this pid runs (EPERM: it exists, but belongs to another user). A zombie
 * (exited, not yet reaped: common in containers whose init does not reap) answers signal 0 but is
 * gone, so on Linux its /proc state is checked too.
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return err instanceof Error && 'code' in err && err.code === 'EPERM';
  }
  return !isZombie(pid);
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "<pid> (<command>) <state> …": the command may contain spaces and parentheses.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}

/**
 * The refusal of a second `start` that would share another process's private service: it names the
 * other process, the data directory, and the two ways out.
 */
export function sharedServiceConflict(
  service: 'private redis-server' | 'built-in sandbox provider',
  dataDir: string,
  marker: Partial<MarkerOwner>,
): RentlinkError {
  const owner =
    typeof marker.ownerPid === 'number'
      ? `another rentlink process (pid ${marker.ownerPid}${marker.ownerStartedAt ? `, running since ${marker.ownerStartedAt}` : ''})`
      : 'another rentlink process';
  const stop = typeof marker.ownerPid === 'number' ? `stop it first (kill ${marker.ownerPid})` : 'stop it first';
  return new RentlinkError(
    'CONFLICT',
    `${owner} already runs the ${service} for data directory ${dataDir}; a second \`start\` would share it and break when that one stops. ` +
      `To restart, ${stop}; to run several workers on one database, set REDIS_URL to a shared Redis and the provider credentials (MYFATOORAH_TOKEN), so nothing private is shared.`,
  );
}
