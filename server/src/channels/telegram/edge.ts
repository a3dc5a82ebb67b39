import type { AppContext } from '../../context';
import { webhookRoutes } from '../../http/webhook';
import { TelegramUpdatesWorker } from '../../workers/telegram-updates';
import { defineEdge } from '../edge-types';
import { SECRET_TOKEN_HEADER } from './inbound';

const WEBHOOK_DESCRIPTION = `Telegram delivers a bot's updates here when the channel is in webhook mode (the server
registers this URL with setWebhook). It is the generic \`POST /api/v1/channels/{channelId}/webhook\`
for Telegram channels only, kept because bots connected before have this URL registered. Every
request must carry the channel's secret in \`${SECRET_TOKEN_HEADER}\`; anything else is refused with
401 and nothing is stored. An update is committed before the 200, so a redelivery (Telegram retries
non-2xx answers) is stored once; 503 means it cannot be stored now. 404 with
\`reason: "channel_disconnected"\`: the channel takes no messages (LN-5).`;

/**
 * Telegram beyond its connector: the webhook URL registered with setWebhook (an alias of the
 * generic webhook path, restricted to Telegram channels), and the worker that registers webhooks
 * and runs long polling (workers/telegram-updates.ts), whose updates take the same inbound path.
 */
export const telegramEdge = defineEdge({
  kind: 'telegram',
  routes: async (app, { ctx }) => {
    await app.register(webhookRoutes, {
      ctx,
      routes: [
        {
          url: '/telegram/webhook/:channelId',
          kind: 'telegram',
          summary: 'Telegram channel: webhook updates (X-Telegram-Bot-Api-Secret-Token)',
          description: WEBHOOK_DESCRIPTION,
        },
      ],
    });
  },
  worker: (ctx: AppContext) => new TelegramUpdatesWorker(ctx),
});
