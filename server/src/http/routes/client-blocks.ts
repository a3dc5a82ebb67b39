import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { BlockedClientListSchema, IdParams } from '@openlines/contract';
import { Type } from '@sinclair/typebox';
import type { AppContext } from '../../context';
import { listBlockedClients, unblockClient } from '../../services/client-blocks';
import { actorOf } from '../auth';

/** OP-3: the clients a spam mark blocked, and lifting a block (both need supervise). */
export const clientBlockRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.get(
    '/clients/blocked',
    {
      schema: {
        tags: ['dialogs'],
        summary:
          'Clients blocked by a spam mark, newest first (needs supervise): their new sessions on any line are stored, not routed',
        response: { 200: BlockedClientListSchema },
      },
    },
    async (request) => listBlockedClients(ctx, actorOf(request)),
  );
  app.delete(
    '/clients/:id/block',
    {
      schema: {
        tags: ['dialogs'],
        summary:
          "Lift a client's block (needs supervise): the spam marks of their dialogs go, their next message is routed",
        params: IdParams,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await unblockClient(ctx, actorOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  );
};
