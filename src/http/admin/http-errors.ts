import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { RentlinkError } from '../../errors.js';

/** A request the caller got wrong (bad id, bad JSON, missing reason): always a 400. */
export class InputError extends Error {
  readonly code = 'BAD_REQUEST';

  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

const STATUS_BY_CODE: Partial<Record<string, ContentfulStatusCode>> = {
  BAD_REQUEST: 400,
  INVALID_INPUT: 400,
  IMPORT_INVALID: 400,
  MONEY_INVALID: 400,
  CURRENCY_UNKNOWN: 400,
  NOT_FOUND: 404,
  INVALID_STATE: 409,
  CONFLICT: 409,
};

/**
 * The HTTP status an operator error maps to, or null for anything unexpected (which the server's
 * onError turns into a logged 500 without leaking internals).
 */
export function statusForError(err: unknown): { status: ContentfulStatusCode; code: string; message: string } | null {
  if (!(err instanceof InputError) && !(err instanceof RentlinkError)) return null;
  const status = STATUS_BY_CODE[err.code];
  return status ? { status, code: err.code, message: err.message } : null;
}

/** A positive integer id from a route parameter, or an InputError. */
export function parseId(raw: string | undefined): number {
  const id = Number(raw);
  if (!raw || !/^\d+$/.test(raw) || !Number.isSafeInteger(id) || id <= 0)
    throw new InputError(`"${raw ?? ''}" is not a charge id`);
  return id;
}
