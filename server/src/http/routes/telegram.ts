import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Update } from '@grammyjs/types';
import { IdSchema } from '@openlines/contract';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { ConnectorError } from '../../channels/connector';
import { SECRET_TOKEN_HEADER, verifySecretToken } from '../../channels/telegram/inbound';
import type { AppContext } from '../../context';
import { AppError } from '../../errors';
import { channelRuntime, findChannelOfKind, type InboundChannel } from '../../services/channels';
import { ingestUpdate } from '../../services/telegram-ingest';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const DESCRIPTION = `Telegram delivers a bot's updates here when the channel is in webhook mode (the server
registers this URL with setWebhook). Every request must carry the channel's secret in
\`X-Telegram-Bot-Api-Secret-Token\`; anything else is refused with 401 before the body is read.
An update is committed before the 200, so a redelivery (Telegram retries non-2xx answers) is stored
once. 404 with \`reason: "channel_disconnected"\`: the channel takes no messages (LN-5).`;

/**
 * The public endpoint Telegram's webhook calls. The secret token is checked in onRequest, before
 * the body is parsed or validated, so a stranger learns nothing and stores nothing.
 */
export const telegramRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext }> = async (app, { ctx }) => {
  const channels = new WeakMap<FastifyRequest, InboundChannel>();

  app.post(
    '/telegram/webhook/:channelId',
    {
      config: { public: true, platformPayload: true },
      schema: {
        tags: ['channels'],
        summary: 'Telegram channel: webhook updates (X-Telegram-Bot-Api-Secret-Token)',
        description: DESCRIPTION,
        security: [],
        params: Type.Object({ channelId: IdSchema }, { additionalProperties: false }),
        body: Type.Object({ update_id: Type.Integer({ minimum: 0 }) }, { additionalProperties: true }),
        response: { 200: Type.Object({ ok: Type.Boolean() }) },
      },
      onRequest: async (request) => {
        const { channelId } = request.params as { channelId?: string };
        const refused = new AppError('unauthenticated', 'The secret token is not valid for this channel');
        if (!channelId || !UUID.test(channelId)) throw refused;
        const row = await findChannelOfKind(ctx, channelId, 'telegram');
        if (!row) throw refused;
        let secret: string | undefined;
        try {
          secret = channelRuntime(ctx, row).secrets.webhookSecret;
        } catch {
          throw refused;
        }
        if (!verifySecretToken(request.headers[SECRET_TOKEN_HEADER], secret)) throw refused;
        if (row.status !== 'connected' || !row.line_id) {
          throw new AppError('not_found', 'The channel is disconnected', undefined, {
            reason: 'channel_disconnected',
          });
        }
        channels.set(request, row);
      },
    },
    async (request) => {
      const channel = channels.get(request);
      if (!channel) throw new Error('telegram channel not resolved');
      try {
        await ingestUpdate(ctx, channel, request.body as unknown as Update);
      } catch (error) {
        // Telegram delivers the update again later: say so without a 500 in the logs.
        if (error instanceof ConnectorError) {
          request.log.warn({ channelId: channel.id, code: error.code }, 'telegram update not stored yet');
          throw new AppError('unavailable', 'The update cannot be stored now; deliver it again');
        }
        throw error;
      }
      return { ok: true };
    },
  );
};
