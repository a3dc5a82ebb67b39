import { STATUS_CODES } from 'node:http';
import {
  ERRORS,
  type ErrorCode,
  type FieldError,
  PROBLEM_CONTENT_TYPE,
  type Problem,
} from '@openlines/contract';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { fieldErrorsFromSchema, type SchemaError } from '../core/field-errors';
import { AppError } from '../errors';

const TYPE_BASE = 'https://openlines.dev/problems/';

export function problem(code: ErrorCode, detail?: string, errors?: FieldError[], instance?: string): Problem {
  const entry = ERRORS[code];
  return {
    type: `${TYPE_BASE}${code.replace(/_/g, '-')}`,
    title: entry.title,
    status: entry.status,
    code,
    ...(detail ? { detail } : {}),
    ...(instance ? { instance } : {}),
    ...(errors && errors.length > 0 ? { errors } : {}),
  };
}

/**
 * A request Node's HTTP parser refused before Fastify saw it (headers or URL over the limit, a
 * broken request line, a request that arrived too slowly), answered as problem+json like every
 * other error. Written straight to the socket, which is closed after it.
 */
export function clientErrorResponse(error: { code?: string }): string {
  const code: ErrorCode =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? 'headers_too_large'
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? 'request_timeout'
        : 'malformed_request';
  const body = JSON.stringify(problem(code));
  const { status } = ERRORS[code];
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

export function sendProblem(reply: FastifyReply, body: Problem, headers: Record<string, string> = {}) {
  return reply.status(body.status).headers(headers).type(PROBLEM_CONTENT_TYPE).send(body);
}

const PART_NAMES: Record<string, string> = {
  querystring: 'query',
  body: 'body',
  params: 'params',
  headers: 'headers',
};

/** A request schema's errors, the field named by its path: `body.queue.maxChat`. */
export function fieldErrors(context: string, errors: SchemaError[]): FieldError[] {
  return fieldErrorsFromSchema([PART_NAMES[context] ?? context], errors);
}

/** The one error handler: every failure leaves as problem+json; 5xx internals stay in the log. */
const REDIS_RETRY_AFTER_SECONDS = 5;

/** ioredis gave up on a command: the server is down or unreachable (not a bad request). */
function isRedisUnavailable(error: Error): boolean {
  return (
    error.name === 'MaxRetriesPerRequestError' ||
    /^(Connection is closed\.|Stream isn't writeable)/.test(error.message)
  );
}

export function handleError(
  error: FastifyError | AppError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  const instance = request.url.split('?')[0];
  if (error instanceof AppError) {
    const body = problem(error.code, error.message, error.fields, instance);
    Object.assign(body, error.extensions ?? {});
    return sendProblem(reply, body);
  }
  const fastifyError = error as FastifyError & { validationContext?: string; validation?: SchemaError[] };
  if (fastifyError.validation) {
    const errors = fieldErrors(fastifyError.validationContext ?? 'body', fastifyError.validation);
    const detail = errors.map((e) => `${e.field} ${e.message}`).join('; ');
    return sendProblem(reply, problem('validation_failed', detail, errors, instance));
  }
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return sendProblem(
        reply,
        problem(
          'invalid_json',
          fastifyError.message,
          [{ field: 'body', message: 'is not valid JSON' }],
          instance,
        ),
      );
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return sendProblem(
        reply,
        problem('payload_too_large', 'The request body is larger than allowed', [], instance),
      );
    case 'FST_ERR_BAD_URL':
      return sendProblem(
        reply,
        problem(
          'validation_failed',
          'The path is not valid percent-encoded UTF-8',
          [{ field: 'path', message: 'is not valid percent-encoded UTF-8', rule: 'format' }],
          instance,
        ),
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return sendProblem(reply, problem('unsupported_media_type', fastifyError.message, [], instance));
  }
  const status = fastifyError.statusCode ?? 500;
  if (status === 429) return sendProblem(reply, problem('rate_limited', fastifyError.message, [], instance));
  if (status >= 400 && status < 500) {
    if (error instanceof SyntaxError) {
      return sendProblem(
        reply,
        problem('invalid_json', error.message, [{ field: 'body', message: 'is not valid JSON' }], instance),
      );
    }
    const code: ErrorCode =
      status === 404 ? 'not_found' : status === 413 ? 'payload_too_large' : 'validation_failed';
    return sendProblem(reply, { ...problem(code, fastifyError.message, [], instance), status });
  }
  if (isRedisUnavailable(error)) {
    // The rate-limit counters (sign-in, the widget's endpoints) live in Redis: while it is down
    // those requests cannot be counted, so they are refused for now rather than let through.
    request.log.warn({ err: error }, 'Redis unavailable');
    return sendProblem(
      reply,
      problem(
        'unavailable',
        'A service this server needs (Redis) is not reachable; try again shortly',
        [],
        instance,
      ),
      { 'retry-after': String(REDIS_RETRY_AFTER_SECONDS) },
    );
  }
  request.log.error({ err: error }, 'request failed');
  return sendProblem(reply, problem('internal', 'Something went wrong on our side', [], instance));
}
