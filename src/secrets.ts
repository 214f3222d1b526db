import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Constant-time comparison of a given secret, token or signature with the expected one. Both sides
 * are hashed first so the comparison always runs over 32 bytes: `timingSafeEqual` alone throws on
 * different lengths, which would leak the expected value's length.
 */
export function secretsEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}
