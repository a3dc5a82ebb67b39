import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { IdSchema } from '@openlines/contract';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { InboundRequest } from '../channels/connector';
import type { AppContext } from '../context';
import { notFound } from '../errors';
import {
  acknowledgeUnreadable,
  authenticateWebhook,
  receiveWebhook,
  type WebhookChannel,
} from '../services/channel-inbound';
import { parseJsonBody } from './json-body';

/** One public URL a platform posts its deliveries to (services/channel-inbound.ts does the rest). */
export interface WebhookRoute {
  url: string;
  /** Only channels of this kind are found at this URL (an alias such as /telegram/webhook/:channelId). */
  kind?: string;
  summary: string;
  description: string;
}

/**
 * Webhook routes: thin over the generic inbound path. In this plugin's scope JSON bodies keep their
 * raw text (signatures are over the bytes), and a body that is not JSON the API takes is judged
 * only after the request is verified: a stranger gets 401 whatever they send, and the platform
 * gets its "stored" answer for a poison delivery (logged, nothing stored) so it stops sending it.
 * The verification runs in preValidation, before the parameters are validated.
 */
export const webhookRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext; routes: WebhookRoute[] }> = async (
  app,
  { ctx, routes },
) => {
  const raw = new WeakMap<FastifyRequest, { text: string; error: Error | null; lenient?: unknown }>();
  const channels = new WeakMap<FastifyRequest, WebhookChannel>();
  // The app's one JSON parser (json-body.ts); its refusal waits until the request is verified.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    try {
      const parsed = parseJsonBody(text);
      raw.set(request, { text, error: null });
      done(null, parsed);
    } catch (error) {
      // Kept for the verification only (VK's secret is inside the body): a body with a prototype
      // key is valid JSON, and once verified it is acknowledged as unreadable, never parsed on.
      let lenient: unknown;
      try {
        lenient = JSON.parse(text);
      } catch {
        lenient = undefined;
      }
      raw.set(request, { text, error: error as Error, lenient });
      done(null, undefined);
    }
  });
  const inboundRequest = (request: FastifyRequest): InboundRequest => ({
    method: request.method,
    headers: request.headers,
    query: request.query as InboundRequest['query'],
    rawBody: raw.get(request)?.text ?? '',
    body: raw.get(request)?.error ? raw.get(request)?.lenient : request.body,
  });

  for (const route of routes) {
    // A platform's subscription handshake (Meta's `hub.challenge`): the same verification, then the
    // connector's answer. Kinds without a handshake have nothing at GET.
    app.get(
      route.url,
      {
        config: { public: true, platformPayload: true },
        schema: {
          tags: ['channels'],
          summary: `${route.summary}: subscription handshake`,
          description: `The handshake a platform makes when the webhook URL is registered (Meta: \`GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…\`, answered with the challenge as text when the verify token is the channel's). 401 when the request does not carry the channel's verify token; 404 for kinds without a handshake.`,
          security: [],
          params: Type.Object({ channelId: IdSchema }, { additionalProperties: false }),
          querystring: Type.Record(Type.String(), Type.String({ maxLength: 2048 })),
          response: { 200: Type.String({ description: 'The challenge, as text' }) },
        },
        preValidation: async (request) => {
          const { channelId } = request.params as { channelId?: string };
          channels.set(
            request,
            await authenticateWebhook(ctx, channelId, inboundRequest(request), route.kind),
          );
        },
      },
      async (request, reply) => {
        const channel = channels.get(request);
        if (!channel) throw new Error('webhook channel not resolved');
        const answer = channel.connector.answerHandshake?.(inboundRequest(request), channel.runtime);
        if (!answer) throw notFound('A handshake for this channel');
        return reply
          .status(answer.status as 200)
          .type(answer.contentType)
          .send(answer.body);
      },
    );
    app.post(
      route.url,
      {
        config: { public: true, platformPayload: true },
        schema: {
          tags: ['channels'],
          summary: route.summary,
          description: route.description,
          security: [],
          params: Type.Object({ channelId: IdSchema }, { additionalProperties: false }),
          body: Type.Unknown({ description: "The platform's payload, as it sends it" }),
          response: { 200: Type.Unknown({ description: '`{"ok":true}`, or what the platform expects' }) },
        },
        preValidation: async (request) => {
          const { channelId } = request.params as { channelId?: string };
          channels.set(
            request,
            await authenticateWebhook(ctx, channelId, inboundRequest(request), route.kind),
          );
        },
      },
      async (request, reply) => {
        const channel = channels.get(request);
        if (!channel) throw new Error('webhook channel not resolved');
        // Verified, but not JSON the API takes: the platform would only deliver it again (issue 20).
        const parsed = raw.get(request);
        const answer = parsed?.error
          ? acknowledgeUnreadable(ctx, channel, parsed.error, parsed.text)
          : await receiveWebhook(ctx, channel, inboundRequest(request));
        if (!answer) return { ok: true };
        // The connector's own answer (a handshake, VK's `ok`): its status is the platform's contract.
        return reply
          .status(answer.status as 200)
          .type(answer.contentType)
          .send(answer.body);
      },
    );
  }
};

/** The generic URL: every kind whose connector has verifyInbound and parseInbound is reached here. */
export const CHANNEL_WEBHOOK: WebhookRoute = {
  url: '/channels/:channelId/webhook',
  summary: "Webhook-style channels: a delivery from the channel's platform",
  description: `The platform of a webhook-style channel (one whose connector verifies and parses inbound
requests) posts its deliveries here. The connector verifies each request (a secret header, a
signature over the raw body): anything else is refused with 401, and nothing is stored. A delivery is
committed before the 2xx, so a redelivery is stored once; 503 means it cannot be stored now (deliver
it again). 404 with \`reason: "channel_disconnected"\`: the channel takes no messages (LN-5).`,
};
