/**
 * Which webhook bodies a MyFatoorah signature may stand for.
 *
 * MyFatoorah signs a text built from the body (see webhook.ts), not the body itself, and that text
 * does not escape anything: `a=1,b=2` is also `{ a: "1,b=2" }`, and a V2 text is also the V1 text of
 * a body whose single key is `Invoice.Id`. So after the HMAC matches, the worker accepts a body only
 * when its signed text could not have been produced by any other structure:
 *
 * - the body is exactly one of V2 (`Event.Code`) or V1 (`EventType`), with no key twice (JSON allows
 *   duplicates and `JSON.parse` silently keeps the last one);
 * - V1: `Data` is an object whose keys are plain identifiers (`[A-Za-z_][A-Za-z0-9_]*`: no `.`, `,`
 *   or `=`), no two equal but for case (the case-insensitive sort could not order them);
 * - V2: `Data`, `Data.Invoice` and `Data.Transaction` are objects (the signed paths exist);
 * - every signed value is a scalar (string, number, boolean or null) and contains no `,<name>=`.
 *
 * Then the text parses back into exactly one list of `key=value` pairs: a key runs to the first `=`
 * (keys have none), a value runs to the next `,<name>=` (values have none). V1 keys have no `.` while
 * every V2 text starts with `Invoice.Id=`, so no V2 text is a V1 text. What is left — `123` against
 * `"123"`, `null` against `""` — the hint does not tell apart either.
 */

/** A V1 key: what MyFatoorah's `Data` property names look like, and nothing that can hide a separator. */
const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `,Name=` or `,Dotted.Name=` inside a value: the start of another signed field. */
const FIELD_SEPARATOR = /,[A-Za-z_][A-Za-z0-9_.]*=/;

/** The objects a V2 Code 1 signature reads from: they must be objects for the signed paths to exist. */
const V2_SIGNED_OBJECTS = ['Invoice', 'Transaction'] as const;

/**
 * Why this verified body is not the only structure its signed text can stand for, or null when it is.
 * @param rawBody the body as received (for duplicate keys, which the parsed value no longer shows).
 * @param body `JSON.parse(rawBody)`.
 * @param signedValues the values that went into the signed text, in order.
 */
export function ambiguityInSignedBody(rawBody: string, body: unknown, signedValues: readonly unknown[]): string | null {
  if (!isRecord(body)) return 'the body is not an object';
  const v2 = isRecord(body['Event']) && body['Event']['Code'] !== undefined && body['Event']['Code'] !== null;
  const v1 = body['EventType'] !== undefined && body['EventType'] !== null;
  if (v1 && v2) return 'the body is both a V1 (EventType) and a V2 (Event.Code) webhook';
  if (hasDuplicateKey(rawBody)) return 'a key appears twice in one object';
  const shape = v2 ? v2ShapeProblem(body['Data']) : v1KeysProblem(body['Data']);
  return shape ?? signedValuesProblem(signedValues);
}

function v2ShapeProblem(data: unknown): string | null {
  if (!isRecord(data)) return 'V2 Data is not an object';
  const missing = V2_SIGNED_OBJECTS.find((name) => !isRecord(data[name]));
  return missing ? `V2 Data.${missing} is not an object` : null;
}

function v1KeysProblem(data: unknown): string | null {
  if (!isRecord(data)) return 'V1 Data is not an object';
  const seen = new Set<string>();
  for (const key of Object.keys(data)) {
    if (!PLAIN_KEY.test(key)) return `V1 Data key ${JSON.stringify(key)} is not a plain name`;
    const folded = key.toLowerCase();
    if (seen.has(folded)) return `V1 Data has two keys equal but for case (${key})`;
    seen.add(folded);
  }
  return null;
}

function signedValuesProblem(values: readonly unknown[]): string | null {
  for (const value of values) {
    if (value !== null && typeof value === 'object') return 'a signed value is an object or an array';
    if (typeof value === 'string' && FIELD_SEPARATOR.test(value))
      return 'a signed value contains ",<name>=", the start of another field';
  }
  return null;
}

/**
 * True when some object in the JSON text has a key twice (compared after unescaping, so
 * `"Invoice\u0049d"` is `"InvoiceId"`). `json` must already be valid JSON.
 */
export function hasDuplicateKey(json: string): boolean {
  const objects: Array<Set<string> | null> = []; // a Set per open object, null per open array
  let keyNext = false;
  for (let i = 0; i < json.length; i++) {
    const ch = json[i];
    if (ch === '"') {
      const end = endOfString(json, i);
      const keys = objects.at(-1);
      if (keyNext && keys) {
        const key = JSON.parse(json.slice(i, end + 1)) as string;
        if (keys.has(key)) return true;
        keys.add(key);
      }
      keyNext = false;
      i = end;
    } else if (ch === '{' || ch === '[') {
      objects.push(ch === '{' ? new Set() : null);
      keyNext = ch === '{';
    } else if (ch === '}' || ch === ']') {
      objects.pop();
      keyNext = false;
    } else if (ch === ',') {
      keyNext = objects.at(-1) instanceof Set;
    }
  }
  return false;
}

/** Index of the quote that closes the string opening at `start`. */
function endOfString(json: string, start: number): number {
  let i = start + 1;
  while (i < json.length && json[i] !== '"') i += json[i] === '\\' ? 2 : 1;
  return i;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
