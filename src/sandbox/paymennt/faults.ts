/**
 * Misbehaviours the paymennt fake can be told to show on its next request(s) to one endpoint
 * (queued in the generic FaultQueue). Only `lost` performs the request; every other kind answers
 * before anything happens, as infrastructure in front of the API (load balancer, WAF) would.
 */

/** The API endpoints faults can be injected into. */
export type PaymenntFaultEndpoint = 'create' | 'get' | 'search' | 'cancel';

/**
 * - `http`: answer `status` with `body` (default: a load balancer's HTML error page).
 * - `rate-limit`: 429 with `Retry-After: <retryAfter>` (seconds or an HTTP date; omitted → no header).
 * - `timeout`: hold the request unanswered for `ms` real ms (default 30 s), until the client gives up
 *   or the fake closes; after the full hold a gateway's HTML 504.
 * - `reject`: paymennt's own refusal, HTTP 400 `{success:false, error}` (e.g. a search that says
 *   "Checkout not found for API merchant" where the fake would answer an empty page).
 * - `lost`: perform the request fully (create makes the checkout, cancel cancels), then destroy the
 *   socket without an answer: the client cannot know what happened.
 */
export type PaymenntFault =
  | { kind: 'http'; status: 500 | 502 | 503 | 504; body?: string; contentType?: string }
  | { kind: 'rate-limit'; retryAfter?: string }
  | { kind: 'timeout'; ms?: number }
  | { kind: 'reject'; error: string }
  | { kind: 'lost' };

/** How long a `timeout` fault holds a request when it names no `ms`. */
export const DEFAULT_TIMEOUT_FAULT_MS = 30_000;
