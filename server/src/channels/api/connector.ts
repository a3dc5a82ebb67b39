import { randomBytes } from 'node:crypto';
import { defineConnector, type PreparedChannel } from '../connector';
import { sendToWebhook } from './outbound';
import { type ApiChannelSettings, ApiChannelSettingsSchema, checkApiSettings } from './settings';

/** Prefix of the bearer token senders use on POST /api/v1/channel-api/messages. */
export const INBOUND_TOKEN_PREFIX = 'olc_';
/** Prefix of the secret that signs webhook deliveries. */
export const WEBHOOK_SECRET_PREFIX = 'olw_';

/** The inbound route, under the API prefix (channels/api/edge.ts). */
export const INBOUND_ROUTE = '/channel-api/messages';

const newSecret = (prefix: string) => prefix + randomBytes(32).toString('base64url');

/**
 * The generic API channel (LN-6): any system talks to a line over REST.
 *   inbound   POST /api/v1/channel-api/messages, `Authorization: Bearer olc_…`, idempotent on
 *             the sender's `externalId` (edge.ts; the body is typed by the route's schema and
 *             mapped by inbound.ts, so this connector has no verifyInbound/parseInbound and the
 *             generic webhook path refuses it);
 *   outbound  operator messages POSTed as signed JSON to `settings.webhookUrl` (see delivery/signature.ts).
 * Secrets: the inbound token (stored hashed) and the webhook secret (stored encrypted), both shown
 * once on creation and on rotation.
 */
export const apiConnector = defineConnector<ApiChannelSettings>({
  kind: 'api',
  title: 'API',
  settingsSchema: ApiChannelSettingsSchema,
  formFields: ['webhookUrl'],
  inboundPath: `/api/v1${INBOUND_ROUTE}`,
  checkSettings: checkApiSettings,

  async prepare({ settings, current, rotate }): Promise<PreparedChannel> {
    const publicSettings = { webhookUrl: settings.webhookUrl };
    if (current && !rotate) return { settings: publicSettings, secrets: current.secrets, reveal: {} };
    const inboundToken = newSecret(INBOUND_TOKEN_PREFIX);
    const webhookSecret = newSecret(WEBHOOK_SECRET_PREFIX);
    return {
      settings: publicSettings,
      secrets: { webhookSecret },
      inboundToken,
      reveal: { inboundToken, webhookSecret },
    };
  },

  send: sendToWebhook,
});
