import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { validate as isValidCron } from 'node-cron';
import { z } from 'zod';
import { RentlinkError, errorMessage } from './errors.js';
import { CURRENCY_EXPONENTS, isKnownCurrency } from './money.js';
import { checkAccount, parseAccountsFile, SANDBOX_BASE_URL, type Accounts } from './providers/accounts.js';
import { availableProviders, checkAccountSettings, sandboxCredentials } from './providers/registry.js';
import type { PROVIDER_IDS } from './providers/types.js';
import { CHANNELS, parseChannel } from './providers/types.js';
import { isValidTimeZone } from './time/periods.js';

/**
 * The one place that reads the environment (and `./.env` or ENV_FILE). Every setting is validated,
 * typed and has a default that runs on a fresh machine (SQLite file, private redis-server, built-in
 * sandbox provider). `.env.example` and the README document the same list.
 */

const durationList = z.string().transform((text, ctx) => {
  const parts = text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  const ms = parts.map(parseDuration);
  if (ms.length === 0 || ms.some((v) => v === null || v <= 0)) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a list of durations like 15m,1h,6h,12h` });
    return z.NEVER;
  }
  return ms as number[];
});

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

/** An empty value (`HTTP_PORT=` in a .env file) means "not set": the default applies. */
const emptyAsUnset = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);

const intFrom = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER, message?: string) =>
  z.preprocess(emptyAsUnset, z.coerce.number(message).int(message).min(min, message).max(max, message).default(def));

/** A TCP port; 0 lets the OS pick a free one (what tests use). */
const port = (def: number) => intFrom(def, 0, 65_535, 'must be a port number from 0 (any free port) to 65535');

const numberFrom = (def: number, schema: z.ZodCoercedNumber) => z.preprocess(emptyAsUnset, schema.default(def));

/** A string setting checked by `isValid`, with an operator-readable message. */
const checked = (def: string, isValid: (value: string) => boolean, message: (value: string) => string) =>
  z
    .string()
    .default(def)
    .transform((value) => value.trim())
    .superRefine((value, ctx) => {
      if (!isValid(value)) ctx.addIssue({ code: 'custom', message: message(value) });
    });

/** `redis://…`, `rediss://…` (TLS) or the absolute path of a Unix socket, as ioredis accepts them. */
function isRedisUrl(value: string): boolean {
  if (value.startsWith('/')) return true;
  try {
    const url = new URL(value);
    return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** One duration like `90s`, `15m`, `1h`. */
const duration = (def: string) =>
  z
    .string()
    .default(def)
    .transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === null || ms < 0) {
        ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration like 90s, 15m or 1h` });
        return z.NEVER;
      }
      return ms;
    });

/**
 * An http: or https: URL without credentials (no file:, javascript:, data:, …). Messages name the
 * scheme at most, never the URL: it could carry a password.
 */
const httpUrl = z.string().superRefine((text, ctx) => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'is not a URL (expected e.g. https://rent.example.com)' });
    return;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    ctx.addIssue({ code: 'custom', message: `must be an http:// or https:// URL, not ${url.protocol}` });
  if (url.username !== '' || url.password !== '')
    ctx.addIssue({ code: 'custom', message: 'must not carry a user name or password' });
});

/** The shortest ADMIN_TOKEN accepted: a guessable token would make the login throttle the only defence. */
const ADMIN_TOKEN_MIN_LENGTH = 16;

/** `true`/`false` (also `1`/`0`, `yes`/`no`); unset or empty is false. */
const booleanFlag = optionalString.transform((text, ctx) => {
  if (text === undefined) return false;
  const value = { true: true, 1: true, yes: true, false: false, 0: false, no: false }[text.toLowerCase()];
  if (value === undefined) ctx.addIssue({ code: 'custom', message: `must be true or false, got "${text}"` });
  return value ?? false;
});

/** Bodies up to MAX_BODY_BYTES are held in memory: 64 MiB is far above any webhook or admin form. */
const MAX_BODY_CEILING = 64 * 1024 * 1024;

const envSchema = z.object({
  DATABASE_PATH: z.string().default('./data/rentlink.db'),
  REDIS_URL: optionalString.superRefine((value, ctx) => {
    if (value !== undefined && !isRedisUrl(value))
      ctx.addIssue({ code: 'custom', message: 'must be a redis:// or rediss:// URL (e.g. redis://127.0.0.1:6379)' });
  }),
  REDIS_CONNECT_TIMEOUT_MS: intFrom(10_000, 1),
  REDIS_DATA_DIR: z.string().default('./data/redis'),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only')
    .default('rentlink'),

  /** JSON file of accounts (see README); without it the MYFATOORAH_* settings are the account `default`. */
  ACCOUNTS_FILE: optionalString,

  TICK_CRON: checked(
    '* * * * *',
    (value) => isValidCron(value),
    (value) => `"${value}" is not a cron expression (e.g. "* * * * *" for every minute)`,
  ),
  CATCH_UP_PERIODS: intFrom(2),
  /** Largest lease file `rentlink import` reads (bytes). */
  IMPORT_MAX_BYTES: intFrom(64 * 1024 * 1024, 1),

  MYFATOORAH_TOKEN: optionalString,
  MYFATOORAH_BASE_URL: httpUrl.default('https://apitest.myfatoorah.com'),
  MYFATOORAH_TIMEZONE: checked(
    'Asia/Kuwait',
    isValidTimeZone,
    (value) => `"${value}" is not an IANA time zone (e.g. Asia/Kuwait, Asia/Riyadh, Asia/Dubai)`,
  ),
  MYFATOORAH_ACCOUNT_CURRENCY: checked(
    'KWD',
    isKnownCurrency,
    (value) => `"${value}" is not a currency rentlink knows (${Object.keys(CURRENCY_EXPONENTS).join(', ')})`,
  ),
  MYFATOORAH_WEBHOOK_SECRET: optionalString,
  PROVIDER_TIMEOUT_MS: intFrom(15_000, 100),

  PUBLIC_BASE_URL: optionalString.pipe(httpUrl.optional()),
  HTTP_HOST: z.string().trim().min(1, 'must name an interface, e.g. 127.0.0.1').default('127.0.0.1'),
  HTTP_PORT: port(3000),
  /** Largest request body accepted on webhooks, the callback and /admin (413 beyond). */
  MAX_BODY_BYTES: intFrom(65_536, 1024).pipe(z.number().max(MAX_BODY_CEILING, `at most ${MAX_BODY_CEILING} bytes`)),

  SEND_CONCURRENCY: intFrom(4, 1),
  SEND_ATTEMPTS: intFrom(8, 1),
  RETRY_BASE_DELAY_MS: intFrom(5_000, 1),
  STATUS_CONCURRENCY: intFrom(4, 1),
  STATUS_ATTEMPTS: intFrom(8, 1),
  MAX_STARTED_ATTEMPTS: intFrom(200, 1),
  STATUS_RATE_LIMIT_PER_SECOND: numberFrom(5, z.coerce.number().positive()),
  POLL_PLAN: durationList.default(['15m', '1h', '6h', '12h'].map((d) => parseDuration(d) as number)),
  POLL_JITTER: numberFrom(0.1, z.coerce.number().min(0).max(1)),
  /** A link is declared expired only by a check this long after its expiry (a last-second payment settles). */
  EXPIRY_GRACE: duration('1m'),
  /** One more check this long after an expired or superseded link's expiry, for payments that land late. */
  FINAL_CHECK_AFTER: duration('1h'),
  /** Queued work still due after this long gets its job looked at in Redis, and is queued again if the job is gone or dead. */
  REQUEUE_AFTER: duration('10m'),
  REISSUE_CHANNEL: optionalString.transform((text, ctx) => {
    if (text === undefined) return undefined;
    const channel = parseChannel(text);
    if (!channel) ctx.addIssue({ code: 'custom', message: `must be one of ${CHANNELS.join(', ')}, got "${text}"` });
    return channel ?? undefined;
  }),

  ADMIN_TOKEN: optionalString.pipe(
    z
      .string()
      .min(ADMIN_TOKEN_MIN_LENGTH, {
        error: (iss) =>
          `must be at least ${ADMIN_TOKEN_MIN_LENGTH} characters, got ${String(iss.input).length}; use a long random value, e.g. \`openssl rand -base64 24\``,
      })
      .optional(),
  ),
  /** Behind a reverse proxy: take the client's address from the last X-Forwarded-For entry. */
  TRUST_PROXY: booleanFlag,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** `auto`: human lines when stderr is a terminal, JSON lines otherwise. */
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
  SHUTDOWN_TIMEOUT_MS: intFrom(30_000, 0),
  SANDBOX_PORT: port(0),
  /**
   * How long a worker holds a job before BullMQ deems it stalled (its process died) and hands it to
   * another worker; also how often workers look for stalled jobs.
   */
  JOB_LOCK_MS: intFrom(30_000, 1000),
  /** Testing only: read business time (epoch ms) from this file, so a test can move the time of processes it runs. */
  CLOCK_FILE: optionalString,
  /** Read before the rest (see readEnvironment), which sets it to the file it read, if any. */
  ENV_FILE: optionalString,
});

export type Config = z.infer<typeof envSchema> & {
  /** The accounts to collect through, validated (ACCOUNTS_FILE, the MYFATOORAH_* shorthand, or the sandbox). */
  accounts: Accounts;
};
export type Environment = Record<string, string | undefined>;

/**
 * Parses settings from an environment-like object. Without one, the process's own: its environment,
 * filled in from `./.env` or ENV_FILE (see readEnvironment). Unknown variables are ignored; every bad
 * value is reported at once in one CONFIG_INVALID error, each line naming its variable.
 */
export function loadConfig(env: Environment = readEnvironment(process.env, process.cwd())): Config {
  const result = envSchema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    const source = env['ENV_FILE'] ? ` (environment, then ${env['ENV_FILE']})` : '';
    throw new RentlinkError('CONFIG_INVALID', `invalid configuration${source}:\n  ${lines.join('\n  ')}`);
  }
  return { ...result.data, accounts: loadAccounts(result.data, env) };
}

/**
 * ACCOUNTS_FILE when set; otherwise MYFATOORAH_TOKEN makes the MYFATOORAH_* settings the account
 * `default`; with no credentials at all, one sandbox account per provider: `default` (MyFatoorah),
 * `aps` and `paymennt`.
 */
function loadAccounts(config: z.infer<typeof envSchema>, env: Record<string, string | undefined>): Accounts {
  const placeholders = (provider: (typeof PROVIDER_IDS)[number]) => sandboxCredentials(provider, 'placeholder');
  if (config.ACCOUNTS_FILE) {
    let text: string;
    try {
      text = readFileSync(config.ACCOUNTS_FILE, 'utf8');
    } catch (err) {
      throw new RentlinkError(
        'CONFIG_INVALID',
        `ACCOUNTS_FILE ${config.ACCOUNTS_FILE} cannot be read: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    return parseAccountsFile(text, config.ACCOUNTS_FILE, env, checkAccountSettings, placeholders);
  }
  const mf = {
    name: 'default',
    provider: 'myfatoorah',
    baseUrl: config.MYFATOORAH_TOKEN ? config.MYFATOORAH_BASE_URL : SANDBOX_BASE_URL,
    timeZone: config.MYFATOORAH_TIMEZONE,
    currency: config.MYFATOORAH_ACCOUNT_CURRENCY,
    ...(config.MYFATOORAH_TOKEN ? { token: config.MYFATOORAH_TOKEN } : {}),
    ...(config.MYFATOORAH_WEBHOOK_SECRET ? { webhookSecret: config.MYFATOORAH_WEBHOOK_SECRET } : {}),
  };
  const entries: Array<Record<string, unknown>> = [mf];
  if (!config.MYFATOORAH_TOKEN) {
    for (const provider of availableProviders().filter((p) => p !== 'myfatoorah')) {
      entries.push({ name: provider, provider, baseUrl: SANDBOX_BASE_URL });
    }
  }
  const issues: string[] = [];
  const list = entries
    .map((entry) =>
      checkAccount(entry, checkAccountSettings, placeholders, (key, message) =>
        issues.push(
          `${entry === mf ? `MYFATOORAH_${key.toUpperCase()}` : `sandbox account ${String(entry['name'])}, ${key}`}: ${message}`,
        ),
      ),
    )
    .filter((a) => a !== null);
  if (issues.length > 0) throw new RentlinkError('CONFIG_INVALID', `invalid configuration:\n  ${issues.join('\n  ')}`);
  return { defaultName: 'default', list };
}

/** The file rentlink reads settings from when ENV_FILE does not name another. */
const DEFAULT_ENV_FILE = '.env';

/**
 * `env` filled in from a dotenv file: ENV_FILE when set (relative to `cwd`; it must exist), else
 * `<cwd>/.env` when there is one. Parsed with Node's own parser; a variable set in `env` always wins
 * over the file (also when it is set to an empty string). Values are never logged.
 */
export function readEnvironment(env: Environment, cwd: string): Environment {
  const explicit = env['ENV_FILE']?.trim();
  const path = resolve(cwd, explicit || DEFAULT_ENV_FILE);
  const text = readEnvFile(path, Boolean(explicit));
  if (text === null) return env;
  const fromFile = parseEnvText(text, path);
  const merged: Environment = { ...fromFile };
  for (const [key, value] of Object.entries(env)) if (value !== undefined) merged[key] = value;
  // Which file filled in the environment, so errors (and the config) can say where a value came from.
  merged['ENV_FILE'] = path;
  return merged;
}

function readEnvFile(path: string, required: boolean): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const missing = err instanceof Error && 'code' in err && err.code === 'ENOENT';
    if (missing && !required) return null;
    throw new RentlinkError('CONFIG_INVALID', `ENV_FILE: cannot read ${path}: ${errorMessage(err)}`, { cause: err });
  }
}

function parseEnvText(text: string, path: string): Environment {
  try {
    return parseEnv(text);
  } catch (err) {
    throw new RentlinkError('CONFIG_INVALID', `${path} is not a dotenv file: ${errorMessage(err)}`, { cause: err });
  }
}

/** `15m` → 900000. Units: ms, s, m, h, d. Returns null when it is not a duration. */
export function parseDuration(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) return null;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Math.round(Number(match[1]) * unit);
}
