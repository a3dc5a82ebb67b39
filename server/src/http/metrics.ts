import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { AppContext } from '../context';
import { observeQueries, poolStats, workLag } from '../services/health';
import { queueByLine } from '../services/routing-metrics';
import type { RealtimeGateway } from '../ws/gateway';
import { visitorSocketCount } from '../ws/visitor-gateway';
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
 * `GET /metrics` in Prometheus text format, only when METRICS_TOKEN or METRICS_PORT is set: on the
 * main port for a scraper sending `Authorization: Bearer <METRICS_TOKEN>`, and on METRICS_PORT (a
 * port of its own, to keep off the public network) without a token.
 *
 * What it costs: on the message path only in-memory counters (ctx.telemetry, the onResponse hook,
 * the query observer), never a statement. The gauges that need the database (work lag, queues per
 * line) run their two statements when scraped, not per message.
 */
export function registerMetrics(app: FastifyInstance, ctx: AppContext, gateway: RealtimeGateway): void {
  const token = ctx.config.metricsToken;
  const port = ctx.config.metricsPort;
  if (!token && port === null) return;
  const registry = buildRegistry(app, ctx, gateway);
  if (token) {
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
  if (port !== null) {
    const server: Server = createServer((request, response) => {
      if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('Only GET /metrics here\n');
        return;
      }
      registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (error: unknown) => {
          ctx.log.error({ err: error }, 'metrics scrape failed');
          response.writeHead(500, { 'content-type': 'text/plain' }).end('metrics failed\n');
        },
      );
    });
    app.addHook('onReady', async () => {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, ctx.config.host, () => resolve());
      });
    });
    app.addHook('onClose', async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    app.decorate('metricsServer', server);
  }
}

/** The port METRICS_PORT listens on (0 picks one: tests). */
export function metricsPortOf(app: FastifyInstance): number | null {
  const server = (app as unknown as { metricsServer?: Server }).metricsServer;
  const address = server?.address();
  return typeof address === 'object' && address ? address.port : null;
}

function buildRegistry(app: FastifyInstance, ctx: AppContext, gateway: RealtimeGateway): Registry {
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
  const inbound = new Counter({
    name: 'openlines_inbound_messages_total',
    help: "Clients' messages stored by this process (redeliveries not counted), by channel kind",
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  const outbound = new Counter({
    name: 'openlines_outbound_deliveries_total',
    help: 'Outbound delivery attempts finished by this process, by channel kind and result (sent, retried, failed)',
    labelNames: ['kind', 'result'] as const,
    registers: [registry],
  });
  ctx.telemetry = {
    inboundMessage: (kind) => inbound.inc({ kind }),
    outboundResult: (kind, result) => outbound.inc({ kind, result }),
  };
  const queries = new Histogram({
    name: 'openlines_db_query_duration_seconds',
    help: 'Database query latency as this process sees it, by outcome (ok, error)',
    labelNames: ['outcome'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const observer = (durationMs: number, failed: boolean) =>
    queries.observe({ outcome: failed ? 'error' : 'ok' }, durationMs / 1000);
  const stopObserving = observeQueries(ctx, observer);
  // Event fan-out lag: from the commit of an event (its `at`, written in the committing
  // transaction by whichever process) to its arrival here from the bus, before the sockets and the
  // other listeners get it. Across processes it includes Redis and the machines' clock skew.
  const fanout = new Histogram({
    name: 'openlines_event_fanout_lag_seconds',
    help: 'Time from an event commit (in any process) to its arrival at this process from the event bus',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const stopFanout = ctx.bus.subscribe((message) => {
    if (message.transient) return;
    const committed = Date.parse(message.event.at);
    if (Number.isNaN(committed)) return;
    fanout.observe(Math.max(0, ctx.clock.now().getTime() - committed) / 1000);
  });
  app.addHook('onClose', async () => {
    stopObserving();
    stopFanout();
  });
  if (poolStats(ctx)) {
    new Gauge({
      name: 'openlines_db_pool_connections',
      help: 'PostgreSQL pool connections of this process, by state (total, idle, waiting: queries waiting for one)',
      labelNames: ['state'] as const,
      registers: [registry],
      collect() {
        const stats = poolStats(ctx);
        if (!stats) return;
        this.set({ state: 'total' }, stats.total);
        this.set({ state: 'idle' }, stats.idle);
        this.set({ state: 'waiting' }, stats.waiting);
      },
    });
  }
  new Gauge({
    name: 'openlines_operator_sockets',
    help: 'Operator realtime sockets connected to this process',
    registers: [registry],
    collect() {
      this.set(gateway.connectionCount);
    },
  });
  new Gauge({
    name: 'openlines_visitor_sockets',
    help: "Widget visitors' sockets connected to this process",
    registers: [registry],
    collect() {
      this.set(visitorSocketCount(ctx));
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
  // Installation-wide gauges, read from the database when scraped (the same on every process).
  // prom-client collects the gauges of one scrape side by side: each pair shares one read.
  const lag = perScrape(() => workLag(ctx));
  new Gauge({
    name: 'openlines_timer_lag_seconds',
    help: 'How long the oldest due timer has waited to fire (0: none due); installation-wide',
    registers: [registry],
    async collect() {
      this.set((await lag()).timerSeconds);
    },
  });
  new Gauge({
    name: 'openlines_outbox_lag_seconds',
    help: 'How long the oldest due outbound message has waited to be sent (0: none due); installation-wide',
    registers: [registry],
    async collect() {
      this.set((await lag()).outboxSeconds);
    },
  });
  new Gauge({
    name: 'openlines_outbox_oldest_pending_seconds',
    help: 'Age of the oldest pending outbound message, retries in backoff included; installation-wide',
    registers: [registry],
    async collect() {
      this.set((await lag()).outboxOldestPendingSeconds);
    },
  });
  const queues = perScrape(() => queueByLine(ctx));
  new Gauge({
    name: 'openlines_line_queue_length',
    help: 'Sessions waiting in the queue of each line (lines with none are not listed)',
    labelNames: ['line'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const line of await queues()) this.set({ line: line.lineId }, line.queued);
    },
  });
  new Gauge({
    name: 'openlines_line_queue_longest_wait_seconds',
    help: 'How long the longest-waiting queued session of each line has waited',
    labelNames: ['line'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const line of await queues()) this.set({ line: line.lineId }, line.longestWaitSeconds);
    },
  });

  app.addHook('onResponse', async (request, reply) => {
    // The route pattern (`/api/v1/dialogs/:id`), never the raw URL, keeps label cardinality bounded.
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });
  return registry;
}

/** One read shared by the gauges of one scrape: callers within the same turn get the same promise. */
function perScrape<T>(read: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | null = null;
  return () => {
    if (!pending) {
      pending = read();
      const clear = () => setImmediate(() => (pending = null));
      pending.then(clear, clear);
    }
    return pending;
  };
}
