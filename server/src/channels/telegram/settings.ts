import { type Static, Type } from '@sinclair/typebox';
import type { SettingsIssue } from '../connector';

/** The official Bot API server; a self-hosted `telegram-bot-api` (or a test peer) can replace it. */
export const DEFAULT_API_ROOT = 'https://api.telegram.org';

/** How updates reach us: `auto` is a webhook when the server has an https PUBLIC_URL, else polling. */
export const UPDATE_MODES = ['auto', 'webhook', 'polling'] as const;
export type UpdateMode = (typeof UPDATE_MODES)[number];

/**
 * Settings of a Telegram channel. The administrator sends `botToken` (write-only: it is moved to
 * the channel's encrypted secrets and never shown again) and optionally `updates` and `apiRoot`.
 * `botId`, `botUsername` and `botName` are filled by the server from `getMe`; values sent for them
 * are ignored (they are allowed because an update merges the stored settings with the new ones).
 */
export const TelegramChannelSettingsSchema = Type.Object(
  {
    botToken: Type.Optional(
      Type.String({
        pattern: '^[0-9]{1,20}:[A-Za-z0-9_-]{20,100}$',
        description:
          'The token @BotFather gave for the bot (123456789:AA…). Stored encrypted, never returned.',
        writeOnly: true,
      }),
    ),
    updates: Type.Optional(
      Type.Union(
        UPDATE_MODES.map((mode) => Type.Literal(mode)),
        {
          default: 'auto',
          description:
            'auto: a webhook when PUBLIC_URL is https, otherwise long polling; webhook or polling force one',
        },
      ),
    ),
    apiRoot: Type.Optional(
      Type.String({
        format: 'uri',
        maxLength: 2048,
        description: `Bot API server (default ${DEFAULT_API_ROOT}); set it for a self-hosted telegram-bot-api`,
      }),
    ),
    botId: Type.Optional(Type.String({ description: 'Set by the server from getMe', readOnly: true })),
    botUsername: Type.Optional(Type.String({ description: 'Set by the server from getMe', readOnly: true })),
    botName: Type.Optional(Type.String({ description: 'Set by the server from getMe', readOnly: true })),
  },
  { additionalProperties: false },
);
export type TelegramChannelSettings = Static<typeof TelegramChannelSettingsSchema>;

/** The settings stored (and shown) for a connected bot: no token. */
export interface TelegramPublicSettings {
  botId: string;
  botUsername: string;
  botName: string;
  updates: UpdateMode;
  apiRoot?: string;
  [key: string]: unknown;
}

/** The API root without a trailing slash (grammY refuses one). */
export function apiRootOf(settings: { apiRoot?: unknown }): string {
  const root = typeof settings.apiRoot === 'string' && settings.apiRoot ? settings.apiRoot : DEFAULT_API_ROOT;
  return root.replace(/\/+$/, '');
}

export function checkTelegramSettings(settings: TelegramChannelSettings): SettingsIssue[] {
  if (settings.apiRoot === undefined) return [];
  let url: URL;
  try {
    url = new URL(settings.apiRoot);
  } catch {
    return [{ field: 'apiRoot', message: 'must be a valid URL' }];
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return [{ field: 'apiRoot', message: 'must be an http or https URL' }];
  }
  if (url.username || url.password || url.search || url.hash) {
    return [{ field: 'apiRoot', message: 'must be a plain URL without credentials, query or fragment' }];
  }
  return [];
}

/**
 * Webhook or polling for a channel on this server. `auto` needs a public https address, since
 * Telegram delivers webhooks only over https (a self-hosted Bot API server also takes http:
 * force `webhook` for it).
 */
export function resolveUpdateMode(
  settings: { updates?: unknown },
  publicUrl: string | null,
): 'webhook' | 'polling' {
  const mode = settings.updates;
  if (mode === 'webhook' || mode === 'polling') return mode;
  return publicUrl?.startsWith('https://') ? 'webhook' : 'polling';
}
