import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DialogSchema, DialogTagsBody, IdParams } from '@openlines/contract';
import type { AppContext } from '../../context';
import { followUpDialog, interceptDialog, joinDialog, setDialogTags } from '../../services/operator-actions';
import { actorOf } from '../auth';

const Action = (summary: string) => ({
  schema: { tags: ['dialogs'], summary, params: IdParams, response: { 200: DialogSchema } },
});

export const operatorActionRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.post(
    '/dialogs/:id/follow-up',
    Action(
      'Write first: start a new session with the client of a dialog that has none open, held by me (reopens a closed dialog); refused outside a messenger’s reply window',
    ),
    async (request) => followUpDialog(ctx, actorOf(request), request.params.id),
  );
  app.post(
    '/dialogs/:id/intercept',
    Action('Supervisor: take the dialog over from the operator holding it (or from the queue)'),
    async (request) => interceptDialog(ctx, actorOf(request), request.params.id),
  );
  app.post(
    '/dialogs/:id/join',
    Action('Supervisor: join the dialog as a consultant without an invitation (messages stay private)'),
    async (request) => joinDialog(ctx, actorOf(request), request.params.id),
  );
  app.put(
    '/dialogs/:id/tags',
    {
      schema: {
        tags: ['dialogs'],
        summary: "Set the dialog's labels (tags); the list filters by them with ?tag=",
        params: IdParams,
        body: DialogTagsBody,
        response: { 200: DialogSchema },
      },
    },
    async (request) => setDialogTags(ctx, actorOf(request), request.params.id, request.body.tags),
  );
};
