import type { ProviderModule } from '../types.js';
import { PaymenntProvider } from './client.js';
import { paymenntSettingsSchema, type PaymenntSettings } from './settings.js';

/**
 * The paymennt provider folder's entry point for the account registry: the accounts-file entry it
 * accepts and how to build a client for it.
 */
export const paymenntModule: ProviderModule<PaymenntSettings> = {
  id: 'paymennt',
  settingsSchema: paymenntSettingsSchema,
  create: (settings, deps) => new PaymenntProvider(settings, deps),
};

export { PaymenntProvider } from './client.js';
export { paymenntSettingsSchema, type PaymenntSettings } from './settings.js';
