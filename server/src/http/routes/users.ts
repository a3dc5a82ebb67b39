import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AbsenceSchema,
  CreateAbsenceBody,
  CreateUserBody,
  IdParams,
  IdSchema,
  UpdateUserBody,
  UserListQuery,
  UserSchema,
  WorkloadSchema,
} from '@openlines/contract';
import { Type } from '@sinclair/typebox';
import type { AppContext } from '../../context';
import {
  createAbsence,
  createUser,
  deleteAbsence,
  getUser,
  listAbsences,
  listUsers,
  listWorkload,
  updateUser,
} from '../../services/users';
import { actorOf } from '../auth';

const AbsenceParams = Type.Object({ id: IdSchema, absenceId: IdSchema }, { additionalProperties: false });

export const userRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.get(
    '/users',
    {
      schema: {
        tags: ['users'],
        summary: 'Users of my account (colleagues are visible to every signed-in user)',
        querystring: UserListQuery,
        response: { 200: Type.Array(UserSchema) },
      },
    },
    async (request) => listUsers(ctx, actorOf(request), request.query),
  );

  app.get(
    '/users/workload',
    {
      schema: {
        tags: ['users'],
        summary: 'Every active colleague’s status and the number of dialogs they hold now',
        response: { 200: Type.Array(WorkloadSchema) },
      },
    },
    async (request) => listWorkload(ctx, actorOf(request)),
  );

  app.post(
    '/users',
    {
      schema: {
        tags: ['users'],
        summary: 'Create a user (needs manageUsers)',
        body: CreateUserBody,
        response: { 201: UserSchema },
      },
    },
    async (request, reply) => reply.status(201).send(await createUser(ctx, actorOf(request), request.body)),
  );

  app.get(
    '/users/:id',
    { schema: { tags: ['users'], summary: 'One user', params: IdParams, response: { 200: UserSchema } } },
    async (request) => getUser(ctx, actorOf(request), request.params.id),
  );

  app.patch(
    '/users/:id',
    {
      schema: {
        tags: ['users'],
        summary: 'Change a user; `active: false` deactivates ("dismisses") them and ends their sessions',
        params: IdParams,
        body: UpdateUserBody,
        response: { 200: UserSchema },
      },
    },
    async (request) => updateUser(ctx, actorOf(request), request.params.id, request.body),
  );

  app.get(
    '/users/:id/absences',
    {
      schema: {
        tags: ['users'],
        summary: 'Absence periods (vacation, sick leave)',
        params: IdParams,
        response: { 200: Type.Array(AbsenceSchema) },
      },
    },
    async (request) => listAbsences(ctx, actorOf(request), request.params.id),
  );

  app.post(
    '/users/:id/absences',
    {
      schema: {
        tags: ['users'],
        summary: 'Add an absence period; routing skips the user during it when the line checks availability',
        params: IdParams,
        body: CreateAbsenceBody,
        response: { 201: AbsenceSchema },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await createAbsence(ctx, actorOf(request), request.params.id, request.body)),
  );

  app.delete(
    '/users/:id/absences/:absenceId',
    {
      schema: {
        tags: ['users'],
        summary: 'Remove an absence period',
        params: AbsenceParams,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await deleteAbsence(ctx, actorOf(request), request.params.id, request.params.absenceId);
      return reply.status(204).send(null);
    },
  );
};
