import { type Static, Type } from '@sinclair/typebox';
import type { SettingsIssue } from '../connector';
import { META_APP_SETTINGS } from '../meta/app-settings';
import { checkGraphBase } from '../meta/graph';

/**
 * Settings of a WhatsApp Cloud API channel, as an administrator finds them in the Meta app
 * (WhatsApp → API Setup): the phone number id, a (system user) access token, the app secret that
 * signs webhooks, and a verify token of their choosing, pasted with the webhook URL. The token,
 * the app secret and the verify token go to the encrypted secrets and are never shown again.
 * `displayPhoneNumber` and `verifiedName` are filled by the server from the Graph API.
 */
export const WhatsAppChannelSettingsSchema = Type.Object(
  {
    phoneNumberId: Type.String({
      pattern: '^[0-9]{5,25}$',
      description: 'The phone number id (WhatsApp → API Setup), not the phone number itself',
    }),
    businessAccountId: Type.Optional(
      Type.String({
        pattern: '^[0-9]{5,25}$',
        description: 'The WhatsApp Business Account id, to list its approved message templates',
      }),
    ),
    accessToken: Type.Optional(
      Type.String({
        minLength: 20,
        maxLength: 1024,
        pattern: '^[A-Za-z0-9_|.-]+$',
        description: 'A permanent (system user) access token. Stored encrypted, never returned.',
        writeOnly: true,
      }),
    ),
    ...META_APP_SETTINGS,
    displayPhoneNumber: Type.Optional(Type.String({ description: 'Set by the server', readOnly: true })),
    verifiedName: Type.Optional(Type.String({ description: 'Set by the server', readOnly: true })),
  },
  { additionalProperties: false },
);
export type WhatsAppChannelSettings = Static<typeof WhatsAppChannelSettingsSchema>;

export function checkWhatsAppSettings(settings: WhatsAppChannelSettings): SettingsIssue[] {
  return checkGraphBase(settings.graphApiBase, 'graphApiBase');
}
