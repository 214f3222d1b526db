import { createHash } from 'node:crypto';
import { secretsEqual } from '../../secrets.js';

/**
 * Amazon Payment Services (PayFort) signatures, shared by the client (signs requests, verifies answers
 * and transaction feedback) and the sandbox fake (the other way round), so both follow one recipe:
 *
 * 1. drop the `signature` parameter itself (and parameters that are not sent: `undefined`);
 * 2. sort the remaining parameters by name (code-unit order, case-sensitive, like PHP's `ksort`);
 * 3. concatenate `name=value` with no separator;
 * 4. put the SHA phrase before AND after: `PHRASE` + pairs + `PHRASE`;
 * 5. SHA-256 or SHA-512 (per account) → lower-case hex.
 *
 * Requests are signed with the account's request phrase; every answer and notification is checked
 * with the response phrase. APS documents upper-case hex in one sample, so comparison ignores case.
 *
 * Payment-link parameters are flat. A nested value (APS' Apple Pay fields are the only documented
 * ones) is written the way APS shows them: objects as `{key=value, key=value}` (keys sorted, so the
 * text never depends on JSON key order), arrays as `[value, value]`; `null` is the empty string.
 */

export type ApsShaType = 'sha256' | 'sha512';

/** A request, response or notification as name → value; values are usually strings or numbers. */
export type ApsParams = Readonly<Record<string, unknown>>;

/** Nested values deeper than this are refused: a hostile body must not exhaust the stack. */
const MAX_DEPTH = 8;

/**
 * The exact text that is hashed: `phrase` + sorted `name=value` pairs + `phrase`.
 * @throws RangeError when a value nests deeper than 8 levels.
 */
export function apsSignatureText(params: ApsParams, phrase: string): string {
  const pairs = Object.keys(params)
    .filter((name) => name !== 'signature' && params[name] !== undefined)
    .sort(compareCodeUnits)
    .map((name) => `${name}=${signedValue(params[name], 0)}`)
    .join('');
  return `${phrase}${pairs}${phrase}`;
}

/**
 * The signature of `params` (their own `signature`, if any, is ignored) as lower-case hex.
 * @throws RangeError when a value nests deeper than 8 levels.
 */
export function apsSignature(params: ApsParams, phrase: string, sha: ApsShaType): string {
  return createHash(sha).update(apsSignatureText(params, phrase), 'utf8').digest('hex');
}

/**
 * True when `params.signature` is the signature of the other parameters under `phrase`, compared
 * case-insensitively and in constant time. False — never throws — when it is missing, not a string,
 * or the parameters cannot be signed (too deeply nested).
 */
export function verifyApsSignature(params: ApsParams, phrase: string, sha: ApsShaType): boolean {
  const given = params['signature'];
  if (typeof given !== 'string' || given.trim() === '') return false;
  let expected: string;
  try {
    expected = apsSignature(params, phrase, sha);
  } catch {
    return false;
  }
  return secretsEqual(given.trim().toLowerCase(), expected);
}

/** Plain code-unit order (not locale order): `Z` sorts before `a`, `_` after upper-case letters. */
function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function signedValue(value: unknown, depth: number): string {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'object') return String(value);
  if (depth >= MAX_DEPTH) throw new RangeError(`APS signature: values nest deeper than ${MAX_DEPTH} levels`);
  if (Array.isArray(value)) return `[${value.map((item) => signedValue(item, depth + 1)).join(', ')}]`;
  const record = value as Record<string, unknown>;
  const entries = Object.keys(record)
    .filter((key) => record[key] !== undefined)
    .sort(compareCodeUnits)
    .map((key) => `${key}=${signedValue(record[key], depth + 1)}`);
  return `{${entries.join(', ')}}`;
}
