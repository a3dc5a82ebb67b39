import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  BotPreviewBody,
  BotPreviewSchema,
  BotSchema,
  BotSendBody,
  BotSessionParams,
  BotTransferBody,
  CreateBotBody,
  CreatedBotSchema,
  IdParams,
  MessageSchema,
  UpdateBotBody,
} from '@openlines/contract';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../../context';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../delivery/signature';
import { AppError } from '../../errors';
import { botClose, botHistory, botSendMessage, botTransfer, botTyping } from '../../services/bot-api';
import {
  type ActingBot,
  createBot,
  deleteBot,
  getBot,
  listBots,
  presentBot,
  previewBot,
  resolveBotToken,
  rotateBotSecrets,
  updateBot,
} from '../../services/bots';
import { actorOf, bearerToken } from '../auth';

/** Managing the account's chatbots (SPEC §7); needs `manageIntegrations` (listing: or `manageLines`). */
export const botRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.get(
    '/bots',
    {
      schema: {
        tags: ['bots'],
        summary: 'The account’s chatbots (needs manageIntegrations or manageLines)',
        response: { 200: Type.Array(BotSchema) },
      },
    },
    async (request) => listBots(ctx, actorOf(request)),
  );
  app.post(
    '/bots',
    {
      schema: {
        tags: ['bots'],
        summary:
          'Register an external bot (webhook URL; its token and secret are shown once) or build a no-code bot',
        body: CreateBotBody,
        response: { 201: CreatedBotSchema },
      },
    },
    async (request, reply) => reply.status(201).send(await createBot(ctx, actorOf(request), request.body)),
  );
  app.post(
    '/bots/preview',
    {
      schema: {
        tags: ['bots'],
        summary: 'Try a no-code bot definition on a conversation, without saving it',
        body: BotPreviewBody,
        response: { 200: BotPreviewSchema },
      },
    },
    async (request) => previewBot(actorOf(request), request.body.definition, request.body.messages),
  );
  app.get(
    '/bots/:id',
    { schema: { tags: ['bots'], summary: 'One bot', params: IdParams, response: { 200: BotSchema } } },
    async (request) => getBot(ctx, actorOf(request), request.params.id),
  );
  app.patch(
    '/bots/:id',
    {
      schema: {
        tags: ['bots'],
        summary: 'Edit a bot; a new definition is a new version (sessions keep the one they started with)',
        params: IdParams,
        body: UpdateBotBody,
        response: { 200: BotSchema },
      },
    },
    async (request) => updateBot(ctx, actorOf(request), request.params.id, request.body),
  );
  app.post(
    '/bots/:id/rotate-secrets',
    {
      schema: {
        tags: ['bots'],
        summary: 'New token and webhook secret for an external bot (shown once; the old ones stop working)',
        params: IdParams,
        response: { 200: CreatedBotSchema },
      },
    },
    async (request) => rotateBotSecrets(ctx, actorOf(request), request.params.id),
  );
  app.delete(
    '/bots/:id',
    {
      schema: {
        tags: ['bots'],
        summary: 'Delete a bot (409 while a line uses it); the sessions it holds go to the queue',
        params: IdParams,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await deleteBot(ctx, actorOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  );
};

const BOT_API_DESCRIPTION = `The bot API (BOT-2). Authenticate with the bot's token: \`Authorization: Bearer olb_…\`
(shown once when the bot is registered or its secrets rotated). A bot reaches only the sessions handed
to it (any other id answers 404) and acts only while it holds them (409 after). Events come to the
bot's webhook URL as signed JSON POSTs: \`${TIMESTAMP_HEADER}\` and \`${SIGNATURE_HEADER}: v1=<hex
HMAC-SHA256 of "<timestamp>.<raw body>" with the bot's webhook secret>\`. See docs/bots.md.`;

/** What an external bot does with its token; public routes that check the bot token themselves. */
export const botApiRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext }> = async (app, { ctx }) => {
  const bots = new WeakMap<FastifyRequest, ActingBot>();
  const botOf = (request: FastifyRequest): ActingBot => {
    const bot = bots.get(request);
    if (!bot) throw new AppError('unauthenticated');
    return bot;
  };
  // The token is checked before the body is read, so a stranger learns nothing from validation.
  const authenticateBot = async (request: FastifyRequest) => {
    const bot = await resolveBotToken(ctx, bearerToken(request));
    if (!bot) throw new AppError('unauthenticated', 'The bot token is not valid');
    bots.set(request, bot);
  };
  const common = {
    config: { public: true },
    onRequest: authenticateBot,
  } as const;
  const schema = { tags: ['bot API'], description: BOT_API_DESCRIPTION, security: [{ bearer: [] }] };

  app.get(
    '/bot-api/me',
    {
      ...common,
      schema: { ...schema, summary: 'The bot this token belongs to', response: { 200: BotSchema } },
    },
    async (request) => presentBot(botOf(request), null),
  );
  app.get(
    '/bot-api/sessions/:sessionId/messages',
    {
      ...common,
      schema: {
        ...schema,
        summary: 'The session’s messages (no notes or consultations)',
        params: BotSessionParams,
        response: { 200: Type.Array(MessageSchema) },
      },
    },
    async (request) => botHistory(ctx, botOf(request), request.params.sessionId),
  );
  app.post(
    '/bot-api/sessions/:sessionId/messages',
    {
      ...common,
      schema: {
        ...schema,
        summary: 'Send the client a message: text, attachments, buttons (quick replies)',
        params: BotSessionParams,
        body: BotSendBody,
        response: { 201: MessageSchema },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(await botSendMessage(ctx, botOf(request), request.params.sessionId, request.body)),
  );
  app.post(
    '/bot-api/sessions/:sessionId/typing',
    {
      ...common,
      schema: {
        ...schema,
        summary: 'Show the client the bot is typing',
        params: BotSessionParams,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await botTyping(ctx, botOf(request), request.params.sessionId);
      return reply.status(204).send(null);
    },
  );
  const StatusSchema = Type.Object({ status: Type.String() });
  app.post(
    '/bot-api/sessions/:sessionId/transfer',
    {
      ...common,
      schema: {
        ...schema,
        summary: 'Hand the session to the queue, an operator or another line',
        params: BotSessionParams,
        body: BotTransferBody,
        response: { 200: StatusSchema },
      },
    },
    async (request) => botTransfer(ctx, botOf(request), request.params.sessionId, request.body),
  );
  app.post(
    '/bot-api/sessions/:sessionId/close',
    {
      ...common,
      schema: {
        ...schema,
        summary: 'Close the session',
        params: BotSessionParams,
        response: { 200: StatusSchema },
      },
    },
    async (request) => botClose(ctx, botOf(request), request.params.sessionId),
  );
};
