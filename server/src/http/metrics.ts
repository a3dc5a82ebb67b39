import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { AppContext } from '../context';
import type { RealtimeGateway } from '../ws/gateway';
import { problem, sendProblem } from './problem';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * A request id for each request: the caller's X-Request-Id when it is a short safe token (a proxy
 * that already assigned one), else a fresh UUID. It is on every log line of the request.
 */
export const requestIdOptions = {
  // False: Fastify would take the header as it is; genReqId checks it first.
  requestIdHeader: false as const,
  genReqId: (request: { headers: Record<string, string | string[] | undefined> }) => {
    const given = request.headers['x-request-id'];
    return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
  },
};

/**
 * `GET /metrics` in Prometheus text format, only when METRICS_TOKEN is set, and only for a
 * scraper sending `Authorization: Bearer <METRICS_TOKEN>`. Every value is kept in memory: a
 * request adds to a counter and a histogram in its onResponse hook; gauges (sockets, Redis) are
 * read when scraped. Nothing here runs SQL on the message path.
 */
export function registerMetrics(app: FastifyInstance, ctx: AppContext, gateway: RealtimeGateway): void {
  const token = ctx.config.metricsToken;
  if (!token) return;
  // One registry per server, so several servers in one process (tests) do not share counters.
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'openlines_' });
  const requests = new Counter({
    name: 'openlines_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'openlines_http_request_duration_seconds',
    help: 'HTTP request latency, by method and route pattern',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  new Gauge({
    name: 'openlines_operator_sockets',
    help: 'Operator realtime sockets connected to this process',
    registers: [registry],
    collect() {
      this.set(gateway.connectionCount);
    },
  });
  new Gauge({
    name: 'openlines_bus_up',
    help: '1 when the event bus (Redis, when configured) answers, else 0',
    registers: [registry],
    async collect() {
      this.set((await ctx.bus.reachable()) ? 1 : 0);
    },
  });

  app.addHook('onResponse', async (request, reply) => {
    // The route pattern (`/api/v1/dialogs/:id`), never the raw URL, keeps label cardinality bounded.
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });

  const expected = Buffer.from(`Bearer ${token}`);
  app.get('/metrics', { config: { public: true }, schema: { hide: true } }, async (request, reply) => {
    const given = Buffer.from(request.headers.authorization ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return sendProblem(reply, problem('unauthenticated', 'A valid metrics token is required'));
    }
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
}
