import { z } from 'zod';
import { RentlinkError } from '../errors.js';
import { PROVIDER_IDS, type ProviderId } from './types.js';

/**
 * The accounts rentlink collects through. An account is one set of credentials at one provider
 * (MyFatoorah issues one token per country; a landlord may also use APS or paymennt). They come from
 * ACCOUNTS_FILE; without one, the MYFATOORAH_* settings are an account named `default`; with no
 * credentials at all, every provider's account points at the built-in sandbox.
 *
 * This module reads and checks the file's shape and resolves `env:VAR` secrets; each provider's own
 * settings schema (in its folder) checks the rest, through {@link AccountSettingsCheck}.
 */

/** One account, its settings validated by its provider's schema. */
export interface AccountConfig {
  name: string;
  provider: ProviderId;
  /** Points at the built-in sandbox (`"baseUrl": "sandbox"`): its URL and credentials are filled in at start. */
  sandbox: boolean;
  settings: { name: string; baseUrl: string } & Record<string, unknown>;
}

export interface Accounts {
  /** The account a lease without an `account` column uses. */
  defaultName: string;
  list: AccountConfig[];
}

/** Validates one account's settings with its provider's schema; returns the issues as `key: message`. */
export type AccountSettingsCheck = (
  provider: ProviderId,
  raw: Record<string, unknown>,
) => { ok: true; settings: AccountConfig['settings'] } | { ok: false; issues: string[] };

/** Account names end up in queue names and webhook URLs. */
export const ACCOUNT_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;
/** The base URL that means "the built-in sandbox". */
export const SANDBOX_BASE_URL = 'sandbox';
/** Stands in for the sandbox's URL until it runs (it listens on a port chosen at start). */
const SANDBOX_PLACEHOLDER_URL = 'http://sandbox.invalid';

const fileSchema = z.object({
  default: z.string().min(1, 'default must name one of the accounts'),
  accounts: z
    .array(
      z.looseObject({
        name: z.string().regex(ACCOUNT_NAME, 'name must be 1–32 lower-case letters, digits, "_" or "-"'),
        provider: z.enum(PROVIDER_IDS, { error: `provider must be one of ${PROVIDER_IDS.join(', ')}` }),
      }),
    )
    .min(1, 'accounts must list at least one account'),
});

/**
 * Parses an accounts file. Every problem is collected and thrown at once as CONFIG_INVALID, each line
 * naming the account and the key, e.g. `account "kw", key token: env:MF_KW_TOKEN is not set`.
 */
export function parseAccountsFile(
  text: string,
  source: string,
  env: Record<string, string | undefined>,
  check: AccountSettingsCheck,
  sandboxDefaults: (provider: ProviderId) => Record<string, string>,
): Accounts {
  const fail = (lines: string[]): never => {
    throw new RentlinkError('CONFIG_INVALID', `accounts file ${source} is not valid:\n  ${lines.join('\n  ')}`);
  };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return fail([`not JSON: ${(err as Error).message}`]);
  }
  const shape = fileSchema.safeParse(json);
  if (!shape.success) return fail(shape.error.issues.map((i) => `${describePath(json, i.path)}: ${i.message}`));
  const issues: string[] = [];
  const list: AccountConfig[] = [];
  const seen = new Set<string>();
  for (const entry of shape.data.accounts) {
    const where = `account "${entry.name}"`;
    if (seen.has(entry.name)) issues.push(`${where}: the name appears twice`);
    seen.add(entry.name);
    const resolved = resolveSecrets(entry, env, (key, message) => issues.push(`${where}, key ${key}: ${message}`));
    const account = checkAccount(resolved, check, sandboxDefaults, (key, message) =>
      issues.push(`${where}, key ${key}: ${message}`),
    );
    if (account) list.push(account);
  }
  if (!seen.has(shape.data.default)) issues.push(`default: "${shape.data.default}" is not one of the accounts`);
  if (issues.length > 0) fail(issues);
  return { defaultName: shape.data.default, list };
}

/**
 * Validates one account entry (secrets already resolved). A sandbox entry gets placeholder credentials
 * and URL for what it leaves out; the real ones are filled in when the sandbox starts.
 */
export function checkAccount(
  raw: Record<string, unknown>,
  check: AccountSettingsCheck,
  sandboxDefaults: (provider: ProviderId) => Record<string, string>,
  report: (key: string, message: string) => void,
): AccountConfig | null {
  const provider = raw['provider'] as ProviderId;
  const sandbox = raw['baseUrl'] === SANDBOX_BASE_URL;
  const candidate = sandbox ? { ...sandboxDefaults(provider), ...raw, baseUrl: SANDBOX_PLACEHOLDER_URL } : raw;
  const result = check(provider, candidate);
  if (!result.ok) {
    for (const issue of result.issues) {
      const [key, ...rest] = issue.split(': ');
      report(key ?? 'settings', rest.join(': '));
    }
    return null;
  }
  return { name: String(raw['name']), provider, sandbox, settings: result.settings };
}

/** `"env:VAR"` → the variable's value; a reference to an unset variable is a problem of that key. */
function resolveSecrets(
  entry: Record<string, unknown>,
  env: Record<string, string | undefined>,
  report: (key: string, message: string) => void,
): Record<string, unknown> {
  const resolved: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(entry)) {
    const name = typeof value === 'string' && value.startsWith('env:') ? value.slice(4) : null;
    if (name === null) {
      resolved[key] = value;
      continue;
    }
    const fromEnv = env[name];
    if (fromEnv === undefined || fromEnv.trim() === '') report(key, `env:${name} is not set in the environment`);
    else resolved[key] = fromEnv.trim();
  }
  return resolved;
}

/** Names an issue's place in the file by account name where it can (`account "kw", key provider`). */
function describePath(json: unknown, path: PropertyKey[]): string {
  if (path[0] === 'accounts' && typeof path[1] === 'number') {
    const entry = (json as { accounts?: Array<{ name?: unknown }> }).accounts?.[path[1]];
    const name = typeof entry?.name === 'string' ? `account "${entry.name}"` : `accounts[${path[1]}]`;
    return path.length > 2 ? `${name}, key ${path.slice(2).join('.')}` : name;
  }
  return path.join('.') || 'file';
}
