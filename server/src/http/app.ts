import { createHash } from 'node:crypto';
import cookie from '@fastify/cookie';
import multipart from '@fastify/multipart';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { bitrixAdminRoutes } from '../bitrix/admin-routes';
import { bitrixRoutes } from '../bitrix/routes';
import { edgeRoutes } from '../channels/edges';
import type { AppContext } from '../context';
import { RealtimeGateway } from '../ws/gateway';
import { EventSequencer } from '../ws/sequencer';
import { authPlugin } from './auth';
import { parseJsonBody } from './json-body';
import { registerMetrics, requestIdOptions } from './metrics';
import { clientErrorResponse, handleError, problem, sendProblem } from './problem';
import { adminRoutes } from './routes/admin';
import { auditRoutes } from './routes/audit';
import { authRoutes } from './routes/auth';
import { botApiRoutes, botRoutes } from './routes/bots';
import { channelRoutes } from './routes/channels';
import { clientBlockRoutes } from './routes/client-blocks';
import { clientExportRoutes } from './routes/client-export';
import { crmRoutes } from './routes/crm';
import { dialogRoutes } from './routes/dialogs';
import { fileRoutes } from './routes/files';
import { healthRoutes } from './routes/health';
import { lineRoutes } from './routes/lines';
import { messageEditRoutes } from './routes/message-edits';
import { operatorActionRoutes } from './routes/operator-actions';
import { organizationRoutes } from './routes/organization';
import { privacyRoutes } from './routes/privacy';
import { quickAnswerRoutes } from './routes/quick-answers';
import { realtimeRoutes } from './routes/realtime';
import { signupRoutes } from './routes/signup';
import { statisticsRoutes } from './routes/statistics';
import { userRoutes } from './routes/users';
import { eventWebhookRoutes } from './routes/webhooks';
import { widgetAssetRoutes } from './routes/widget-assets';
import { buildSerializer } from './serialization';
import { refuseUnstorableText } from './storable-text';
import { registerTracing } from './tracing';
import { validatorCompiler } from './validation';
import { webAppPlugin } from './web-app';
import { CHANNEL_WEBHOOK, webhookRoutes } from './webhook';

export type App = FastifyInstance;

export interface BuiltApp {
  app: App;
  gateway: RealtimeGateway;
}

/**
 * The Redis keys of the rate limits, per installation: the processes of one installation share a
 * database, and so its limits; another installation on the same Redis (a staging copy, the test
 * suite's servers) counts apart, since keys such as a client IP's sign-in attempts would collide.
 */
function rateLimitNamespace(databaseUrl: string | null): string {
  const installation = databaseUrl
    ? createHash('sha256').update(databaseUrl).digest('hex').slice(0, 12)
    : 'embedded';
  return `openlines-rl:${installation}:`;
}

export async function buildApp(ctx: AppContext): Promise<BuiltApp> {
  const app = Fastify({
    loggerInstance: ctx.log,
    bodyLimit: ctx.config.bodyLimitBytes,
    trustProxy: ctx.config.trustProxy,
    // On shutdown, idle keep-alive sockets close at once; requests in flight are finished first.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    // Every log line of a request carries its id (`reqId`); the client gets it as X-Request-Id.
    ...requestIdOptions,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: true } },
    schemaController: { compilersFactory: { buildSerializer } },
    // A file link carries the file's name (up to 200 characters, each up to 12 once URL-encoded):
    // past the router's default of 100 such a link answered 404.
    routerOptions: { maxParamLength: 2_500 },
    // What Node's HTTP parser refuses (headers over 16 KiB, a broken request line) is answered as
    // problem+json too, not with a bare status line.
    clientErrorHandler: (error, socket) => {
      if (error.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
      socket.end(clientErrorResponse(error));
    },
    // What the router refuses before any route runs (a path that is not percent-encoded UTF-8)
    // goes through the same problem+json handler as everything else.
    frameworkErrors: (error, request, reply) => handleError(error, request, reply),
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  // First among the request hooks, so a request's span covers authentication too (tracing off: none).
  registerTracing(app, ctx);
  app.setErrorHandler(handleError);
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  refuseUnstorableText(app);
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, problem('route_not_found', `No route ${request.method} ${request.url.split('?')[0]}`)),
  );

  await app.register(cookie);
  await app.register(multipart, { limits: { fileSize: ctx.config.maxUploadBytes, files: 1, fields: 10 } });
  const rateLimitRedis = ctx.config.redisUrl
    ? new Redis(ctx.config.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 1 })
    : null;
  // The rate-limit plugin does not close a client it was given; shutdown must not leave it open.
  // While Redis is down ioredis keeps reconnecting; the requests that need it answer 503.
  if (rateLimitRedis) {
    rateLimitRedis.on('error', (error: Error) => ctx.log.debug({ err: error }, 'rate-limit Redis'));
    app.addHook('onClose', async () => {
      await rateLimitRedis.quit();
    });
  }
  await app.register(rateLimit, {
    global: false,
    ...(rateLimitRedis
      ? { redis: rateLimitRedis, nameSpace: rateLimitNamespace(ctx.config.databaseUrl) }
      : {}),
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Openlines API',
        version: '1',
        description:
          'REST API of Openlines. Errors are RFC 9457 problem+json with a stable `code`. Authenticate with the session cookie (plus the `X-CSRF-Token` header on unsafe requests) or with `Authorization: Bearer <API token>`. The Bitrix24-compatible REST surface (`/rest/<method>`, Bitrix24 envelope and errors) is outside this document: see docs/bitrix24-compat.md.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          cookie: { type: 'apiKey', in: 'cookie', name: 'ol_session' },
        },
      },
      security: [{ bearer: [] }, { cookie: [] }],
    },
  });
  // The docs are public: they describe the API, they do not expose data.
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/api/docs')) route.config = { ...(route.config ?? {}), public: true };
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs', uiConfig: { deepLinking: true } });
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
  await app.register(authPlugin, { ctx });

  // One ordered event stream per account for every socket (operators', and the widget's visitors'
  // through its channel edge): one bus subscription, one gap filler.
  const sequencer = new EventSequencer(ctx);
  const gateway = new RealtimeGateway(ctx, sequencer);
  await app.register(healthRoutes, { ctx });
  registerMetrics(app, ctx, gateway);
  await app.register(widgetAssetRoutes);
  // The operator and administration app (web/dist) at `/`; API paths keep their problem+json 404s.
  await app.register(webAppPlugin);
  await app.register(
    async (api) => {
      await api.register(authRoutes, { ctx });
      // The server operator's API (ADMIN_TOKEN): accounts and plans.
      await api.register(adminRoutes, { ctx, prefix: '/admin' });
      // Self-service sign-up, only with SIGNUP_ENABLED.
      if (ctx.config.signupEnabled) await api.register(signupRoutes, { ctx });
      await api.register(userRoutes, { ctx });
      await api.register(organizationRoutes, { ctx });
      await api.register(realtimeRoutes, { ctx, gateway });
      await api.register(lineRoutes, { ctx });
      await api.register(channelRoutes, { ctx });
      await api.register(dialogRoutes, { ctx });
      await api.register(quickAnswerRoutes, { ctx });
      await api.register(operatorActionRoutes, { ctx });
      await api.register(eventWebhookRoutes, { ctx });
      await api.register(crmRoutes, { ctx });
      await api.register(botRoutes, { ctx });
      await api.register(botApiRoutes, { ctx });
      await api.register(fileRoutes, { ctx });
      await api.register(auditRoutes, { ctx });
      await api.register(clientExportRoutes, { ctx });
      await api.register(privacyRoutes, { ctx });
      await api.register(clientBlockRoutes, { ctx });
      await api.register(statisticsRoutes, { ctx });
      await api.register(messageEditRoutes, { ctx });
      await api.register(bitrixAdminRoutes, { ctx });
      // The one inbound path of webhook-style channels (services/channel-inbound.ts).
      await api.register(webhookRoutes, { ctx, routes: [CHANNEL_WEBHOOK] });
      // Each channel kind's own routes and socket (channels/edges.ts).
      for (const routes of edgeRoutes()) await api.register(routes, { ctx, sequencer });
    },
    { prefix: '/api/v1' },
  );
  // The Bitrix24-compatible REST surface (PL-4): its own envelope, errors and auth (server/src/bitrix).
  await app.register(bitrixRoutes, { ctx, prefix: '/rest' });
  app.addHook('onClose', async () => gateway.close());
  app.addHook('onClose', async () => sequencer.close());
  return { app, gateway };
}
