import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { MAX_WHOLE_NUMBER } from '@openlines/contract';
import { Type } from '@sinclair/typebox';
import type { AppContext } from '../../context';
import { AppError } from '../../errors';
import type { RealtimeGateway } from '../../ws/gateway';
import { actorOf } from '../auth';

const WsQuery = Type.Object(
  {
    after: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_WHOLE_NUMBER,
        description: 'Resume: replay every event after this cursor',
      }),
    ),
  },
  { additionalProperties: false },
);

/** Browsers send cookies on cross-site WebSocket handshakes only by Origin, so check it. */
function sameOrigin(ctx: AppContext, origin: string | undefined, host: string | undefined): boolean {
  if (!origin) return true;
  try {
    const url = new URL(origin);
    if (ctx.config.publicUrl && url.origin === new URL(ctx.config.publicUrl).origin) return true;
    return url.host === host;
  } catch {
    return false;
  }
}

export const realtimeRoutes: FastifyPluginAsyncTypebox<{
  ctx: AppContext;
  gateway: RealtimeGateway;
}> = async (app, { ctx, gateway }) => {
  app.get(
    '/ws',
    {
      websocket: true,
      schema: {
        tags: ['realtime'],
        summary: 'WebSocket of events; authenticate by the session cookie or `Authorization: Bearer`',
        querystring: WsQuery,
      },
      preValidation: async (request) => {
        const actor = actorOf(request);
        if (actor.via === 'session' && !sameOrigin(ctx, request.headers.origin, request.headers.host)) {
          throw new AppError('forbidden', 'The WebSocket origin is not allowed');
        }
      },
    },
    (socket, request) => {
      void gateway
        .accept(socket, actorOf(request), request.query.after ?? null, request.raw.socket)
        .catch((error) => {
          request.log.error({ err: error }, 'websocket accept failed');
          socket.close(1011, 'internal error');
        });
    },
  );
};
