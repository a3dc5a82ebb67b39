import { ApiInboundMessageBody, ApiInboundResultSchema } from '@openlines/contract';
import type { FastifyRequest } from 'fastify';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../delivery/signature';
import { bearerToken } from '../../http/auth';
import { type InboundChannel, resolveInboundChannel } from '../../services/channels';
import { receiveInbound } from '../../services/intake';
import { defineEdge } from '../edge-types';
import { INBOUND_ROUTE } from './connector';
import { parseApiInbound } from './inbound';

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

/**
 * The API channel's inbound endpoint. Not a webhook of a platform: the sender authenticates with
 * the channel's bearer token, and the body is ours (ApiInboundMessageBody), so it calls the intake
 * directly instead of the generic webhook path (which refuses API channels: no verifyInbound).
 */
export const apiEdge = defineEdge({
  kind: 'api',
  routes: async (app, { ctx }) => {
    // The token is checked before the body is even read, so a stranger learns nothing from
    // validation errors and a disconnected channel is refused whatever it sends.
    const inboundChannels = new WeakMap<FastifyRequest, InboundChannel>();
    app.post(
      INBOUND_ROUTE,
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
  },
});
