import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  IdParams,
  QuickAnswerBody,
  QuickAnswerQuery,
  QuickAnswerSchema,
  UpdateQuickAnswerBody,
} from '@openlines/contract';
import { Type } from '@sinclair/typebox';
import type { AppContext } from '../../context';
import {
  createQuickAnswer,
  deleteQuickAnswer,
  listQuickAnswers,
  updateQuickAnswer,
} from '../../services/quick-answers';
import { actorOf } from '../auth';

export const quickAnswerRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.get(
    '/quick-answers',
    {
      schema: {
        tags: ['quick answers'],
        summary:
          'Shared canned replies and my personal ones (personal first); search matches title and text; lineId: what a dialog of that line offers (AA-7)',
        querystring: QuickAnswerQuery,
        response: { 200: Type.Array(QuickAnswerSchema) },
      },
    },
    async (request) => listQuickAnswers(ctx, actorOf(request), request.query),
  );
  app.post(
    '/quick-answers',
    {
      schema: {
        tags: ['quick answers'],
        summary: 'Add a quick answer: shared (needs manageQuickAnswers) or personal (personal: true)',
        body: QuickAnswerBody,
        response: { 201: QuickAnswerSchema },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await createQuickAnswer(ctx, actorOf(request), request.body)),
  );
  app.patch(
    '/quick-answers/:id',
    {
      schema: {
        tags: ['quick answers'],
        summary: 'Edit a quick answer: my personal one, or a shared one with manageQuickAnswers',
        params: IdParams,
        body: UpdateQuickAnswerBody,
        response: { 200: QuickAnswerSchema },
      },
    },
    async (request) => updateQuickAnswer(ctx, actorOf(request), request.params.id, request.body),
  );
  app.delete(
    '/quick-answers/:id',
    {
      schema: {
        tags: ['quick answers'],
        summary: 'Delete a quick answer',
        params: IdParams,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await deleteQuickAnswer(ctx, actorOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  );
};
