import {
  context,
  defaultTextMapGetter,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../context';

/**
 * A server span for every HTTP request when tracing is on (server/src/tracing.ts): it continues the
 * caller's `traceparent`, is active while the request is handled (so the message path's spans are
 * its children), and is named by the route pattern, never the raw URL. With tracing off no hook is
 * added at all.
 */
export function registerTracing(app: FastifyInstance, ctx: AppContext): void {
  const tracing = ctx.tracing;
  if (!tracing) return;
  const spans = new WeakMap<FastifyRequest, Span>();
  app.addHook('onRequest', (request, _reply, done) => {
    const parent = tracing.propagator.extract(ROOT_CONTEXT, request.headers, defaultTextMapGetter);
    const span = tracing.tracer.startSpan(
      request.method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': request.method,
          'url.path': request.url.split('?')[0] ?? '',
          'url.scheme': request.protocol,
          'openlines.request_id': request.id,
        },
      },
      parent,
    );
    spans.set(request, span);
    // The rest of the request (hooks, handler, services) runs inside the span's context.
    context.with(trace.setSpan(parent, span), done);
  });
  app.addHook('onError', async (request, _reply, error) => {
    spans.get(request)?.recordException(error);
  });
  const end = (request: FastifyRequest, status: number) => {
    const span = spans.get(request);
    if (!span) return;
    spans.delete(request);
    const route = request.routeOptions.url;
    span.updateName(route ? `${request.method} ${route}` : request.method);
    span.setAttribute('http.response.status_code', status);
    if (route) span.setAttribute('http.route', route);
    if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  };
  app.addHook('onResponse', async (request, reply) => end(request, reply.statusCode));
  // The client went away before the answer: the span ends all the same.
  app.addHook('onRequestAbort', async (request) => end(request, 499));
}
