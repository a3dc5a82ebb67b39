import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  CreateLineBody,
  DeleteLineQuery,
  IdParams,
  LineScheduleSchema,
  LineSchema,
  LinesOverviewSchema,
  UpdateLineBody,
} from '@openlines/contract';
import { Type } from '@sinclair/typebox';
import type { AppContext } from '../../context';
import { lineScheduleOf } from '../../services/automation/schedule';
import { createLine, deleteLine, getLine, listLines, updateLine } from '../../services/lines';
import { actorOf } from '../auth';

export const lineRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.get(
    '/lines',
    {
      schema: {
        tags: ['lines'],
        summary: 'Lines of my account and the plan’s line limit',
        response: { 200: LinesOverviewSchema },
      },
    },
    async (request) => listLines(ctx, actorOf(request)),
  );
  app.post(
    '/lines',
    {
      schema: {
        tags: ['lines'],
        summary: 'Create a line (needs manageLines); settings not given take their defaults',
        body: CreateLineBody,
        response: { 201: LineSchema },
      },
    },
    async (request, reply) => reply.status(201).send(await createLine(ctx, actorOf(request), request.body)),
  );
  app.get(
    '/lines/:id',
    {
      schema: {
        tags: ['lines'],
        summary: 'One line with all its settings',
        params: IdParams,
        response: { 200: LineSchema },
      },
    },
    async (request) => getLine(ctx, actorOf(request), request.params.id),
  );
  app.get(
    '/lines/:id/schedule',
    {
      schema: {
        tags: ['lines'],
        summary: 'Is the line (and its widget) open now, when does it open next (WH-1..WH-3)',
        params: IdParams,
        response: { 200: LineScheduleSchema },
      },
    },
    async (request) => lineScheduleOf(ctx, actorOf(request), request.params.id),
  );
  app.patch(
    '/lines/:id',
    {
      schema: {
        tags: ['lines'],
        summary: 'Rename, switch on/off, or change settings (a partial settings document is merged)',
        params: IdParams,
        body: UpdateLineBody,
        response: { 200: LineSchema },
      },
    },
    async (request) => updateLine(ctx, actorOf(request), request.params.id, request.body),
  );
  app.delete(
    '/lines/:id',
    {
      schema: {
        tags: ['lines'],
        summary: "Delete a line with its dialogs and history; pass confirm=<the line's name>",
        params: IdParams,
        querystring: DeleteLineQuery,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await deleteLine(ctx, actorOf(request), request.params.id, request.query.confirm);
      return reply.status(204).send(null);
    },
  );
};
