import { timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AdminAccountSchema,
  CreateAccountBody,
  CreatedAccountSchema,
  IdParams,
  PlanIdSchema,
  PlanSchema,
  PutPlanBody,
  UpdateAccountBody,
} from '@openlines/contract';
import { Type } from '@sinclair/typebox';
import type { AppContext } from '../../context';
import { AppError } from '../../errors';
import {
  createOperatedAccount,
  deleteOperatedAccount,
  getAccount,
  listAccounts,
  listPlans,
  putPlan,
  setAccountStatus,
  updateOperatedAccount,
} from '../../services/account-admin';

const DeletedAccountSchema = Type.Object({
  deletedFiles: Type.Integer(),
  deletedRows: Type.Integer({ description: 'Rows of every table, the account row included' }),
});

/**
 * The server operator's API: accounts (tenants) and plans (issue 21). Present only when
 * ADMIN_TOKEN is set, and reached only with `Authorization: Bearer <ADMIN_TOKEN>`: no user of an
 * account, whatever their role, gets here with their session or API token.
 */
export const adminRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext }> = async (app, { ctx }) => {
  const token = ctx.config.adminToken;
  if (!token) return;
  const expected = Buffer.from(`Bearer ${token}`);
  // The routes are `public` to the users' auth hook; this hook is their only door.
  app.addHook('onRoute', (route) => {
    route.config = { ...(route.config ?? {}), public: true };
  });
  app.addHook('onRequest', async (request) => {
    const given = Buffer.from(request.headers.authorization ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new AppError('unauthenticated', 'The server operator’s token (ADMIN_TOKEN) is required');
    }
  });
  const tags = ['admin'];
  const security = [{ bearer: [] }];

  app.get(
    '/accounts',
    {
      schema: {
        tags,
        security,
        summary: 'Every account with its status, plan and what it uses of it',
        response: { 200: Type.Object({ items: Type.Array(AdminAccountSchema) }) },
      },
    },
    async () => ({ items: await listAccounts(ctx) }),
  );
  app.post(
    '/accounts',
    {
      schema: {
        tags,
        security,
        summary: 'Create an account and its first administrator (a password is generated unless given)',
        body: CreateAccountBody,
        response: { 201: CreatedAccountSchema },
      },
    },
    async (request, reply) => reply.status(201).send(await createOperatedAccount(ctx, request.body)),
  );
  app.get(
    '/accounts/:id',
    {
      schema: {
        tags,
        security,
        summary: 'One account',
        params: IdParams,
        response: { 200: AdminAccountSchema },
      },
    },
    async (request) => getAccount(ctx, request.params.id),
  );
  app.patch(
    '/accounts/:id',
    {
      schema: {
        tags,
        security,
        summary:
          'Rename an account or change its plan (limits apply to what is created next; nothing is removed)',
        params: IdParams,
        body: UpdateAccountBody,
        response: { 200: AdminAccountSchema },
      },
    },
    async (request) => updateOperatedAccount(ctx, request.params.id, request.body),
  );
  app.post(
    '/accounts/:id/suspend',
    {
      schema: {
        tags,
        security,
        summary:
          'Suspend an account: its users are refused with 403 account_suspended, its sockets closed, its channels take no messages',
        params: IdParams,
        response: { 200: AdminAccountSchema },
      },
    },
    async (request) => setAccountStatus(ctx, request.params.id, 'suspended'),
  );
  app.post(
    '/accounts/:id/resume',
    {
      schema: {
        tags,
        security,
        summary: 'Resume a suspended account',
        params: IdParams,
        response: { 200: AdminAccountSchema },
      },
    },
    async (request) => setAccountStatus(ctx, request.params.id, 'active'),
  );
  app.delete(
    '/accounts/:id',
    {
      schema: {
        tags,
        security,
        summary: 'Delete an account with all of its rows and files, for good',
        params: IdParams,
        response: { 200: DeletedAccountSchema },
      },
    },
    async (request) => {
      await getAccount(ctx, request.params.id);
      const deleted = await deleteOperatedAccount(ctx, request.params.id);
      return {
        deletedFiles: deleted.files,
        deletedRows: deleted.rows.reduce((sum, table) => sum + table.rows, 0),
      };
    },
  );
  app.get(
    '/plans',
    {
      schema: {
        tags,
        security,
        summary: 'The plans',
        response: { 200: Type.Object({ items: Type.Array(PlanSchema) }) },
      },
    },
    async () => ({ items: await listPlans(ctx) }),
  );
  app.put(
    '/plans/:id',
    {
      schema: {
        tags,
        security,
        summary: 'Create a plan or set its limits (null: no limit)',
        params: Type.Object({ id: PlanIdSchema }, { additionalProperties: false }),
        body: PutPlanBody,
        response: { 200: PlanSchema },
      },
    },
    async (request) => putPlan(ctx, request.params.id, request.body),
  );
};
