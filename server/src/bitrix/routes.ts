import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../context';
import { type LeakyBucketLimits, LeakyBuckets } from '../core/leaky-bucket';
import { type BitrixCaller, callerByAccessToken, callerByWebhook } from './apps';
import { BitrixError, invalidToken, methodNotFound, toBitrixError } from './errors';
import type { MethodCall, MethodResult } from './method';
import { asList, checkJsonParams, isObject, type Params, parseForm, pick } from './params';
import { findMethod } from './registry';

/**
 * The Bitrix24-compatible REST surface (PL-4; docs/bitrix24-compat.md), served as Bitrix24 serves it:
 *   POST|GET /rest/<method>[.json]?auth=<access token>       a local application
 *   POST|GET /rest/<user id>/<secret>/<method>[.json]       an incoming webhook
 * Parameters come from the query and the body (JSON or PHP-style form keys); answers are
 * `{result, [total, next,] time}` or `{error, error_description}` with Bitrix24's codes and statuses.
 * Requests are counted in a leaky bucket per account and source address (50, draining 2 a second,
 * as Bitrix24's standard plans; per process); over it: 503 QUERY_LIMIT_EXCEEDED.
 */
export const BATCH_LIMIT = 50;
export const DEFAULT_RATE_LIMIT: LeakyBucketLimits = { capacity: 50, drainPerSecond: 2 };

export interface BitrixRouteOptions {
  ctx: AppContext;
  rateLimit?: LeakyBucketLimits;
}

function methodName(raw: string): string {
  return raw.replace(/\.json$/i, '').toLowerCase();
}

function paramsOf(request: FastifyRequest): Params {
  const query = isObject(request.query) ? parseForm(new URL(request.url, 'http://x').search.slice(1)) : {};
  let body: Params = {};
  const form = /^application\/x-www-form-urlencoded\b/i.test(request.headers['content-type'] ?? '');
  if (typeof request.body === 'string') {
    if (!form)
      throw new BitrixError('ERROR_ARGUMENT', 'Send parameters as JSON or application/x-www-form-urlencoded');
    body = parseForm(request.body);
  } else if (request.body !== undefined) body = checkJsonParams(request.body);
  return { ...query, ...body };
}

function timeBlock(startMs: number, nowMs: number) {
  const seconds = (ms: number) => ms / 1000;
  const duration = seconds(Math.max(0, nowMs - startMs));
  return {
    start: seconds(startMs),
    finish: seconds(nowMs),
    duration,
    processing: duration,
    date_start: new Date(startMs).toISOString(),
    date_finish: new Date(nowMs).toISOString(),
    operating_reset_at: Math.floor(nowMs / 1000) + 600,
    operating: duration,
  };
}

function envelope(result: MethodResult, time: ReturnType<typeof timeBlock>) {
  return {
    result: result.result,
    ...(result.next !== undefined ? { next: result.next } : {}),
    ...(result.total !== undefined ? { total: result.total } : {}),
    time,
  };
}

/** `cmd[key]=method?query` of a batch → its method and parameters. */
function batchCommand(value: unknown, key: string): { method: string; params: Params } {
  if (typeof value !== 'string' || value.length === 0 || value.length > 64 * 1024) {
    throw new BitrixError('ERROR_BATCH_METHOD_NOT_ALLOWED', `cmd[${key}] must be "method?parameters"`);
  }
  const [method = '', query = ''] = value.split(/\?(.*)/s, 2);
  return { method: methodName(method), params: parseForm(query) };
}

async function runBatch(call: MethodCall): Promise<MethodResult> {
  const cmd = pick(call.params, 'cmd');
  const list = asList(cmd);
  const entries: [string, unknown][] = list
    ? list.map((value, index) => [String(index), value])
    : isObject(cmd)
      ? Object.entries(cmd)
      : [];
  if (entries.length === 0) throw new BitrixError('ERROR_ARGUMENT', 'cmd must hold at least one command');
  if (entries.length > BATCH_LIMIT) {
    throw new BitrixError('ERROR_BATCH_LENGTH_EXCEEDED', `Max batch length exceeded (${BATCH_LIMIT})`);
  }
  const halt = ['1', 'Y', 'true', 1, true].includes(pick(call.params, 'halt') as never);
  const output = {
    result: {},
    result_error: {},
    result_total: {},
    result_next: {},
    result_time: {},
  } as Record<
    'result' | 'result_error' | 'result_total' | 'result_next' | 'result_time',
    Record<string, unknown>
  >;
  for (const [key, value] of entries) {
    const started = call.ctx.clock.now().getTime();
    try {
      const command = batchCommand(value, key);
      if (command.method === 'batch') {
        throw new BitrixError('ERROR_BATCH_METHOD_NOT_ALLOWED', 'A batch cannot hold a batch');
      }
      const handler = findMethod(command.method);
      if (!handler) throw methodNotFound(command.method);
      const result = await handler({ ...call, params: command.params });
      output.result[key] = result.result;
      if (result.total !== undefined) output.result_total[key] = result.total;
      if (result.next !== undefined) output.result_next[key] = result.next;
    } catch (error) {
      const bitrix = toBitrixError(error);
      if (!bitrix) call.ctx.log.error({ err: error }, 'bitrix24 batch command failed');
      output.result_error[key] = bitrix
        ? { error: bitrix.code, error_description: bitrix.description }
        : { error: 'INTERNAL_SERVER_ERROR', error_description: 'Internal server error' };
      if (halt) break;
    } finally {
      output.result_time[key] = timeBlock(started, call.ctx.clock.now().getTime());
    }
  }
  return { result: output };
}

function sendError(reply: FastifyReply, error: BitrixError): FastifyReply {
  return reply
    .status(error.status)
    .type('application/json; charset=utf-8')
    .send({ error: error.code, error_description: error.description });
}

/** Fastify's own refusals (a broken JSON body, a body too large, another content type) in Bitrix24 terms. */
function frameworkError(error: FastifyError): BitrixError | null {
  const status = error.statusCode ?? 500;
  if (status === 413) return new BitrixError('ERROR_ARGUMENT', 'The request body is too large', 413);
  if (status === 415) {
    return new BitrixError(
      'ERROR_ARGUMENT',
      'Send parameters as JSON or application/x-www-form-urlencoded',
      400,
    );
  }
  if (status >= 400 && status < 500) return new BitrixError('ERROR_ARGUMENT', error.message, 400);
  return null;
}

export async function bitrixRoutes(app: FastifyInstance, options: BitrixRouteOptions): Promise<void> {
  const { ctx } = options;
  const buckets = new LeakyBuckets(options.rateLimit ?? DEFAULT_RATE_LIMIT);

  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => done(null, body),
  );
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const bitrix = toBitrixError(error) ?? frameworkError(error);
    if (bitrix) return sendError(reply, bitrix);
    request.log.error({ err: error }, 'bitrix24 REST call failed');
    return sendError(reply, new BitrixError('INTERNAL_SERVER_ERROR', 'Internal server error', 500));
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, methodNotFound(request.url.split('?')[0]!.replace(/^\/rest\//, ''))),
  );

  async function serve(
    request: FastifyRequest,
    reply: FastifyReply,
    method: string,
    resolveCaller: (params: Params) => Promise<BitrixCaller>,
  ) {
    const started = ctx.clock.now().getTime();
    const name = methodName(method);
    const params = paramsOf(request);
    const handler = name === 'batch' ? runBatch : findMethod(name);
    const who = await resolveCaller(params);
    const decision = buckets.take(`${who.actor.accountId}|${request.ip}`, ctx.clock.now().getTime());
    if (!decision.allowed) {
      reply.header('retry-after', String(Math.ceil(decision.retryAfterMs / 1000)));
      throw new BitrixError('QUERY_LIMIT_EXCEEDED', 'Too many requests', 503);
    }
    if (!handler) throw methodNotFound(name);
    const result = await handler({ ctx, caller: who, params });
    return reply
      .type('application/json; charset=utf-8')
      .send(envelope(result, timeBlock(started, ctx.clock.now().getTime())));
  }

  const config = { public: true } as const;
  const schema = { hide: true } as const;
  for (const verb of ['GET', 'POST'] as const) {
    app.route<{ Params: { method: string } }>({
      method: verb,
      url: '/:method',
      config,
      schema,
      handler: (request, reply) =>
        serve(request, reply, request.params.method, async (params) => {
          const header = request.headers.authorization;
          const bearer = header ? /^Bearer\s+(\S+)$/i.exec(header)?.[1] : undefined;
          const token = pick(params, 'auth') ?? pick(params, 'access_token') ?? bearer;
          if (typeof token !== 'string' || token === '') throw invalidToken();
          return callerByAccessToken(ctx, token);
        }),
    });
    app.route<{ Params: { user: string; secret: string; method: string } }>({
      method: verb,
      url: '/:user/:secret/:method',
      config,
      schema,
      handler: (request, reply) =>
        serve(request, reply, request.params.method, async () => {
          const user = request.params.user;
          if (!/^\d{1,10}$/.test(user)) throw invalidToken();
          return callerByWebhook(ctx, Number(user), request.params.secret);
        }),
    });
  }
}
