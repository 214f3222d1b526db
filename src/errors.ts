/** Every error rentlink raises on purpose carries a stable code, so logs, events and the CLI can match on it. */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'IMPORT_INVALID'
  | 'MONEY_INVALID'
  | 'CURRENCY_UNKNOWN'
  | 'REDIS_UNAVAILABLE'
  | 'PROVIDER_REJECTED'
  | 'PROVIDER_RATE_LIMITED'
  | 'PROVIDER_UNAVAILABLE'
  | 'STATUS_MISMATCH'
  /** A link or lease names an account the configuration no longer has. */
  | 'ACCOUNT_UNKNOWN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'INVALID_STATE'
  /** The caller's input is wrong (a filter, a missing reason); nothing was changed. */
  | 'INVALID_INPUT';

export class RentlinkError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RentlinkError';
    this.code = code;
  }
}

/** Reads `.code` from any thrown value, for logs and events. */
export function errorCode(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return err.code;
  return 'INTERNAL';
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
