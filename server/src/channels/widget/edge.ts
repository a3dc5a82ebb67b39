import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AttachmentSchema,
  IdParams,
  WidgetConfigSchema,
  WidgetContactFormBody,
  WidgetConversationSchema,
  WidgetHistoryQuery,
  WidgetHistorySchema,
  WidgetIdentifyBody,
  WidgetPageBody,
  WidgetRatingBody,
  WidgetSendBody,
  WidgetSendResultSchema,
  WidgetSnippetSchema,
  WidgetTypingBody,
} from '@openlines/contract';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context';
import { AppError, notFound } from '../../errors';
import { actorOf, bearerToken } from '../../http/auth';
import { readUploadedFile } from '../../http/uploads';
import { getChannel } from '../../services/channels';
import { hashToken } from '../../services/secrets';
import {
  allowedDomainsOf,
  conversationOf,
  identifyVisitor,
  requireVisitor,
  resolveWidgetChannel,
  sendVisitorMessage,
  startConversation,
  storeVisitorFile,
  uploadLimitBytes,
  visitorConsents,
  visitorContactForm,
  visitorHistory,
  visitorPage,
  visitorRates,
  visitorTyping,
  type WidgetChannel,
  widgetConfigOf,
} from '../../services/widget-visitors';
import { VisitorGateway } from '../../ws/visitor-gateway';
import { defineEdge } from '../edge-types';
import { originAllowed } from './settings';
import { installSnippet, loaderUrl } from './snippet';

/**
 * A public endpoint's request budget per minute: per client IP within one widget, and per visitor
 * token. Both are counted in the rate-limit store (Redis when configured, so every process shares
 * them).
 */
interface WidgetLimit {
  bucket: string;
  ip: number;
  visitor?: number;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    widgetLimit?: WidgetLimit;
  }
}

/*
 * Per-IP budgets are generous: many visitors may share one address (offices, mobile carriers'
 * NAT). Per-visitor budgets are what a person can use.
 */
export const WIDGET_RATE_LIMITS = {
  config: { bucket: 'config', ip: 600 },
  session: { bucket: 'session', ip: 120, visitor: 60 },
  read: { bucket: 'read', ip: 600, visitor: 120 },
  message: { bucket: 'message', ip: 300, visitor: 30 },
  upload: { bucket: 'upload', ip: 60, visitor: 10 },
  typing: { bucket: 'typing', ip: 1200, visitor: 120 },
  action: { bucket: 'action', ip: 120, visitor: 10 },
  page: { bucket: 'page', ip: 600, visitor: 60 },
  identify: { bucket: 'identify', ip: 300, visitor: 30 },
  socket: { bucket: 'socket', ip: 240 },
} as const satisfies Record<string, WidgetLimit>;
const WINDOW_MS = 60_000;
/** JSON bodies of the public endpoints: a message of 10,000 characters fits, nothing much bigger. */
const JSON_BODY_LIMIT = 64 * 1024;

const KeyParams = Type.Object({ key: Type.String({ minLength: 1, maxLength: 100 }) });
const WsQuery = Type.Object(
  {
    after: Type.Optional(
      Type.Integer({ minimum: 0, description: 'Resume: replay every event of the conversation after it' }),
    ),
  },
  { additionalProperties: false },
);

const PUBLIC_DESCRIPTION = `Public endpoint of the website widget (LN-6), for the widget script.
The path names the widget by its public key. The request's Origin must be one of the widget's
allowed domains (403 \`reason: "origin_not_allowed"\` otherwise); CORS answers name that origin only.
The visitor is named by \`Authorization: Bearer olv_…\`, the token from POST …/session.
Rate-limited per IP and per visitor (429 with Retry-After).`;

/** The administrator's view of a widget channel: its install snippet (needs manageLines). */
const adminRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.get(
    '/channels/:id/widget',
    {
      schema: {
        tags: ['widget'],
        summary: "A widget channel's install snippet: paste it into every page of the site",
        params: IdParams,
        response: { 200: WidgetSnippetSchema },
      },
    },
    async (request) => {
      const channel = await getChannel(ctx, actorOf(request), request.params.id);
      const publicKey = channel.settings.publicKey;
      if (channel.kind !== 'widget' || typeof publicKey !== 'string') throw notFound('The widget channel');
      const base = ctx.publicUrl.value;
      return { publicKey, loaderUrl: loaderUrl(base), snippet: installSnippet(base, publicKey) };
    },
  );
};

const visitorRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext; gateway: VisitorGateway }> = async (
  app,
  { ctx, gateway },
) => {
  const channels = new WeakMap<FastifyRequest, WidgetChannel>();
  const channelOf = (request: FastifyRequest): WidgetChannel => {
    const channel = channels.get(request);
    if (!channel) throw new Error('widget channel not resolved');
    return channel;
  };
  const limitOf = (request: FastifyRequest): WidgetLimit =>
    request.routeOptions.config.widgetLimit ?? WIDGET_RATE_LIMITS.read;
  const ipLimiter = app.createRateLimit({
    keyGenerator: (request) => `widget:${limitOf(request).bucket}:${channelOf(request).id}:ip:${request.ip}`,
    max: (request) => limitOf(request).ip,
    timeWindow: WINDOW_MS,
  });
  const visitorLimiter = app.createRateLimit({
    keyGenerator: (request) =>
      `widget:${limitOf(request).bucket}:${channelOf(request).id}:v:${hashToken(bearerToken(request) ?? '').slice(0, 32)}`,
    max: (request) => limitOf(request).visitor ?? Number.MAX_SAFE_INTEGER,
    timeWindow: WINDOW_MS,
  });

  async function enforceLimits(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const results = [await ipLimiter(request)];
    if (limitOf(request).visitor !== undefined && bearerToken(request))
      results.push(await visitorLimiter(request));
    for (const result of results) {
      if (!result.isAllowed && result.isExceeded) {
        const seconds = Math.max(1, result.ttlInSeconds);
        reply.header('retry-after', String(seconds));
        throw new AppError('rate_limited', `Too many requests; try again in ${seconds} s`, undefined, {
          retryAfter: seconds,
        });
      }
    }
  }

  // Before the body is read: the widget must exist, the page's origin must be allowed, and the
  // caller within its budget. CORS headers name the allowed origin only, on errors too.
  app.addHook('onRequest', async (request, reply) => {
    const { key } = request.params as { key: string };
    const channel = await resolveWidgetChannel(ctx, key);
    const origin = request.headers.origin;
    if (!originAllowed(allowedDomainsOf(channel), origin)) {
      throw new AppError(
        'forbidden',
        "This site may not use the widget: add its domain to the widget's allowed domains",
        undefined,
        { reason: 'origin_not_allowed' },
      );
    }
    if (origin) {
      reply
        .header('access-control-allow-origin', origin)
        .header('vary', 'Origin')
        .header('access-control-expose-headers', 'retry-after');
    }
    channels.set(request, channel);
    await enforceLimits(request, reply);
  });

  const visitorOf = (request: FastifyRequest) =>
    requireVisitor(ctx, channelOf(request), bearerToken(request));

  app.options(
    '/*',
    {
      config: { public: true, widgetLimit: WIDGET_RATE_LIMITS.read },
      schema: { tags: ['widget'], summary: 'CORS preflight of the public widget endpoints', hide: true },
    },
    async (_request, reply) =>
      reply
        .header('access-control-allow-methods', 'GET, POST, OPTIONS')
        .header('access-control-allow-headers', 'authorization, content-type')
        .header('access-control-max-age', '600')
        .status(204)
        .send(),
  );

  app.get(
    '/config',
    {
      config: { public: true, widgetLimit: WIDGET_RATE_LIMITS.config },
      schema: {
        tags: ['widget'],
        summary: 'Widget configuration: language, appearance, schedule (WH-3), limits',
        description: PUBLIC_DESCRIPTION,
        params: KeyParams,
        response: { 200: WidgetConfigSchema },
      },
    },
    async (request, reply) => {
      // Every page view asks; a minute's staleness of the schedule is fine.
      reply.header('cache-control', 'private, max-age=60');
      return widgetConfigOf(ctx, channelOf(request));
    },
  );

  app.post(
    '/session',
    {
      config: { public: true, widgetLimit: WIDGET_RATE_LIMITS.session },
      bodyLimit: JSON_BODY_LIMIT,
      schema: {
        tags: ['widget'],
        summary: 'Start or resume the visitor’s conversation (201 with a new token, 200 when resumed)',
        description: PUBLIC_DESCRIPTION,
        params: KeyParams,
        response: { 200: WidgetConversationSchema, 201: WidgetConversationSchema },
      },
    },
    async (request, reply) => {
      const { visitorRow: _visitor, ...conversation } = await startConversation(
        ctx,
        channelOf(request),
        bearerToken(request),
      );
      return reply.status(conversation.token ? 201 : 200).send(conversation);
    },
  );

  app.post(
    '/identify',
    {
      config: { public: true, widgetLimit: WIDGET_RATE_LIMITS.identify },
      bodyLimit: JSON_BODY_LIMIT,
      schema: {
        tags: ['widget'],
        summary: 'Identify the visitor as a user of the site: hash = hex HMAC-SHA256(identity secret, id)',
        description: PUBLIC_DESCRIPTION,
        params: KeyParams,
        body: WidgetIdentifyBody,
        response: { 200: WidgetConversationSchema },
      },
    },
    async (request) => {
      const channel = channelOf(request);
      const visitor = await identifyVisitor(ctx, channel, await visitorOf(request), request.body);
      return conversationOf(ctx, channel, visitor);
    },
  );

  app.get(
    '/messages',
    {
      config: { public: true, widgetLimit: WIDGET_RATE_LIMITS.read },
      schema: {
        tags: ['widget'],
        summary: 'Older messages of the visitor’s conversation, oldest first',
        description: PUBLIC_DESCRIPTION,
        params: KeyParams,
        querystring: WidgetHistoryQuery,
        response: { 200: WidgetHistorySchema },
      },
    },
    async (request) => visitorHistory(ctx, channelOf(request), await visitorOf(request), request.query),
  );

  app.post(
    '/messages',
    {
      config: { public: true, widgetLimit: WIDGET_RATE_LIMITS.message },
      bodyLimit: JSON_BODY_LIMIT,
      schema: {
        tags: ['widget'],
        summary:
          'Send a message; 201 when stored, 200 when this clientMessageId was stored before; 409 consent_required before the visitor agreed or declined on a line that requires consent (AG-2)',
        description: PUBLIC_DESCRIPTION,
        params: KeyParams,
        body: WidgetSendBody,
        response: { 200: WidgetSendResultSchema, 201: WidgetSendResultSchema },
      },
    },
    async (request, reply) => {
      const result = await sendVisitorMessage(
        ctx,
        channelOf(request),
        await visitorOf(request),
        request.body,
      );
      return reply.status(result.duplicate ? 200 : 201).send(result);
    },
  );

  app.post(
    '/files',
    {
      config: { public: true, widgetLimit: WIDGET_RATE_LIMITS.upload },
      schema: {
        tags: ['widget'],
        summary: 'Upload an attachment (multipart, one part named "file"); send its result in a message',
        description: PUBLIC_DESCRIPTION,
        consumes: ['multipart/form-data'],
        params: KeyParams,
        response: { 201: AttachmentSchema },
      },
    },
    async (request, reply) => {
      const channel = channelOf(request);
      const visitor = await visitorOf(request);
      const limit = uploadLimitBytes(ctx);
      const part = await readUploadedFile(
        request,
        limit,
        `Files may be at most ${Math.floor(limit / 1024 / 1024)} MB`,
      );
      const data = part.data;
      const attachment = await storeVisitorFile(ctx, channel, visitor, {
        filename: part.filename,
        mimetype: part.mimetype,
        data,
      });
      return reply.status(201).send(attachment);
    },
  );

  app.post(
    '/typing',
    {
      config: { public: true, widgetLimit: WIDGET_RATE_LIMITS.typing },
      bodyLimit: JSON_BODY_LIMIT,
      schema: {
        tags: ['widget'],
        summary: 'The visitor is typing (with the text when the line lets operators watch, AA-8)',
        description: `${PUBLIC_DESCRIPTION}\nThe visitor socket takes \`{ "kind": "typing", "text": … }\` frames too.`,
        params: KeyParams,
        body: WidgetTypingBody,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await visitorTyping(ctx, channelOf(request), await visitorOf(request), request.body.text ?? null);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/page',
    {
      config: { public: true, widgetLimit: WIDGET_RATE_LIMITS.page },
      bodyLimit: JSON_BODY_LIMIT,
      schema: {
        tags: ['widget'],
        summary:
          "The page the visitor is on and the page they came from (absolute http/https URLs); shown in the operator's client card",
        description: PUBLIC_DESCRIPTION,
        params: KeyParams,
        body: WidgetPageBody,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await visitorPage(ctx, channelOf(request), await visitorOf(request), request.body);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/consent',
    {
      config: { public: true, widgetLimit: WIDGET_RATE_LIMITS.action },
      schema: {
        tags: ['widget'],
        summary:
          'The visitor consents to processing of personal data: the "I agree" button (AG-2); before the first message on a line that requires it',
        description: PUBLIC_DESCRIPTION,
        params: KeyParams,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await visitorConsents(ctx, channelOf(request), await visitorOf(request));
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/consent/refuse',
    {
      config: { public: true, widgetLimit: WIDGET_RATE_LIMITS.action },
      schema: {
        tags: ['widget'],
        summary:
          'The visitor refuses consent to processing of personal data: the "I do not agree" button (AG-2); recorded, not counted as consent',
        description: PUBLIC_DESCRIPTION,
        params: KeyParams,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await visitorConsents(ctx, channelOf(request), await visitorOf(request), 'refused');
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/contact-form',
    {
      config: { public: true, widgetLimit: WIDGET_RATE_LIMITS.action },
      bodyLimit: JSON_BODY_LIMIT,
      schema: {
        tags: ['widget'],
        summary: 'The contact form the line asked for (AA-2), or the offline form outside working hours',
        description: PUBLIC_DESCRIPTION,
        params: KeyParams,
        body: WidgetContactFormBody,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await visitorContactForm(ctx, channelOf(request), await visitorOf(request), request.body);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/rating',
    {
      config: { public: true, widgetLimit: WIDGET_RATE_LIMITS.action },
      bodyLimit: JSON_BODY_LIMIT,
      schema: {
        tags: ['widget'],
        summary:
          'Rate the conversation: like or dislike, with an optional comment (QR-1); 409 when not asked',
        description: PUBLIC_DESCRIPTION,
        params: KeyParams,
        body: WidgetRatingBody,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await visitorRates(ctx, channelOf(request), await visitorOf(request), request.body);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/ws',
    {
      websocket: true,
      config: { public: true, widgetLimit: WIDGET_RATE_LIMITS.socket },
      schema: {
        tags: ['widget'],
        summary: 'The visitor WebSocket: send { kind: "auth", token } first; resume with after=<cursor>',
        description: PUBLIC_DESCRIPTION,
        params: KeyParams,
        querystring: WsQuery,
      },
    },
    (socket, request) => {
      gateway.accept(socket, channelOf(request), request.query.after ?? null);
    },
  );
};

/** Widget routes under /api/v1: the administrator's snippet and the visitors' public endpoints. */
export const widgetRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext; gateway: VisitorGateway }> = async (
  app,
  { ctx, gateway },
) => {
  await app.register(adminRoutes, { ctx });
  await app.register(visitorRoutes, { ctx, gateway, prefix: '/widget/:key' });
};

/**
 * The widget beyond its connector: the administrator's snippet, the visitors' public endpoints
 * under /api/v1/widget/<publicKey>/… and their socket (ws/visitor-gateway.ts), which joins the
 * process's ordered event stream. The built scripts are served by http/routes/widget-assets.ts.
 */
export const widgetEdge = defineEdge({
  kind: 'widget',
  routes: async (app, { ctx, sequencer }) => {
    const visitors = new VisitorGateway(ctx, sequencer);
    app.addHook('onClose', async () => visitors.close());
    await app.register(widgetRoutes, { ctx, gateway: visitors });
  },
});
