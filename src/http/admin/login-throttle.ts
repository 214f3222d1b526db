import { isIPv4, isIPv6 } from 'node:net';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';

/**
 * Throttling of `POST /admin/login` per client: after `maxFailures` wrong tokens within `windowMs`,
 * the client is refused (429) until the oldest of them leaves the window; a success forgets its
 * failures. State is per process and bounded: at most `maxClients` addresses are remembered, the
 * least recently failing one is forgotten first.
 */

export interface ThrottleLimits {
  maxFailures: number;
  windowMs: number;
  maxClients: number;
}

/** 5 wrong tokens per 5 minutes per client; 10,000 clients remembered (well under a megabyte). */
const LOGIN_LIMITS: ThrottleLimits = { maxFailures: 5, windowMs: 5 * 60_000, maxClients: 10_000 };

export class LoginThrottle {
  /** client → instants of its recent failures, oldest first, at most maxFailures; oldest client first. */
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly limits: ThrottleLimits = LOGIN_LIMITS) {}

  /** How long `client` must wait before it may try again; 0 when it may try now. */
  retryAfterMs(client: string, now: number): number {
    const recent = this.recentFailures(client, now);
    if (recent.length < this.limits.maxFailures) return 0;
    return (recent[0] ?? now) + this.limits.windowMs - now;
  }

  /** Counts a wrong token. */
  recordFailure(client: string, now: number): void {
    const recent = [...this.recentFailures(client, now), now].slice(-this.limits.maxFailures);
    this.failures.delete(client); // re-inserted last: the Map's order is the eviction order
    this.failures.set(client, recent);
    for (const oldest of this.failures.keys()) {
      if (this.failures.size <= this.limits.maxClients) break;
      this.failures.delete(oldest);
    }
  }

  /** A correct token: the client starts afresh. */
  recordSuccess(client: string): void {
    this.failures.delete(client);
  }

  /** How many clients are remembered. */
  get size(): number {
    return this.failures.size;
  }

  private recentFailures(client: string, now: number): number[] {
    return (this.failures.get(client) ?? []).filter((at) => at > now - this.limits.windowMs);
  }
}

/**
 * Who is asking, as a throttle key: the socket's remote address, or, when `trustProxy` is set
 * (TRUST_PROXY, behind a reverse proxy), the last X-Forwarded-For entry (the one the proxy appended;
 * earlier entries are whatever the client claimed). IPv4-mapped IPv6 becomes IPv4, and IPv6
 * addresses are grouped by /64, the block one subscriber usually gets.
 */
export function clientKey(c: Context, trustProxy: boolean): string {
  const forwarded = trustProxy ? lastForwardedFor(c.req.header('x-forwarded-for')) : null;
  return normalizeAddress(forwarded ?? socketAddress(c) ?? 'unknown');
}

function lastForwardedFor(header: string | undefined): string | null {
  const entries = (header ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  return entries.at(-1) ?? null;
}

/** The peer's address; null outside @hono/node-server (e.g. `app.request()` in a test). */
function socketAddress(c: Context): string | null {
  try {
    return getConnInfo(c).remote.address ?? null;
  } catch {
    return null;
  }
}

/** `::ffff:1.2.3.4` → `1.2.3.4`; IPv6 → its /64 prefix; anything else as given (bounded length). */
export function normalizeAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped && isIPv4(mapped)) return mapped;
  if (isIPv6(address)) return `${expandIPv6(address).slice(0, 4).join(':')}::/64`;
  return address.slice(0, 64);
}

/** The groups of an IPv6 address with `::` expanded, as lower-case hex without leading zeros. */
function expandIPv6(address: string): string[] {
  const [head = '', tail] = address.toLowerCase().split('%')[0]?.split('::') ?? [''];
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const width = (gs: string[]) => gs.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0); // a.b.c.d is two
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const zeros = Array<string>(Math.max(0, 8 - width(left) - width(right))).fill('0');
  return [...left, ...zeros, ...right].map((g) => (g.includes('.') ? g : Number.parseInt(g, 16).toString(16)));
}
