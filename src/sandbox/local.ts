import { dirname, join, resolve } from 'node:path';
import { readMarker, writeMarker } from '../markers.js';
import { startSandbox, type SandboxHandle, type SandboxOptions } from './server.js';

/** Where rentlink's local sandbox is: its URL, and the handle when this process started it. */
export interface LocalSandbox {
  url: string;
  /** Null when another rentlink process runs the sandbox this one uses. */
  handle: SandboxHandle | null;
}

interface SandboxMarker {
  url: string;
  port: number;
}

/**
 * The sandbox that stands in for MyFatoorah when no token is set. It keeps its invoices next to the
 * database and tries its previous port again, so links made by `demo` or `tick` stay payable and
 * checkable after a restart; a process that finds another's sandbox running uses it instead.
 * `port` (SANDBOX_PORT) wins over the previous one when set.
 */
export async function provideLocalSandbox(
  databasePath: string,
  port: number,
  options: Omit<SandboxOptions, 'port' | 'statePath'>,
): Promise<LocalSandbox> {
  const dir = databasePath === ':memory:' ? null : dirname(resolve(databasePath));
  const markerPath = dir ? join(dir, 'sandbox.json') : null;
  const saved = readMarker<SandboxMarker>(markerPath);
  if (saved && (await answers(saved.url))) return { url: saved.url, handle: null };
  const handle = await startOnPreferredPort(port || saved?.port || 0, {
    ...options,
    ...(dir ? { statePath: join(dir, 'sandbox-state.json') } : {}),
  });
  if (markerPath) writeMarker(markerPath, { url: handle.url, port: handle.port } satisfies SandboxMarker);
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
