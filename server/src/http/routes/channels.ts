import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  ApiInboundMessageBody,
  ApiInboundResultSchema,
  ChannelKindSchema,
  ChannelSchema,
  ChannelSecretsSchema,
  CreateChannelBody,
  IdParams,
  IdSchema,
  UpdateChannelBody,
} from '@openlines/contract';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { parseApiInbound } from '../../channels/api/inbound';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../channels/api/signature';
import { connectorKinds, findConnector } from '../../channels/registry';
import type { AppContext } from '../../context';
import {
  createChannel,
  deleteChannel,
  getChannel,
  type InboundChannel,
  listChannels,
  resolveInboundChannel,
  rotateChannelSecrets,
  updateChannel,
} from '../../services/channels';
import { receiveInbound } from '../../services/intake';
import { actorOf, bearerToken } from '../auth';

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

const API_CHANNEL_DESCRIPTION = `Inbound endpoint of an API channel (LN-6). Authenticate with the channel's token:
\`Authorization: Bearer olc_…\` (shown once when the channel is created or its secrets are rotated).
A message is stored before the answer: 201 when new, 200 when this \`externalId\` was already stored
(safe to retry). 401 means the token is unknown or rotated; 404 with \`reason: "channel_disconnected"\`
means the channel was disconnected and takes no messages (LN-5).

Operator messages are POSTed as JSON to the channel's \`webhookUrl\` with the headers
\`${TIMESTAMP_HEADER}: <unix seconds>\` and \`${SIGNATURE_HEADER}: v1=<hex HMAC-SHA256 of "<timestamp>.<raw body>" with the webhook secret>\`.
Verify the signature over the raw body in constant time and reject timestamps more than 5 minutes
from your clock. Answer 2xx (optionally \`{"externalId": "…"}\`); 5xx and timeouts are retried with
backoff, 429 after its Retry-After, 401/403/404/410 and other 4xx fail the message.`;

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

  // The token is checked before the body is even read, so a stranger learns nothing from
  // validation errors and a disconnected channel is refused whatever it sends.
  const inboundChannels = new WeakMap<FastifyRequest, InboundChannel>();
  app.post(
    '/channel-api/messages',
    {
      config: { public: true },
      schema: {
        tags: ['channels'],
        summary: 'API channel: a client message in (Bearer olc_… channel token)',
        description: API_CHANNEL_DESCRIPTION,
        security: [{ bearer: [] }],
        body: ApiInboundMessageBody,
        response: { 200: ApiInboundResultSchema, 201: ApiInboundResultSchema },
      },
      onRequest: async (request) => {
        inboundChannels.set(request, await resolveInboundChannel(ctx, bearerToken(request)));
      },
    },
    async (request, reply) => {
      const channel = inboundChannels.get(request);
      if (!channel) throw new Error('inbound channel not resolved');
      const result = await receiveInbound(ctx, channel, parseApiInbound(request.body));
      return reply.status(result.duplicate ? 200 : 201).send(result);
    },
  );
};
