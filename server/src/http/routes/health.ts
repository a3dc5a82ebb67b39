import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AppContext } from '../../context';
import { readinessReport } from '../../services/health';
import { problem, sendProblem } from '../problem';

const Health = Type.Object({ status: Type.String() });

const Check = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('failing'), Type.Literal('not_configured')]),
  detail: Type.Optional(Type.String()),
  lagSeconds: Type.Optional(Type.Number({ description: 'Timers and outbox: the oldest due item’s wait' })),
});
const Readiness = Type.Object({
  status: Type.Literal('ready'),
  checks: Type.Object({ database: Check, redis: Check, timers: Check, outbox: Check }),
});

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
        summary: 'Ready for traffic: the database, Redis (when configured) and the workers, check by check',
        description:
          'Each of `checks.database`, `checks.redis`, `checks.timers` and `checks.outbox` is `ok`, `failing` (with a `detail`) or, for Redis without REDIS_URL, `not_configured`. Timers and outbox fail when their oldest due item has waited longer than READY_MAX_LAG_SECONDS. Any failing check makes it a 503 problem+json (`unavailable`) carrying the same `checks`.',
        response: { 200: Readiness },
      },
    },
    async (_request, reply) => {
      const report = await readinessReport(ctx);
      if (!report.ready) {
        const details = Object.values(report.checks).flatMap((c) =>
          c.status === 'failing' && c.detail ? [c.detail] : [],
        );
        return sendProblem(reply, {
          ...problem('unavailable', [...new Set(details)].join('; ')),
          checks: report.checks,
        });
      }
      return { status: 'ready' as const, checks: report.checks };
    },
  );
};
