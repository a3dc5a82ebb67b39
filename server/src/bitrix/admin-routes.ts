import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  BitrixAppSchema,
  BitrixCredentialBody,
  BitrixWebhookSchema,
  CreatedBitrixAppSchema,
  CreatedBitrixWebhookSchema,
  NumericIdParams,
} from '@openlines/contract';
import { Type } from '@sinclair/typebox';
import type { AppContext } from '../context';
import { actorOf } from '../http/auth';
import {
  createBitrixApp,
  createBitrixWebhook,
  listBitrixApps,
  listBitrixWebhooks,
  revokeBitrixApp,
  revokeBitrixWebhook,
} from './apps';

const tags = ['bitrix24'];

/** `/api/v1/bitrix24/*`: an administrator (manageIntegrations) issues and revokes the surface's credentials. */
export const bitrixAdminRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.get(
    '/bitrix24/apps',
    {
      schema: {
        tags,
        summary: 'Bitrix24-compatible local applications (needs manageIntegrations)',
        response: { 200: Type.Array(BitrixAppSchema) },
      },
    },
    async (request) => listBitrixApps(ctx, actorOf(request)),
  );
  app.post(
    '/bitrix24/apps',
    {
      schema: {
        tags,
        summary: 'Issue an application: its access token (auth=) and application_token, shown once',
        body: BitrixCredentialBody,
        response: { 201: CreatedBitrixAppSchema },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await createBitrixApp(ctx, actorOf(request), request.body)),
  );
  app.delete(
    '/bitrix24/apps/:id',
    {
      schema: {
        tags,
        summary: 'Revoke an application; its connectors’ channels disconnect',
        params: NumericIdParams,
      },
    },
    async (request, reply) => {
      await revokeBitrixApp(ctx, actorOf(request), request.params.id);
      return reply.status(204).send();
    },
  );
  app.get(
    '/bitrix24/webhooks',
    {
      schema: {
        tags,
        summary: 'Incoming webhooks (needs manageIntegrations)',
        response: { 200: Type.Array(BitrixWebhookSchema) },
      },
    },
    async (request) => listBitrixWebhooks(ctx, actorOf(request)),
  );
  app.post(
    '/bitrix24/webhooks',
    {
      schema: {
        tags,
        summary:
          'Create an incoming webhook /rest/<user id>/<secret>/ acting as a user; the secret is shown once',
        body: BitrixCredentialBody,
        response: { 201: CreatedBitrixWebhookSchema },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await createBitrixWebhook(ctx, actorOf(request), request.body)),
  );
  app.delete(
    '/bitrix24/webhooks/:id',
    { schema: { tags, summary: 'Revoke an incoming webhook', params: NumericIdParams } },
    async (request, reply) => {
      await revokeBitrixWebhook(ctx, actorOf(request), request.params.id);
      return reply.status(204).send();
    },
  );
};
