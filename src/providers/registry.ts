import { createHmac } from 'node:crypto';
import { RentlinkError } from '../errors.js';
import type { AccountConfig, Accounts, AccountSettingsCheck } from './accounts.js';
import { apsModule } from './aps/index.js';
import { myfatoorahModule } from './myfatoorah/index.js';
import { paymenntModule } from './paymennt/index.js';
import type { CallObserver, PaymentProvider, ProviderDeps, ProviderId, ProviderModule } from './types.js';

/**
 * Builds the configured accounts into providers. Jobs reach a provider through the account a link
 * row names — never through a process-wide default — so a link is polled, verified and canceled by
 * the account that created it whatever the defaults are now.
 */

type AnyModule = ProviderModule<{ name: string; baseUrl: string }>;

const MODULES: Partial<Record<ProviderId, AnyModule>> = {
  myfatoorah: myfatoorahModule as unknown as AnyModule,
  aps: apsModule as unknown as AnyModule,
  paymennt: paymenntModule as unknown as AnyModule,
};

/** The providers this build can talk to. */
export function availableProviders(): ProviderId[] {
  return Object.keys(MODULES) as ProviderId[];
}

/** Checks an account's settings with its provider's own schema (for the accounts file and the env shorthand). */
export const checkAccountSettings: AccountSettingsCheck = (provider, raw) => {
  const module = MODULES[provider];
  if (!module) return { ok: false, issues: [`provider: ${provider} is not available in this build`] };
  const parsed = module.settingsSchema.safeParse(raw);
  if (parsed.success) return { ok: true, settings: parsed.data as AccountConfig['settings'] };
  return { ok: false, issues: parsed.error.issues.map((i) => `${i.path.join('.') || 'settings'}: ${i.message}`) };
};

/** Where the built-in sandbox answers for each provider, relative to its root URL. */
const SANDBOX_PATHS: Record<ProviderId, string> = { myfatoorah: '', aps: '', paymennt: '/mer/v2.0' };

/**
 * The credentials of a sandbox account, derived from the install's random sandbox seed, so the fake
 * (which checks them) and the client (which sends them) agree without a shared constant anyone could
 * sign webhooks with. `seed` 'placeholder' gives values that only pass validation.
 */
export function sandboxCredentials(provider: ProviderId, seed: string): Record<string, string> {
  const derive = (field: string, length = 32) =>
    createHmac('sha256', seed).update(`${provider}:${field}`).digest('base64url').slice(0, length);
  switch (provider) {
    case 'myfatoorah':
      return { token: derive('token'), webhookSecret: derive('webhookSecret') };
    case 'aps':
      return {
        accessCode: derive('accessCode', 20),
        merchantIdentifier: 'SANDBOX',
        requestPhrase: derive('requestPhrase', 24),
        responsePhrase: derive('responsePhrase', 24),
      };
    case 'paymennt':
      return { apiKey: derive('apiKey'), apiSecret: derive('apiSecret'), webhookHmacKey: derive('webhookHmacKey') };
  }
}

/** Where the sandbox runs and the seed its credentials come from. */
export interface SandboxEndpoint {
  url: string;
  seed: string;
}

export interface AccountRegistry {
  /** The account leases without an `account` use. */
  readonly defaultAccount: PaymentProvider;
  /** The provider of a named account. @throws ACCOUNT_UNKNOWN when no such account is configured. */
  get(account: string): PaymentProvider;
  /** The account a lease uses: its own, or the default. */
  forLease(account: string | null): PaymentProvider;
  has(account: string): boolean;
  all(): PaymentProvider[];
}

/**
 * Creates a client per account. Sandbox accounts get the running sandbox's URL and credentials; without
 * `sandbox` (commands that never call a provider, e.g. `import`) they keep placeholders.
 */
export function createRegistry(
  accounts: Accounts,
  deps: Omit<ProviderDeps, 'observe'>,
  observe?: (labels: { provider: ProviderId; account: string }) => CallObserver,
  sandbox?: SandboxEndpoint,
): AccountRegistry {
  const byName = new Map<string, PaymentProvider>();
  for (const account of accounts.list) {
    const observer = observe?.({ provider: account.provider, account: account.name });
    byName.set(account.name, createProvider(account, { ...deps, ...(observer ? { observe: observer } : {}) }, sandbox));
  }
  const get = (name: string): PaymentProvider => {
    const provider = byName.get(name);
    if (!provider) {
      throw new RentlinkError(
        'ACCOUNT_UNKNOWN',
        `account "${name}" is not configured (configured: ${[...byName.keys()].join(', ')})`,
      );
    }
    return provider;
  };
  return {
    defaultAccount: get(accounts.defaultName),
    get,
    forLease: (account) => get(account ?? accounts.defaultName),
    has: (name) => byName.has(name),
    all: () => [...byName.values()],
  };
}

function createProvider(account: AccountConfig, deps: ProviderDeps, sandbox: SandboxEndpoint | undefined) {
  const module = MODULES[account.provider];
  if (!module) throw new RentlinkError('CONFIG_INVALID', `provider ${account.provider} is not available`);
  const settings =
    account.sandbox && sandbox
      ? {
          ...account.settings,
          ...sandboxCredentials(account.provider, sandbox.seed),
          baseUrl: `${sandbox.url}${SANDBOX_PATHS[account.provider]}`,
        }
      : account.settings;
  return module.create(settings, { ...deps, sandbox: account.sandbox });
}
