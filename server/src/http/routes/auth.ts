import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  ApiTokenSchema,
  AuthOptionsSchema,
  ChangePasswordBody,
  CreateApiTokenBody,
  CreatedApiTokenSchema,
  IdParams,
  LoginBody,
  MeSchema,
  SetPresenceBody,
  UpdateMeBody,
  UserSchema,
} from '@openlines/contract';
import { Type } from '@sinclair/typebox';
import type { AppContext } from '../../context';
import {
  changePassword,
  createApiToken,
  listApiTokens,
  login,
  logout,
  revokeApiToken,
} from '../../services/auth';
import { presentApiToken } from '../../services/presenters';
import { loadMe, setPresence, updateMe } from '../../services/users';
import { actorOf, assertCsrf, authenticate, SESSION_COOKIE } from '../auth';

const NoContent = Type.Null();

export const authRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext }> = async (app, { ctx }) => {
  const secureCookie = ctx.config.publicUrl?.startsWith('https://') ?? false;

  app.post(
    '/auth/login',
    {
      config: {
        public: true,
        rateLimit: { max: ctx.config.loginRateLimitPerMinute, timeWindow: '1 minute' },
      },
      schema: {
        tags: ['auth'],
        summary: 'Sign in with e-mail and password; sets the session cookie',
        body: LoginBody,
        response: { 200: MeSchema },
      },
    },
    async (request, reply) => {
      const result = await login(ctx, {
        email: request.body.email,
        password: request.body.password,
        ...(request.headers['user-agent'] ? { userAgent: request.headers['user-agent'] } : {}),
        ip: request.ip,
      });
      reply.setCookie(SESSION_COOKIE, result.sessionToken, {
        path: '/',
        httpOnly: true,
        sameSite: 'lax',
        secure: secureCookie,
        maxAge: ctx.config.sessionTtlDays * 86_400,
      });
      return { ...(await loadMe(ctx, result.accountId, result.userId)), csrfToken: result.csrfToken };
    },
  );

  app.get(
    '/auth/options',
    {
      config: { public: true },
      schema: {
        tags: ['auth'],
        summary: 'What the sign-in page may offer before signing in: whether self-service sign-up is on',
        response: { 200: AuthOptionsSchema },
      },
    },
    async () => ({ signup: ctx.config.signupEnabled }),
  );

  app.post(
    '/auth/logout',
    {
      config: { public: true },
      schema: { tags: ['auth'], summary: 'End the current session', response: { 204: NoContent } },
    },
    async (request, reply) => {
      const token = request.cookies[SESSION_COOKIE];
      // Ending a live session is an unsafe request like any other: another site must not be able
      // to sign the user out. A cookie that names no live session is only cleared.
      if (token && (await authenticate(ctx, request))?.via === 'session') assertCsrf(request);
      if (token) await logout(ctx, token);
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/me',
    {
      schema: {
        tags: ['auth'],
        summary: 'Who am I: user, account, permissions, CSRF token',
        response: { 200: MeSchema },
      },
    },
    async (request) => {
      const actor = actorOf(request);
      return {
        ...(await loadMe(ctx, actor.accountId, actor.userId)),
        ...(request.csrfToken ? { csrfToken: request.csrfToken } : {}),
      };
    },
  );

  app.patch(
    '/me',
    {
      schema: {
        tags: ['auth'],
        summary: 'Set the name and photo clients see me under (Q-8); null goes back to my profile',
        body: UpdateMeBody,
        response: { 200: UserSchema },
      },
    },
    async (request) => updateMe(ctx, actorOf(request), request.body),
  );

  app.post(
    '/me/password',
    {
      config: { rateLimit: { max: ctx.config.loginRateLimitPerMinute, timeWindow: '1 minute' } },
      schema: {
        tags: ['auth'],
        summary: 'Change my password (ends my other sessions)',
        body: ChangePasswordBody,
        response: { 204: NoContent },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      await changePassword(ctx, {
        userId: actor.userId,
        currentPassword: request.body.currentPassword,
        newPassword: request.body.newPassword,
        ...(request.sessionToken ? { keepSessionToken: request.sessionToken } : {}),
      });
      return reply.status(204).send(null);
    },
  );

  app.put(
    '/me/presence',
    {
      schema: {
        tags: ['auth'],
        summary: 'Set my status: online, away or offline',
        body: SetPresenceBody,
        response: { 200: UserSchema },
      },
    },
    async (request) => setPresence(ctx, actorOf(request), request.body.presence),
  );

  app.get(
    '/me/api-tokens',
    { schema: { tags: ['auth'], summary: 'My API tokens', response: { 200: Type.Array(ApiTokenSchema) } } },
    async (request) => {
      const rows = await listApiTokens(ctx, actorOf(request));
      return rows.map(presentApiToken);
    },
  );

  app.post(
    '/me/api-tokens',
    {
      schema: {
        tags: ['auth'],
        summary: 'Create an API token acting as me; the token is shown only in this response',
        body: CreateApiTokenBody,
        response: { 201: CreatedApiTokenSchema },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      const { token, row } = await createApiToken(ctx, {
        accountId: actor.accountId,
        userId: actor.userId,
        name: request.body.name,
      });
      return reply.status(201).send({ token, apiToken: presentApiToken(row) });
    },
  );

  app.delete(
    '/me/api-tokens/:id',
    {
      schema: {
        tags: ['auth'],
        summary: 'Revoke one of my API tokens',
        params: IdParams,
        response: { 204: NoContent },
      },
    },
    async (request, reply) => {
      await revokeApiToken(ctx, actorOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  );
};
