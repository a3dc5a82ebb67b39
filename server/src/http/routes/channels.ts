import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  ChannelKindSchema,
  ChannelSchema,
  ChannelSecretsSchema,
  ChannelTemplateSchema,
  CreateChannelBody,
  IdParams,
  IdSchema,
  UpdateChannelBody,
} from '@openlines/contract';
import { Type } from '@sinclair/typebox';
import { connectorKinds, findConnector } from '../../channels/registry';
import type { AppContext } from '../../context';
import {
  createChannel,
  deleteChannel,
  getChannel,
  listChannels,
  listChannelTemplates,
  rotateChannelSecrets,
  updateChannel,
} from '../../services/channels';
import { actorOf } from '../auth';

const ChannelListQuery = Type.Object({ lineId: Type.Optional(IdSchema) }, { additionalProperties: false });

const DeleteChannelQuery = Type.Object(
  {
    confirm: Type.Optional(
      Type.String({
        description:
          "The channel's name; needed when it has dialogs, which are deleted with it (disconnect to keep them)",
      }),
    ),
  },
  { additionalProperties: false },
);

export const channelRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.get(
    '/channel-kinds',
    {
      schema: {
        tags: ['channels'],
        summary: 'The channel kinds this server can connect, with the schema of their settings',
        response: { 200: Type.Array(ChannelKindSchema) },
      },
    },
    async () =>
      connectorKinds().map((kind) => {
        const connector = findConnector(kind)!;
        return {
          kind,
          title: connector.title,
          answersBy: connector.answersBy ?? 'reply',
          settingsSchema: connector.settingsSchema,
          formFields: [...connector.formFields],
          inboundPath: connector.inboundPath ?? null,
          installSnippet: connector.installSnippet === true,
          ...(connector.replyWindowHours ? { replyWindowHours: connector.replyWindowHours } : {}),
          ...(connector.listTemplates ? { templates: true } : {}),
          ...(connector.createdByIntegration ? { createdByIntegration: true } : {}),
        };
      }),
  );

  app.get(
    '/channels',
    {
      schema: {
        tags: ['channels'],
        summary: 'Channels of my account (needs manageLines)',
        querystring: ChannelListQuery,
        response: { 200: Type.Array(ChannelSchema) },
      },
    },
    async (request) => listChannels(ctx, actorOf(request), request.query),
  );

  app.post(
    '/channels',
    {
      schema: {
        tags: ['channels'],
        summary: 'Connect a channel to a line; its secrets are in this answer only (needs manageLines)',
        body: CreateChannelBody,
        response: { 201: ChannelSecretsSchema },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await createChannel(ctx, actorOf(request), request.body)),
  );

  app.get(
    '/channels/:id',
    {
      schema: {
        tags: ['channels'],
        summary: 'One channel (needs manageLines)',
        params: IdParams,
        response: { 200: ChannelSchema },
      },
    },
    async (request) => getChannel(ctx, actorOf(request), request.params.id),
  );

  app.get(
    '/channels/:id/templates',
    {
      schema: {
        tags: ['channels'],
        summary:
          "The channel's approved message templates (WhatsApp), to send outside the reply window; any signed-in user",
        params: IdParams,
        response: { 200: Type.Array(ChannelTemplateSchema) },
      },
    },
    async (request) => listChannelTemplates(ctx, actorOf(request), request.params.id),
  );

  app.patch(
    '/channels/:id',
    {
      schema: {
        tags: ['channels'],
        summary:
          'Rename, move to another line (LN-3), change settings, or disconnect: a disconnected channel takes no messages (LN-5)',
        params: IdParams,
        body: UpdateChannelBody,
        response: { 200: ChannelSchema },
      },
    },
    async (request) => updateChannel(ctx, actorOf(request), request.params.id, request.body),
  );

  app.delete(
    '/channels/:id',
    {
      schema: {
        tags: ['channels'],
        summary: 'Delete a channel with its dialogs and history (confirm by name when it has dialogs)',
        params: IdParams,
        querystring: DeleteChannelQuery,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await deleteChannel(ctx, actorOf(request), request.params.id, request.query.confirm);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/channels/:id/rotate-secrets',
    {
      schema: {
        tags: ['channels'],
        summary: 'New secrets: the old ones stop working at once; the new ones are in this answer only',
        params: IdParams,
        response: { 200: ChannelSecretsSchema },
      },
    },
    async (request) => rotateChannelSecrets(ctx, actorOf(request), request.params.id),
  );
};
