/**
 * Misbehaviours the APS fake can be told to show on the next request(s) of one command, queued in a
 * generic {@link import('../faults.js').FaultQueue}.
 *
 * Answered before anything happens (infrastructure in front of the API):
 * - `http`: `status` with an HTML error page (or `body`), like a load balancer;
 * - `rate-limit`: 429 with `Retry-After: <retryAfter>` when given (seconds or an HTTP date);
 * - `timeout`: no answer for `ms` (default 30 s) real milliseconds or until close(), then a 504 page;
 * - `reject`: a correctly signed refusal, `responseCode` (default `49000` / `11000`) with `message`.
 *
 * Performed, then the answer goes wrong (the caller cannot know the link exists):
 * - `lost`: the socket is destroyed without an answer;
 * - `bad-signature`: the normal answer with a signature that does not verify (a tampered answer);
 * - `unsigned`: the normal answer without its signature field.
 */
export type ApsFault =
  | { kind: 'http'; status: 500 | 502 | 503 | 504; body?: string; contentType?: string }
  | { kind: 'rate-limit'; retryAfter?: string }
  | { kind: 'timeout'; ms?: number }
  | { kind: 'reject'; message: string; responseCode?: string }
  | { kind: 'lost' }
  | { kind: 'bad-signature' }
  | { kind: 'unsigned' };

/** The commands faults can target. */
export type ApsCommand = 'PAYMENT_LINK' | 'CHECK_PAYMENT_LINK_STATUS';

export const APS_COMMANDS: readonly ApsCommand[] = ['PAYMENT_LINK', 'CHECK_PAYMENT_LINK_STATUS'];

/** Fault kinds that let the request do its work first. */
export function performsWork(fault: ApsFault | undefined): boolean {
  return fault === undefined || fault.kind === 'lost' || fault.kind === 'bad-signature' || fault.kind === 'unsigned';
}

/** An infrastructure error page, deliberately not APS JSON. */
export function infrastructurePage(status: number): string {
  const reason =
    {
      500: 'Internal Server Error',
      502: 'Bad Gateway',
      503: 'Service Temporarily Unavailable',
      504: 'Gateway Time-out',
    }[status] ?? 'Error';
  return `<html><head><title>${status} ${reason}</title></head><body><center><h1>${status} ${reason}</h1></center><hr><center>sandbox-gateway</center></body></html>`;
}
