import { type Static, Type } from '@sinclair/typebox';
import type { SettingsIssue } from '../connector';
import { checkGraphBase, DEFAULT_GRAPH_BASE, DEFAULT_GRAPH_VERSION } from '../meta/graph';

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
    appSecret: Type.Optional(
      Type.String({
        pattern: '^[0-9a-fA-F]{16,64}$',
        description: "The Meta app's secret: it signs every webhook (X-Hub-Signature-256). Stored encrypted.",
        writeOnly: true,
      }),
    ),
    verifyToken: Type.Optional(
      Type.String({
        minLength: 8,
        maxLength: 200,
        pattern: '^[\\x21-\\x7e]+$',
        description:
          'Any string you choose; paste the same in the webhook settings of the Meta app. Stored encrypted.',
        writeOnly: true,
      }),
    ),
    graphApiBase: Type.Optional(
      Type.String({
        format: 'uri',
        maxLength: 2048,
        description: `Graph API server (default ${DEFAULT_GRAPH_BASE})`,
      }),
    ),
    graphApiVersion: Type.Optional(
      Type.String({
        pattern: '^v[0-9]{1,3}\\.[0-9]$',
        description: `Graph API version (default ${DEFAULT_GRAPH_VERSION})`,
      }),
    ),
    displayPhoneNumber: Type.Optional(Type.String({ description: 'Set by the server', readOnly: true })),
    verifiedName: Type.Optional(Type.String({ description: 'Set by the server', readOnly: true })),
  },
  { additionalProperties: false },
);
export type WhatsAppChannelSettings = Static<typeof WhatsAppChannelSettingsSchema>;

export function checkWhatsAppSettings(settings: WhatsAppChannelSettings): SettingsIssue[] {
  return checkGraphBase(settings.graphApiBase, 'graphApiBase');
}
