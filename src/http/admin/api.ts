import type { Context, Hono } from 'hono';
import { z } from 'zod';
import type { App } from '../../app.js';
import { CHARGE_STATUSES, LEASE_STATES } from '../../db/schema.js';
import { RentlinkError } from '../../errors.js';
import { attentionPage, chargesPage, reissueCharge, showCharge, voidCharge } from '../../operations/charges.js';
import { leasesPage } from '../../operations/leases.js';
import { InputError, parseId, statusForError } from './http-errors.js';
import { DOUBLE_PAID, MAX_PAGE_SIZE, PERIOD_PATTERN, PERIOD_RULE, type PageRequest } from '../../operations/rows.js';
import { listFailedJobs, retryFailedJobs } from '../../operations/jobs.js';
import { collectionReport } from '../../operations/report.js';

const queueName = z.enum(['send', 'status']);
const reason = z.string().trim().max(500);

const retryBody = z
  .object({
    jobIds: z.array(z.string().min(1)).optional(),
    all: z.boolean().optional(),
    queue: queueName.optional(),
    reason: reason.optional(),
  })
  .refine((b) => (b.jobIds?.length ?? 0) > 0 !== (b.all === true), {
    message: 'give either jobIds (non-empty) or all: true',
  });
const reissueBody = z.object({ reason: reason.optional() });
const voidBody = z.object({ reason: reason.min(1, 'a reason is required to void a charge') });

/** Parses an optional query value with `schema`, turning a mismatch into a 400 that names the parameter. */
function query<T>(c: Context, name: string, schema: z.ZodType<T>): T | undefined {
  const value = c.req.query(name);
  if (value === undefined || value === '') return undefined;
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw new InputError(`${name}: "${value}" is not valid (${parsed.error.issues[0]?.message ?? 'invalid'})`);
  return parsed.data;
}

/** `?limit=` (1 to MAX_PAGE_SIZE, default PAGE_SIZE) and `?offset=` (default 0) of a list. */
function pageQuery(c: Context): PageRequest {
  return {
    limit: query(c, 'limit', z.coerce.number().int().min(1).max(MAX_PAGE_SIZE)),
    offset: query(c, 'offset', z.coerce.number().int().min(0)),
  };
}

/** The JSON body validated by `schema`; an empty body counts as `{}`. */
async function body<T>(c: Context, schema: z.ZodType<T>): Promise<T> {
  const text = await c.req.text();
  let value: unknown = {};
  if (text.trim() !== '') {
    try {
      value = JSON.parse(text);
    } catch {
      throw new InputError('the body is not valid JSON');
    }
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw new InputError(parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
  return parsed.data;
}

/** Runs a handler and maps operator errors to `{ error, code }` with 400/404/409; anything else goes to onError. */
function json(handler: (c: Context) => Promise<unknown> | unknown) {
  return async (c: Context) => {
    try {
      return c.json(await handler(c));
    } catch (err) {
      const mapped = statusForError(err);
      if (!mapped) throw err;
      return c.json({ error: mapped.message, code: mapped.code }, mapped.status);
    }
  };
}

/**
 * `/admin/api/*`: the CLI's operator commands as JSON (auth is the admin guard's job). Every change
 * goes through the same functions as the CLI, so each writes its `events` row with actor `admin`.
 */
export function registerApiRoutes(http: Hono, app: App): void {
  http.get(
    '/admin/api/failed-jobs',
    json(async (c) => ({ jobs: await listFailedJobs(app, { queue: query(c, 'queue', queueName) }) })),
  );

  http.post(
    '/admin/api/jobs/retry',
    json(async (c) => {
      const b = await body(c, retryBody);
      return retryFailedJobs(app, {
        jobIds: b.jobIds,
        all: b.all,
        queue: b.queue,
        reason: b.reason || 'retried through the admin API',
      });
    }),
  );

  http.get(
    '/admin/api/charges',
    json((c) => {
      const page = chargesPage(
        app.db,
        {
          period: query(c, 'period', z.string().regex(PERIOD_PATTERN, `expected ${PERIOD_RULE}`)),
          status: query(c, 'status', z.enum([...CHARGE_STATUSES, DOUBLE_PAID])),
          leaseRef: query(c, 'lease', z.string().min(1)),
          account: query(c, 'account', z.string().min(1).max(32)),
          defaultAccount: app.registry.defaultAccount.account,
        },
        pageQuery(c),
      );
      return { charges: page.rows, total: page.total, limit: page.limit, offset: page.offset };
    }),
  );

  http.get(
    '/admin/api/leases',
    json((c) => {
      const page = leasesPage(
        app.db,
        {
          account: query(c, 'account', z.string().min(1).max(32)),
          state: query(c, 'state', z.enum(LEASE_STATES)),
          defaultAccount: app.registry.defaultAccount.account,
        },
        pageQuery(c),
      );
      return { leases: page.rows, total: page.total, limit: page.limit, offset: page.offset };
    }),
  );

  http.get(
    '/admin/api/charges/:id',
    json((c) => {
      const id = parseId(c.req.param('id'));
      const found = showCharge(app.db, id);
      if (!found) throw new RentlinkError('NOT_FOUND', `no charge ${id}`);
      return found;
    }),
  );

  http.post(
    '/admin/api/charges/:id/reissue',
    json(async (c) => {
      const id = parseId(c.req.param('id'));
      const b = await body(c, reissueBody);
      const { attempt } = await reissueCharge(app, id, b.reason || 'reissued through the admin API');
      return { chargeId: id, attempt };
    }),
  );

  http.post(
    '/admin/api/charges/:id/void',
    json(async (c) => {
      const id = parseId(c.req.param('id'));
      const b = await body(c, voidBody);
      voidCharge(app, id, b.reason);
      return { charge: showCharge(app.db, id)?.charge ?? null };
    }),
  );

  http.get(
    '/admin/api/report',
    json((c) => ({
      rows: collectionReport(app.db, {
        period: query(c, 'period', z.string().regex(PERIOD_PATTERN, `expected ${PERIOD_RULE}`)),
      }),
    })),
  );

  http.get(
    '/admin/api/attention',
    json((c) => {
      const page = attentionPage(app.db, app.clock.now(), pageQuery(c));
      return { charges: page.rows, total: page.total, counts: page.counts, limit: page.limit, offset: page.offset };
    }),
  );

  http.all('/admin/api/*', (c) =>
    c.json({ error: `no admin API route for ${c.req.method} ${c.req.path}`, code: 'NOT_FOUND' }, 404),
  );
}
