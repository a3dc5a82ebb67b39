import { type Static, Type } from '@sinclair/typebox';
import type { SettingsIssue } from '../connector';

/** vk-io's default API base; `api.vk.com/method` is the legacy host. A test peer replaces it. */
export const DEFAULT_API_BASE = 'https://api.vk.ru/method';
/** The API version every call names (vk-io's default). */
export const API_VERSION = '5.199';

/**
 * Settings of a VK community channel (Callback API in, messages.send out). The administrator sends
 * the community id, its access token (messages + photos + docs rights), the Callback API "Secret
 * key" and the confirmation string VK shows for the server. The three secrets are moved to the
 * channel's encrypted secrets and never shown again; `groupName` is filled by the server.
 */
export const VkChannelSettingsSchema = Type.Object(
  {
    groupId: Type.String({
      pattern: '^[1-9][0-9]{0,11}$',
      description: "The community's numeric id (without the minus sign)",
    }),
    accessToken: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9._-]{16,512}$',
        description: 'A community access token with the messages, photos and docs rights. Stored encrypted.',
        writeOnly: true,
      }),
    ),
    secretKey: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9]{1,50}$',
        description: 'The Callback API "Secret key" of the server. Stored encrypted.',
        writeOnly: true,
      }),
    ),
    confirmation: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9]{1,64}$',
        description:
          'The string the Callback API server must return (shown next to the server address in VK)',
        writeOnly: true,
      }),
    ),
    apiBaseUrl: Type.Optional(
      Type.String({
        format: 'uri',
        maxLength: 2048,
        description: `VK API base (default ${DEFAULT_API_BASE})`,
      }),
    ),
    groupName: Type.Optional(
      Type.String({ description: 'Set by the server from groups.getById', readOnly: true }),
    ),
  },
  { additionalProperties: false },
);
export type VkChannelSettings = Static<typeof VkChannelSettingsSchema>;

export interface VkPublicSettings {
  groupId: string;
  groupName: string;
  apiBaseUrl?: string;
  [key: string]: unknown;
}

export function apiBaseOf(settings: { apiBaseUrl?: unknown }): string {
  const base =
    typeof settings.apiBaseUrl === 'string' && settings.apiBaseUrl ? settings.apiBaseUrl : DEFAULT_API_BASE;
  return base.replace(/\/+$/, '');
}

export function checkVkSettings(settings: VkChannelSettings): SettingsIssue[] {
  if (settings.apiBaseUrl === undefined) return [];
  let url: URL;
  try {
    url = new URL(settings.apiBaseUrl);
  } catch {
    return [{ field: 'apiBaseUrl', message: 'must be a valid URL' }];
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return [{ field: 'apiBaseUrl', message: 'must be an http or https URL' }];
  }
  if (url.username || url.password || url.search || url.hash) {
    return [{ field: 'apiBaseUrl', message: 'must be a plain URL without credentials, query or fragment' }];
  }
  return [];
}
