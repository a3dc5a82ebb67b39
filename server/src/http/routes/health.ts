import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AppContext } from '../../context';
import { readiness } from '../../services/health';
import { problem, sendProblem } from '../problem';

const Health = Type.Object({ status: Type.String() });

export const healthRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.get(
    '/healthz',
    {
      config: { public: true },
      schema: { tags: ['health'], summary: 'The process is alive', response: { 200: Health } },
    },
    async () => ({ status: 'ok' }),
  );
  app.get(
    '/readyz',
    {
      config: { public: true },
      schema: {
        tags: ['health'],
        summary: 'The database is reachable and migrated, and Redis when configured',
        response: { 200: Health },
      },
    },
    async (_request, reply) => {
      const state = await readiness(ctx);
      if (state === 'unmigrated') {
        return sendProblem(reply, problem('unavailable', 'Database migrations are not applied'));
      }
      if (state === 'unreachable') {
        return sendProblem(reply, problem('unavailable', 'The database is not reachable'));
      }
      if (state === 'bus_unreachable') {
        return sendProblem(reply, problem('unavailable', 'Redis is not reachable'));
      }
      return { status: 'ready' };
    },
  );
};
