import { randomBytes } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { currentOwner, readMarker, sharedServiceConflict, writeMarker, type MarkerOwner } from '../markers.js';
import type { AccountConfig } from '../providers/accounts.js';
import { sandboxCredentials } from '../providers/registry.js';
import type { ProviderId } from '../providers/types.js';
import type { Clock } from '../time/clock.js';
import { startFakeHost, type FakeContext, type FakeHost, type ProviderFake, type SandboxLogger } from './host.js';
import { createApsFake } from './aps/index.js';
import { createMyFatoorahFake } from './myfatoorah/index.js';
import { createPaymenntFake } from './paymennt/index.js';
import { fileStore, memoryStore } from './store.js';

/**
 * The built-in sandbox that stands in for the providers when an account points at it (no credentials
 * configured, or `"baseUrl": "sandbox"`). Dev only: the app loads this module with a dynamic import,
 * never on the production path.
 *
 * It keeps its records next to the database and tries its previous port again, so links made by
 * `demo` or `tick` stay payable and checkable after a restart; a process that finds another's sandbox
 * running uses it instead. Credentials are derived from a random seed kept in the marker file (mode
 * 0600), so nobody can sign webhooks for the sandbox accounts with a public constant.
 */

export interface LocalSandbox {
  url: string;
  /** The seed the sandbox accounts' credentials derive from. */
  seed: string;
  /** Null when another rentlink process runs the sandbox this one uses. */
  host: FakeHost | null;
}

export interface LocalSandboxOptions {
  databasePath: string;
  /** SANDBOX_PORT; 0: the previous port, else any free one. */
  port: number;
  clock: Clock;
  logger?: SandboxLogger;
  /** The accounts that point at the sandbox. */
  accounts: AccountConfig[];
  /** The worker's HTTP origin, when it runs: the fakes send their webhooks to its routes. */
  webhookBase?: string;
  /**
   * For `start`: refuse to use a sandbox another rentlink process runs (it lives inside that process
   * and goes when it stops). Short-lived commands share it.
   */
  exclusive?: boolean;
}

interface SandboxMarker extends Partial<MarkerOwner> {
  url: string;
  port: number;
  seed: string;
}

export async function provideLocalSandbox(options: LocalSandboxOptions): Promise<LocalSandbox> {
  const dir = options.databasePath === ':memory:' ? null : dirname(resolve(options.databasePath));
  const markerPath = dir ? join(dir, 'sandbox.json') : null;
  const saved = readMarker<SandboxMarker>(markerPath);
  if (saved?.seed && (await answers(saved.url))) {
    // It answers, so the process it lives in is running (whatever pid an older marker lacks).
    if (options.exclusive && saved.ownerPid !== process.pid) {
      throw sharedServiceConflict('built-in sandbox provider', dir ?? '', saved);
    }
    return { url: saved.url, seed: saved.seed, host: null };
  }
  const seed = saved?.seed ?? randomBytes(24).toString('base64url');
  const host = await startOnPreferredPort(options.port || saved?.port || 0, (port) =>
    startFakeHost((ctx) => buildFakes(options, seed, ctx), {
      port,
      clock: options.clock,
      ...(options.logger ? { logger: options.logger } : {}),
      store: dir ? fileStore(join(dir, 'sandbox.db')) : memoryStore(),
    }),
  );
  if (markerPath) {
    const marker: SandboxMarker = { url: host.url, port: host.port, seed, ...currentOwner() };
    writeMarker(markerPath, marker, 0o600);
  }
  return { url: host.url, seed, host };
}

/**
 * One fake per provider that a sandbox account uses, with the credentials derived for it. Webhooks go
 * to the worker's route of the first sandbox account of that provider.
 */
function buildFakes(options: LocalSandboxOptions, seed: string, ctx: FakeContext): ProviderFake[] {
  const fakes: ProviderFake[] = [];
  const first = (provider: ProviderId) => options.accounts.find((a) => a.provider === provider);
  const webhookTo = (provider: ProviderId, account: AccountConfig) =>
    options.webhookBase ? { webhookUrl: `${options.webhookBase}/webhooks/${provider}/${account.name}` } : {};
  const mf = first('myfatoorah');
  if (mf) {
    const c = sandboxCredentials('myfatoorah', seed);
    const webhook = webhookTo('myfatoorah', mf);
    const options = {
      token: String(c['token']),
      accountTimeZone: String(mf.settings['timeZone'] ?? 'Asia/Kuwait'),
      currency: String(mf.settings['currency'] ?? 'KWD'),
      ...(webhook.webhookUrl ? { ...webhook, webhookSecret: String(c['webhookSecret']) } : {}),
    };
    fakes.push(createMyFatoorahFake(options, ctx).fake);
  }
  const aps = first('aps');
  if (aps) {
    const c = sandboxCredentials('aps', seed);
    const options = {
      accessCode: String(c['accessCode']),
      merchantIdentifier: String(c['merchantIdentifier']),
      requestPhrase: String(c['requestPhrase']),
      responsePhrase: String(c['responsePhrase']),
      ...webhookTo('aps', aps),
    };
    fakes.push(createApsFake(options, ctx).fake);
  }
  const paymennt = first('paymennt');
  if (paymennt) {
    const c = sandboxCredentials('paymennt', seed);
    const options = {
      apiKey: String(c['apiKey']),
      apiSecret: String(c['apiSecret']),
      webhookHmacKey: String(c['webhookHmacKey']),
      ...webhookTo('paymennt', paymennt),
    };
    fakes.push(createPaymenntFake(options, ctx).fake);
  }
  return fakes;
}

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/_sandbox/health`, { signal: AbortSignal.timeout(500) })).ok;
  } catch {
    return false;
  }
}

async function startOnPreferredPort(port: number, start: (port: number) => Promise<FakeHost>): Promise<FakeHost> {
  try {
    return await start(port);
  } catch (err) {
    if (port === 0 || !(err instanceof Error && 'code' in err && err.code === 'EADDRINUSE')) throw err;
    return start(0);
  }
}
