import { dirname, join, resolve } from 'node:path';
import { currentOwner, readMarker, sharedServiceConflict, writeMarker, type MarkerOwner } from '../markers.js';
import { startSandbox, type SandboxHandle, type SandboxOptions } from './server.js';

/** Where rentlink's local sandbox is: its URL, and the handle when this process started it. */
export interface LocalSandbox {
  url: string;
  /** Null when another rentlink process runs the sandbox this one uses. */
  handle: SandboxHandle | null;
}

interface SandboxMarker extends Partial<MarkerOwner> {
  url: string;
  port: number;
}

export interface LocalSandboxOptions extends Omit<SandboxOptions, 'port' | 'statePath'> {
  /**
   * For `start`: refuse to use a sandbox another rentlink process runs (it lives inside that process
   * and goes when it stops). Short-lived commands share it.
   */
  exclusive?: boolean;
}

/**
 * The sandbox that stands in for MyFatoorah when no token is set. It keeps its invoices next to the
 * database and tries its previous port again, so links made by `demo` or `tick` stay payable and
 * checkable after a restart; a process that finds another's sandbox running uses it instead.
 * `port` (SANDBOX_PORT) wins over the previous one when set. A marker whose sandbox no longer answers
 * is stale and taken over.
 */
export async function provideLocalSandbox(
  databasePath: string,
  port: number,
  options: LocalSandboxOptions,
): Promise<LocalSandbox> {
  const { exclusive, ...sandboxOptions } = options;
  const dir = databasePath === ':memory:' ? null : dirname(resolve(databasePath));
  const markerPath = dir ? join(dir, 'sandbox.json') : null;
  const saved = readMarker<SandboxMarker>(markerPath);
  if (saved && (await answers(saved.url))) {
    // It answers, so the process it lives in is running (whatever pid an older marker lacks).
    if (exclusive && saved.ownerPid !== process.pid)
      throw sharedServiceConflict('built-in sandbox provider', dir ?? '', saved);
    return { url: saved.url, handle: null };
  }
  const handle = await startOnPreferredPort(port || saved?.port || 0, {
    ...sandboxOptions,
    ...(dir ? { statePath: join(dir, 'sandbox-state.json') } : {}),
  });
  if (markerPath)
    writeMarker(markerPath, { url: handle.url, port: handle.port, ...currentOwner() } satisfies SandboxMarker);
  return { url: handle.url, handle };
}

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/_sandbox/invoices`, { signal: AbortSignal.timeout(500) })).ok;
  } catch {
    return false;
  }
}

async function startOnPreferredPort(port: number, options: SandboxOptions): Promise<SandboxHandle> {
  try {
    return await startSandbox({ ...options, port });
  } catch (err) {
    if (port === 0 || !(err instanceof Error && 'code' in err && err.code === 'EADDRINUSE')) throw err;
    return startSandbox({ ...options, port: 0 });
  }
}
