import { request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { events } from '../src/db/schema.js';
import { registerAdminRoutes } from '../src/http/admin/routes.js';
import { createHarness, type Harness } from './helpers/harness.js';

/**
 * Issue #8 item 5: bodies on /webhooks/*, /callback and /admin are capped at MAX_BODY_BYTES and a
 * larger one gets 413 without being read, whether it declares its length or comes chunked.
 */

const TOKEN = 'body-limit-admin-token-0123';
const LIMIT = 4096;
const MEGABYTE = 1024 * 1024;

let h: Harness;
let port: number;

beforeAll(async () => {
  h = await createHarness({
    now: '2026-12-10T06:00:00Z',
    http: true,
    extraRoutes: [registerAdminRoutes],
    env: { ADMIN_TOKEN: TOKEN, MAX_BODY_BYTES: String(LIMIT) },
  });
  port = Number(new URL(h.http?.url ?? '').port);
});
afterAll(async () => h?.close());

const eventCount = () => h.app.db.select().from(events).all().length;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
}

/** A real request through node:http; `chunked` sends the body without Content-Length. */
function send(
  method: string,
  path: string,
  body: Buffer,
  options: { chunked?: boolean; headers?: Record<string, string> } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers: {
          'content-type': 'application/json',
          ...(options.chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(body.length) }),
          ...options.headers,
        },
      },
      (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, headers: res.headers });
      },
    );
    // The server may answer and close before it has read everything we send: that is the point.
    req.on('error', (err: NodeJS.ErrnoException) =>
      err.code === 'EPIPE' || err.code === 'ECONNRESET' ? null : reject(err),
    );
    if (options.chunked) {
      for (let offset = 0; offset < body.length; offset += 16 * 1024)
        req.write(body.subarray(offset, offset + 16 * 1024));
      req.end();
    } else req.end(body);
  });
}

/**
 * Writes `head` (and `body`) on a raw socket and never finishes the body. Resolves with the status
 * line the server answered with (null when none came within `waitMs`: a server still reading) and
 * whether the server then closed the connection rather than wait for the rest.
 */
function answerBeforeBodyEnds(
  head: string,
  body: Buffer,
  waitMs = 3000,
): Promise<{ status: string | null; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    const statusLine = () => (received.includes('\r\n') ? (received.split('\r\n')[0] ?? null) : null);
    const done = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ status: statusLine(), closed });
    };
    const timer = setTimeout(() => done(false), waitMs);
    socket.on('data', (chunk) => (received += chunk.toString('latin1')));
    socket.on('end', () => done(true));
    socket.on('error', () => done(true));
    socket.write(head);
    socket.write(body);
  });
}

const big = Buffer.alloc(MEGABYTE, 'a');

describe('request-body limits', () => {
  it('a 1 MB webhook with Content-Length gets 413 and writes no event', async () => {
    const before = eventCount();
    const answer = await send('POST', '/webhooks/myfatoorah', big, { headers: { 'myfatoorah-signature': 'x' } });
    expect(answer.status).toBe(413);
    expect(answer.headers['connection']).toBe('close');
    expect(eventCount()).toBe(before);
  });

  it('a 1 MB chunked webhook without Content-Length is cut at the limit: 413, no event', async () => {
    const before = eventCount();
    const answer = await send('POST', '/webhooks/myfatoorah', big, {
      chunked: true,
      headers: { 'myfatoorah-signature': 'x' },
    });
    expect(answer.status).toBe(413);
    expect(eventCount()).toBe(before);
  });

  it('a declared 100 MB body is refused from its headers alone, before a byte of it is sent', async () => {
    const head =
      'POST /webhooks/myfatoorah HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
      `Content-Length: ${100 * MEGABYTE}\r\n\r\n`;
    expect(await answerBeforeBodyEnds(head, Buffer.alloc(0))).toEqual({
      status: 'HTTP/1.1 413 Payload Too Large',
      closed: true,
    });
  });

  it('an endless chunked body is answered 413 once the limit is passed, while the client is still sending', async () => {
    const head =
      'POST /webhooks/myfatoorah HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
      'Transfer-Encoding: chunked\r\n\r\n';
    const chunk = Buffer.concat([
      Buffer.from(`${(LIMIT * 2).toString(16)}\r\n`),
      Buffer.alloc(LIMIT * 2, 'a'),
      Buffer.from('\r\n'),
    ]);
    expect(await answerBeforeBodyEnds(head, chunk)).toEqual({ status: 'HTTP/1.1 413 Payload Too Large', closed: true });
  });

  it('a callback with a 1 MB body gets 413 and writes no event', async () => {
    const before = eventCount();
    expect((await send('GET', '/callback?ref=nope&paymentId=1', big)).status).toBe(413);
    expect((await send('GET', '/callback?ref=nope&paymentId=1', big, { chunked: true })).status).toBe(413);
    expect(eventCount()).toBe(before);
  });

  it('admin forms and the JSON API are capped too, before authentication', async () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    expect((await send('POST', '/admin/login', big, { headers: form })).status).toBe(413);
    expect((await send('POST', '/admin/login', big, { headers: form, chunked: true })).status).toBe(413);
    expect((await send('POST', '/admin/charges/1/void', big, { headers: form })).status).toBe(413);
    const bearer = { authorization: `Bearer ${TOKEN}` };
    expect((await send('POST', '/admin/api/jobs/retry', big, { headers: bearer })).status).toBe(413);
    expect((await send('POST', '/admin/api/charges/1/void', big, { headers: bearer, chunked: true })).status).toBe(413);
  });

  it('bodies under the limit are handled as before', async () => {
    const small = Buffer.from(JSON.stringify({ jobIds: ['send-999-1'] }));
    const answer = await send('POST', '/admin/api/jobs/retry', small, {
      chunked: true,
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(answer.status).toBe(200);
    const webhook = await send('POST', '/webhooks/myfatoorah', Buffer.from('{}'), {
      headers: { 'myfatoorah-signature': 'x' },
    });
    expect(webhook.status).toBe(401);
  });
});

describe('MAX_BODY_BYTES', () => {
  it('defaults to 64 KiB and must be a whole number of bytes of at least 1024', () => {
    expect(loadConfig({}).MAX_BODY_BYTES).toBe(65_536);
    expect(loadConfig({ MAX_BODY_BYTES: '1048576' }).MAX_BODY_BYTES).toBe(1_048_576);
    for (const bad of ['64k', '-1', '100', '1.5'])
      expect(() => loadConfig({ MAX_BODY_BYTES: bad }), bad).toThrow(/MAX_BODY_BYTES/);
  });
});
