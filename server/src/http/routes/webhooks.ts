import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  CreateWebhookBody,
  IdParams,
  UpdateWebhookBody,
  WebhookDeliveryParams,
  WebhookDeliveryQuery,
  WebhookDeliverySchema,
  WebhookSchema,
  WebhookWithSecretSchema,
} from '@openlines/contract';
import { Type } from '@sinclair/typebox';
import type { AppContext } from '../../context';
import {
  createWebhook,
  deleteWebhook,
  getWebhook,
  listWebhookDeliveries,
  listWebhooks,
  redeliverWebhook,
  rotateWebhookSecret,
  updateWebhook,
} from '../../services/webhooks';
import { actorOf } from '../auth';

/** Event webhooks (SPEC PL-1; docs/webhooks.md). Every route needs manageIntegrations. */
export const eventWebhookRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext }> = async (app, { ctx }) => {
  const tags = ['webhooks'];
  app.get(
    '/webhooks',
    {
      schema: {
        tags,
        summary: 'Event webhook subscriptions (needs manageIntegrations)',
        response: { 200: Type.Array(WebhookSchema) },
      },
    },
    async (request) => listWebhooks(ctx, actorOf(request)),
  );
  app.post(
    '/webhooks',
    {
      schema: {
        tags,
        summary: 'Subscribe a URL to events; the answer holds the signing secret, shown once',
        body: CreateWebhookBody,
        response: { 201: WebhookWithSecretSchema },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await createWebhook(ctx, actorOf(request), request.body)),
  );
  app.get(
    '/webhooks/:id',
    { schema: { tags, summary: 'One webhook', params: IdParams, response: { 200: WebhookSchema } } },
    async (request) => getWebhook(ctx, actorOf(request), request.params.id),
  );
  app.patch(
    '/webhooks/:id',
    {
      schema: {
        tags,
        summary: 'Change a webhook; status "active" resumes a paused one from where it stopped',
        params: IdParams,
        body: UpdateWebhookBody,
        response: { 200: WebhookSchema },
      },
    },
    async (request) => updateWebhook(ctx, actorOf(request), request.params.id, request.body),
  );
  app.post(
    '/webhooks/:id/secret',
    {
      schema: {
        tags,
        summary: 'A new signing secret, shown once; the old one stops working',
        params: IdParams,
        response: { 200: WebhookWithSecretSchema },
      },
    },
    async (request) => rotateWebhookSecret(ctx, actorOf(request), request.params.id),
  );
  app.delete(
    '/webhooks/:id',
    {
      schema: {
        tags,
        summary: 'Delete a webhook and its delivery log',
        params: IdParams,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await deleteWebhook(ctx, actorOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  );
  app.get(
    '/webhooks/:id/deliveries',
    {
      schema: {
        tags,
        summary: "A webhook's delivery log, newest first",
        params: IdParams,
        querystring: WebhookDeliveryQuery,
        response: { 200: Type.Array(WebhookDeliverySchema) },
      },
    },
    async (request) => listWebhookDeliveries(ctx, actorOf(request), request.params.id, request.query),
  );
  app.post(
    '/webhooks/:id/deliveries/:deliveryId/redeliver',
    {
      schema: {
        tags,
        summary: 'Send again: a waiting delivery now, a delivered one once more (same event id)',
        description:
          'A delivered row whose dialog history was erased keeps no body: sending it again answers 409 invalid_state.',
        params: WebhookDeliveryParams,
        response: { 200: WebhookDeliverySchema },
      },
    },
    async (request) => redeliverWebhook(ctx, actorOf(request), request.params.id, request.params.deliveryId),
  );
};
