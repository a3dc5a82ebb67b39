import { type Static, Type } from '@sinclair/typebox';
import type { SettingsIssue } from '../connector';

/** Public settings of an API channel (LN-6): where operator messages are delivered. */
export const ApiChannelSettingsSchema = Type.Object(
  {
    webhookUrl: Type.String({
      format: 'uri',
      minLength: 1,
      maxLength: 2048,
      description: 'http(s) URL that receives operator messages as signed JSON POSTs (X-Openlines-Signature)',
    }),
  },
  { additionalProperties: false },
);
export type ApiChannelSettings = Static<typeof ApiChannelSettingsSchema>;

export function checkApiSettings(settings: ApiChannelSettings): SettingsIssue[] {
  let url: URL;
  try {
    url = new URL(settings.webhookUrl);
  } catch {
    return [{ field: 'webhookUrl', message: 'must be a valid URL' }];
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return [{ field: 'webhookUrl', message: 'must be an http or https URL' }];
  }
  if (url.username || url.password) {
    // Settings are public (shown in the API); the signature is what authenticates us.
    return [{ field: 'webhookUrl', message: 'must not contain credentials; verify the signature instead' }];
  }
  return [];
}
