import type { ProviderModule } from '../types.js';
import { ApsProvider } from './client.js';
import { apsSettingsSchema, type ApsSettings } from './settings.js';

/**
 * Amazon Payment Services (PayFort) payment links, as the account registry sees them: the accounts
 * file entry it accepts and how a client is built from it.
 */

export { ApsProvider, type ApsProviderOptions } from './client.js';
export { apsSettingsSchema, type ApsSettings } from './settings.js';
export { apsSignature, apsSignatureText, verifyApsSignature, type ApsShaType } from './signature.js';

export const apsModule: ProviderModule<ApsSettings> = {
  id: 'aps',
  settingsSchema: apsSettingsSchema,
  create: (settings, deps) =>
    new ApsProvider({
      settings,
      clock: deps.clock,
      timeoutMs: deps.timeoutMs,
      sandbox: deps.sandbox,
      ...(deps.observe ? { observe: deps.observe } : {}),
    }),
};
