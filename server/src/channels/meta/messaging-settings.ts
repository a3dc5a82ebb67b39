import { type Static, Type } from '@sinclair/typebox';
import type { SettingsIssue } from '../connector';
import { META_APP_SETTINGS } from './app-settings';
import { checkGraphBase } from './graph';

/**
 * Settings of a Messenger Page or an Instagram professional account (Messenger Platform; the
 * Instagram Messaging API through a Facebook Page): its id, the Page access token, the app
 * secret that signs webhooks and a verify token of the administrator's choosing. Secrets are moved
 * to the encrypted secrets and never shown again; `name` is filled by the server.
 */
export const MetaMessagingSettingsSchema = Type.Object(
  {
    pageId: Type.String({
      pattern: '^[0-9]{5,25}$',
      description: 'The Facebook Page id (Messenger) or the Instagram professional account id (Instagram)',
    }),
    pageAccessToken: Type.Optional(
      Type.String({
        minLength: 20,
        maxLength: 1024,
        pattern: '^[A-Za-z0-9_|.-]+$',
        description:
          'A Page access token with pages_messaging (instagram_manage_messages for Instagram). Stored encrypted.',
        writeOnly: true,
      }),
    ),
    humanAgentTag: Type.Optional(
      Type.Boolean({
        default: false,
        description:
          'The app has the Human Agent permission: outside the 24-hour window, replies go with the HUMAN_AGENT tag (up to 7 days after the client last wrote)',
      }),
    ),
    ...META_APP_SETTINGS,
    name: Type.Optional(Type.String({ description: 'Set by the server', readOnly: true })),
  },
  { additionalProperties: false },
);
export type MetaMessagingSettings = Static<typeof MetaMessagingSettingsSchema>;

export function checkMetaMessagingSettings(settings: MetaMessagingSettings): SettingsIssue[] {
  return checkGraphBase(settings.graphApiBase, 'graphApiBase');
}
