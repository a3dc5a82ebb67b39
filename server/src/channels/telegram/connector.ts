import { randomBytes } from 'node:crypto';
import { invalidField } from '../../errors';
import { type ChannelSecrets, ConnectorError, defineConnector, type PreparedChannel } from '../connector';
import { botApi, callBotApi } from './bot-api';
import {
  answerTelegramCallback,
  fetchTelegramAvatar,
  fetchTelegramFile,
  telegramUnreceivedNote,
} from './fetch';
import { inboundItemsOf, SECRET_TOKEN_HEADER, verifySecretToken } from './inbound';
import { deleteOnTelegram, editOnTelegram, sendToTelegram } from './outbound';
import {
  apiRootOf,
  checkTelegramSettings,
  type TelegramChannelSettings,
  TelegramChannelSettingsSchema,
  type TelegramPublicSettings,
} from './settings';

/** The webhook's `secret_token`: 1–256 characters of A-Z, a-z, 0-9, _ and -. */
export const newWebhookSecret = () => randomBytes(32).toString('base64url');

/**
 * A Telegram bot as a channel (issue 7; LN-6, QR-1).
 *   connect   the administrator pastes the bot token; `getMe` checks it and names the bot. The token
 *             goes to the encrypted secrets (never shown again), the bot id becomes the external key,
 *             so one bot is connected once across the server.
 *   inbound   a webhook (POST /api/v1/telegram/webhook/:channelId, verified by the secret token)
 *             when the server has an https PUBLIC_URL, otherwise long polling with the offset kept
 *             in channel_state; both run the generic inbound path (services/channel-inbound.ts)
 *             with the hooks below: `parseInbound` (inbound.ts), `fetchFile`, `fetchAvatar`,
 *             `unreceivedNote`, `acknowledge` (fetch.ts). Registering the webhook and polling are
 *             the TelegramUpdates worker's job (edge.ts), never prepare's: a refused creation (the
 *             bot is already connected) must not take the webhook away from the channel that has it.
 *   outbound  sendMessage / sendPhoto / sendDocument / … through the outbox (outbound.ts); an
 *             operator's edit or deletion as editMessageText (or Caption) / deleteMessage.
 * Secrets: `botToken` and `webhookSecret`; rotating them makes a new webhook secret (the token
 * itself is replaced by pasting a new one after /revoke in @BotFather). Nothing is revealed.
 */
export const telegramConnector = defineConnector<TelegramChannelSettings>({
  kind: 'telegram',
  title: 'Telegram',
  settingsSchema: TelegramChannelSettingsSchema,
  formFields: ['botToken', 'updates'],
  checkSettings: checkTelegramSettings,

  async prepare({ settings, current, rotate }, io): Promise<PreparedChannel> {
    const token = settings.botToken ?? current?.secrets.botToken;
    if (!token) {
      throw invalidField(
        'body.settings.botToken',
        'is required: paste the token @BotFather gave for your bot',
      );
    }
    const apiRoot = apiRootOf(settings);
    let me: Awaited<ReturnType<ReturnType<typeof botApi>['getMe']>>;
    try {
      me = await callBotApi(() => botApi(token, { apiRoot, timeoutMs: io.timeoutMs }).getMe());
    } catch (error) {
      if (error instanceof ConnectorError && error.code === 'auth_revoked') {
        throw invalidField(
          'body.settings.botToken',
          'Telegram does not accept this bot token (getMe failed)',
        );
      }
      throw error;
    }
    const publicSettings: TelegramPublicSettings = {
      botId: String(me.id),
      botUsername: me.username,
      botName: [me.first_name, me.last_name].filter(Boolean).join(' '),
      updates: settings.updates ?? 'auto',
      ...(settings.apiRoot ? { apiRoot } : {}),
    };
    const secrets: ChannelSecrets = {
      botToken: token,
      webhookSecret: (!rotate && current?.secrets.webhookSecret) || newWebhookSecret(),
    };
    return {
      settings: publicSettings,
      secrets,
      externalKey: publicSettings.botId,
      // No bearer token: Telegram authenticates with the webhook secret. Saying so explicitly (null,
      // not "keep") also makes the channels service store the secrets on every settings change.
      inboundToken: null,
      reveal: {},
    };
  },

  // Whichever way the bot got its updates: a webhook we set goes, and a polling bot has none.
  async unregister(channel, io): Promise<void> {
    const token = channel.secrets.botToken;
    if (!token) return;
    const api = botApi(token, { apiRoot: apiRootOf(channel.settings), timeoutMs: io.timeoutMs });
    try {
      await callBotApi(() => api.deleteWebhook({ drop_pending_updates: false }));
    } catch (error) {
      // A revoked token has no webhook left to remove.
      if (error instanceof ConnectorError && error.code === 'auth_revoked') return;
      throw error;
    }
  },

  verifyInbound: (request, channel) =>
    verifySecretToken(request.headers[SECRET_TOKEN_HEADER], channel.secrets.webhookSecret),
  parseInbound: inboundItemsOf,
  fetchFile: fetchTelegramFile,
  unreceivedNote: telegramUnreceivedNote,
  fetchAvatar: fetchTelegramAvatar,
  acknowledge: answerTelegramCallback,

  send: sendToTelegram,
  editSent: editOnTelegram,
  deleteSent: deleteOnTelegram,
});
