import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  CreateDepartmentBody,
  CreateRoleBody,
  DepartmentSchema,
  IdParams,
  RoleSchema,
  UpdateDepartmentBody,
  UpdateRoleBody,
} from '@openlines/contract';
import { Type } from '@sinclair/typebox';
import type { AppContext } from '../../context';
import {
  createDepartment,
  createRole,
  deleteDepartment,
  deleteRole,
  listDepartments,
  listRoles,
  updateDepartment,
  updateRole,
} from '../../services/organization';
import { actorOf } from '../auth';

export const organizationRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.get(
    '/departments',
    {
      schema: {
        tags: ['departments'],
        summary: 'The department tree as a flat list',
        response: { 200: Type.Array(DepartmentSchema) },
      },
    },
    async (request) => listDepartments(ctx, actorOf(request)),
  );
  app.post(
    '/departments',
    {
      schema: {
        tags: ['departments'],
        summary: 'Create a department',
        body: CreateDepartmentBody,
        response: { 201: DepartmentSchema },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await createDepartment(ctx, actorOf(request), request.body)),
  );
  app.patch(
    '/departments/:id',
    {
      schema: {
        tags: ['departments'],
        summary: 'Rename, move in the tree or set the members of a department',
        params: IdParams,
        body: UpdateDepartmentBody,
        response: { 200: DepartmentSchema },
      },
    },
    async (request) => updateDepartment(ctx, actorOf(request), request.params.id, request.body),
  );
  app.delete(
    '/departments/:id',
    {
      schema: {
        tags: ['departments'],
        summary: 'Delete a department without sub-departments',
        params: IdParams,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await deleteDepartment(ctx, actorOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/roles',
    {
      schema: {
        tags: ['roles'],
        summary: 'Roles and their permissions',
        response: { 200: Type.Array(RoleSchema) },
      },
    },
    async (request) => listRoles(ctx, actorOf(request)),
  );
  app.post(
    '/roles',
    {
      schema: {
        tags: ['roles'],
        summary: 'Create a role',
        body: CreateRoleBody,
        response: { 201: RoleSchema },
      },
    },
    async (request, reply) => reply.status(201).send(await createRole(ctx, actorOf(request), request.body)),
  );
  app.patch(
    '/roles/:id',
    {
      schema: {
        tags: ['roles'],
        summary: 'Rename a role or change its permissions',
        params: IdParams,
        body: UpdateRoleBody,
        response: { 200: RoleSchema },
      },
    },
    async (request) => updateRole(ctx, actorOf(request), request.params.id, request.body),
  );
  app.delete(
    '/roles/:id',
    {
      schema: {
        tags: ['roles'],
        summary: 'Delete a role nobody has',
        params: IdParams,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await deleteRole(ctx, actorOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  );
};
