import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AuditListQuery, AuditPageSchema } from '@openlines/contract';
import type { AppContext } from '../../context';
import { listAudit } from '../../services/audit';
import { actorOf } from '../auth';

export const auditRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.get(
    '/audit-log',
    {
      schema: {
        tags: ['privacy'],
        summary:
          'The audit log of privileged actions, newest first (needs managePersonalData); filter by action, user and period',
        description:
          'Settings, user, role and department changes, API tokens, client data exports and erasures: who (id and name at the time), when, what, and for settings the names of the keys that changed — never their values, message texts or a client’s personal data.',
        querystring: AuditListQuery,
        response: { 200: AuditPageSchema },
      },
    },
    async (request) => listAudit(ctx, actorOf(request), request.query),
  );
};
