import { createHmac } from 'node:crypto';
import { secretsEqual } from './secrets.js';

/**
 * The tenant's browser comes back to `/callback?ref=<our reference>&t=<token>`. The token is an HMAC of
 * the reference with a key only this database knows, so a request for a reference rentlink never sent
 * (guessed: references are readable) is answered without any work: no lookup by foreign ids, no
 * provider call, no row written.
 */
function callbackToken(key: string, reference: string): string {
  return createHmac('sha256', key).update(`callback|${reference}`).digest('base64url').slice(0, 22);
}

export function callbackTokenValid(key: string, reference: string, token: string | undefined): boolean {
  return typeof token === 'string' && token.length === 22 && secretsEqual(token, callbackToken(key, reference));
}

/** The return URL for a link (`error` for the provider's failure redirect, where it has one). */
export function callbackUrl(base: string, key: string, reference: string, error = false): string {
  const query = `ref=${encodeURIComponent(reference)}&t=${callbackToken(key, reference)}${error ? '&error=1' : ''}`;
  return `${base.replace(/\/+$/, '')}/callback?${query}`;
}
