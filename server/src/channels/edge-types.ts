import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../context';
import type { EventSequencer } from '../ws/sequencer';

/**
 * What a channel kind adds to the server beyond its connector, when it needs more than the generic
 * inbound path (services/channel-inbound.ts, `POST /api/v1/channels/:channelId/webhook`): its own
 * HTTP routes, a background worker, a socket. Each kind declares it in `channels/<kind>/edge.ts`,
 * listed once in `edges.ts`; only `server.ts` and `http/app.ts` read that list. Edge files are
 * adapters like routes: they call services and never the store (biome.json).
 */

/** What every edge's routes are registered with (under `/api/v1`). */
export interface EdgeRouteOptions {
  ctx: AppContext;
  /** The process's one ordered event stream per account, for a kind's own socket (the widget's). */
  sequencer: EventSequencer;
}

/** A background loop of a kind (Telegram's webhook registration and long polling). */
export interface EdgeWorker {
  start(): void;
  stop(): Promise<void>;
}

export interface ChannelEdge {
  /** The connector's kind (registry.ts). */
  readonly kind: string;
  /** A Fastify plugin registered under `/api/v1`. */
  readonly routes?: FastifyPluginAsyncTypebox<EdgeRouteOptions>;
  /** Built once per server after it listens; started unless the server runs without workers (tests). */
  readonly worker?: (ctx: AppContext) => EdgeWorker;
}

/** Keeps the literal kind and the worker's own type, so `server.workers.<kind>` is typed. */
export function defineEdge<const E extends ChannelEdge>(edge: E): E {
  return edge;
}
