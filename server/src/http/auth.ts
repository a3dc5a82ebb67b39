import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { AppContext } from '../context';
import { AppError } from '../errors';
import type { Actor } from '../services/actor';
import { resolveApiToken, resolveSession } from '../services/auth';

export const SESSION_COOKIE = 'ol_session';
export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor | null;
    sessionToken: string | null;
    csrfToken: string | null;
  }
  interface FastifyContextConfig {
    /** Reachable without signing in (health, login, public widget endpoints). */
    public?: boolean;
  }
}

export function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (!header) return null;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match ? match[1]! : null;
}

/** Resolves who is calling from the session cookie or an API token; null when neither is valid. */
export async function authenticate(ctx: AppContext, request: FastifyRequest): Promise<Actor | null> {
  const bearer = bearerToken(request);
  if (bearer) return resolveApiToken(ctx, bearer);
  const cookie = request.cookies[SESSION_COOKIE];
  if (!cookie) return null;
  const actor = await resolveSession(ctx, cookie);
  if (actor) {
    request.sessionToken = cookie;
    request.csrfToken = actor.csrfToken;
  }
  return actor;
}

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** A request made with the session cookie carries that session's CSRF token, or is refused. */
export function assertCsrf(request: FastifyRequest): void {
  const sent = request.headers[CSRF_HEADER];
  if (typeof sent !== 'string' || !request.csrfToken || !sameSecret(sent, request.csrfToken)) {
    throw new AppError('csrf_failed');
  }
}

/**
 * Every route needs a signed-in actor unless it is marked `config.public`. Requests authenticated
 * by the cookie must also carry the session's CSRF token on unsafe methods; API tokens need not,
 * since a browser never sends them by itself.
 */
export const authPlugin = fp(async (app: FastifyInstance, { ctx }: { ctx: AppContext }) => {
  app.decorateRequest('actor', null);
  app.decorateRequest('sessionToken', null);
  app.decorateRequest('csrfToken', null);
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config?.public || !request.routeOptions.url) return;
    const actor = await authenticate(ctx, request);
    if (!actor) throw new AppError('unauthenticated');
    if (actor.via === 'session' && !SAFE_METHODS.has(request.method)) assertCsrf(request);
    request.actor = actor;
  });
});

/** The actor of a route that is not public: the auth hook guarantees it is there. */
export function actorOf(request: FastifyRequest): Actor {
  if (!request.actor) throw new AppError('unauthenticated');
  return request.actor;
}
