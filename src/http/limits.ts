import type { Context, MiddlewareHandler } from 'hono';

/**
 * Request-body limits for the routes anyone can reach (webhooks, the tenant callback, admin forms and
 * the admin API). A body over the limit gets 413 without being buffered:
 * - a declared `Content-Length` over the limit is refused from the headers, before a byte is read;
 * - a body without one (chunked) is counted while it is read and cut as soon as it passes the limit;
 *   under the limit, the handler gets the bytes read (at most `maxBytes` held in memory);
 * - GET and HEAD bodies are never read, so one of unknown length is refused outright.
 * The 413 says `Connection: close`, so Node closes the socket instead of reading the rest of the body.
 *
 * Not hono/body-limit: on Node 20 its `new Request(c.req.raw, …)` throws for @hono/node-server's
 * request objects, so every chunked body under the limit got a 500.
 */
export function limitRequestBody(maxBytes: number): MiddlewareHandler {
  return async (c, next) => {
    const declared = c.req.header('content-length');
    if (declared !== undefined && !(Number(declared) <= maxBytes)) return tooLarge(c, maxBytes);
    if (hasUnreadableBody(c)) return tooLarge(c, maxBytes);
    const body = c.req.raw.body;
    if (body === null) return next();
    // With a Content-Length (and no Transfer-Encoding), Node's parser ends the body at that length.
    if (declared !== undefined && c.req.header('transfer-encoding') === undefined) return next();
    const bytes = await readAtMost(body, maxBytes);
    if (bytes === null) return tooLarge(c, maxBytes);
    c.req.raw = new Request(c.req.url, { method: c.req.method, headers: c.req.raw.headers, body: bytes });
    return next();
  };
}

/** The whole stream, or null as soon as it is longer than `maxBytes` (the rest is left unread). */
async function readAtMost(body: ReadableStream<Uint8Array>, maxBytes: number): Promise<Uint8Array | null> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks, size);
    size += value.length;
    if (size > maxBytes) return null;
    chunks.push(value);
  }
}

/** A GET/HEAD request that says a body of unknown length follows: nothing here would read it. */
function hasUnreadableBody(c: Context): boolean {
  return (c.req.method === 'GET' || c.req.method === 'HEAD') && c.req.header('transfer-encoding') !== undefined;
}

function tooLarge(c: Context, maxBytes: number): Response {
  c.header('Connection', 'close');
  return c.json({ error: `the request body is larger than ${maxBytes} bytes`, code: 'PAYLOAD_TOO_LARGE' }, 413);
}
