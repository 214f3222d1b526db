import type { ProviderModule } from '../types.js';
import { MyFatoorahProvider } from './client.js';
import { myfatoorahSettingsSchema, type MyFatoorahSettings } from './settings.js';

export type { MyFatoorahSettings } from './settings.js';

/** MyFatoorah (API v2 SendPayment / GetPaymentStatus): one account per country. */
export const myfatoorahModule: ProviderModule<MyFatoorahSettings> = {
  id: 'myfatoorah',
  settingsSchema: myfatoorahSettingsSchema,
  create: (settings, deps) => new MyFatoorahProvider(settings, deps),
};
