import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../context';
import { apiEdge } from './api/edge';
import type { EdgeRouteOptions } from './edge-types';
import { emailEdge } from './email/edge';
import { telegramEdge } from './telegram/edge';
import { widgetEdge } from './widget/edge';

/**
 * Every channel kind's edge (its routes, worker, socket: edge-types.ts), one line per kind that has
 * one. A kind that only needs the generic webhook path has no edge and no line here. Imported by
 * `server.ts` (workers) and `http/app.ts` (routes) only.
 */
const CHANNEL_EDGES = [apiEdge, telegramEdge, widgetEdge, emailEdge] as const;

type Edge = (typeof CHANNEL_EDGES)[number];
type WorkerOf<E> = E extends { worker: (ctx: AppContext) => infer W } ? W : never;

/** The kinds' workers by kind (`server.workers.telegram`). */
export type ChannelWorkers = {
  [E in Edge as [WorkerOf<E>] extends [never] ? never : E['kind']]: WorkerOf<E>;
};

export function edgeKinds(): string[] {
  return CHANNEL_EDGES.map((edge) => edge.kind);
}

/** Every kind's routes, to register under the `/api/v1` prefix with EdgeRouteOptions. */
export function edgeRoutes(): FastifyPluginAsyncTypebox<EdgeRouteOptions>[] {
  return CHANNEL_EDGES.flatMap((edge) => ('routes' in edge ? [edge.routes] : []));
}

/** Builds every kind's worker (not started). */
export function buildEdgeWorkers(ctx: AppContext): ChannelWorkers {
  const workers: Record<string, unknown> = {};
  for (const edge of CHANNEL_EDGES) if ('worker' in edge) workers[edge.kind] = edge.worker(ctx);
  return workers as ChannelWorkers;
}
