import { performance } from 'node:perf_hooks';
import Fastify from 'fastify';
import { sql } from 'kysely';
import { openStore } from '../server/src/store/database';
import { startServerThread } from './server-thread';
import { drive, type PhaseResult, warmUp } from './stats';

export interface BaselineOptions {
  /** The same PostgreSQL database Openlines uses, or null for a PGlite of its own in memory. */
  databaseUrl: string | null;
  messages: number;
  concurrency: number;
  clients: number;
  warmUpMessages: number;
  /** No new message after this many ms of the measured phase. */
  maxMs: number;
  /** Names the row, e.g. "before" / "after" when the baseline brackets the Openlines run. */
  label: string;
}

interface BaselineBody {
  externalId: string;
  user: { id: string; name?: string };
  text: string;
}

/**
 * The floor any chat server on this machine and database stands on: a bare Fastify route doing one
 * INSERT per request, through the same store layer Openlines uses (Kysely over PGlite, or a pg pool
 * of the same size). Runs in a server thread (see server-worker.ts).
 */
export async function startBaselineServer(databaseUrl: string | null) {
  const store = await openStore({ databaseUrl, dataDir: null });
  const app = Fastify({ logger: false });
  try {
    await sql`create table if not exists bench_baseline_messages (
      id bigserial primary key,
      client_id text not null,
      external_id text not null,
      text text not null,
      created_at timestamptz not null default now()
    )`.execute(store.db);
    app.post<{ Body: BaselineBody }>('/messages', async (request, reply) => {
      const { externalId, user, text } = request.body;
      const { rows } = await sql<{ id: number }>`insert into bench_baseline_messages
        (client_id, external_id, text) values (${user.id}, ${externalId}, ${text}) returning id`.execute(
        store.db,
      );
      return reply.status(201).send({ messageId: String(rows[0]!.id) });
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
  } catch (error) {
    await app.close();
    await store.close();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    firstRun: null,
    async close() {
      await app.close();
      await sql`drop table if exists bench_baseline_messages`.execute(store.db).catch(() => {});
      await store.close();
    },
  };
}

/** Drives the baseline with the same client, message count and concurrency as Openlines. */
export async function runBaseline(options: BaselineOptions): Promise<PhaseResult> {
  const server = await startServerThread({
    app: 'baseline',
    databaseUrl: options.databaseUrl,
    redisUrl: null,
  });
  try {
    const endpoint = `${server.url}/messages`;
    const send = (prefix: string, clients: number) => async (index: number) => {
      const body: BaselineBody = {
        externalId: `${prefix}-${index}`,
        user: { id: `${prefix}-client-${index % clients}`, name: `Client ${index % clients}` },
        text: `Hello, message ${index}`,
      };
      const started = performance.now();
      const response = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer baseline' },
        body: JSON.stringify(body),
      });
      if (response.status !== 201) throw new Error(`baseline answered HTTP ${response.status}`);
      await response.json();
      const latencyMs = performance.now() - started;
      return { ok: true as const, latencyMs, httpMs: latencyMs };
    };

    await warmUp(options.warmUpMessages, options.concurrency, send('warm', 20));
    return await drive(
      `Baseline: Fastify + 1 INSERT (${options.label})`,
      options.messages,
      options.concurrency,
      send('m', options.clients),
      server,
      { maxMs: options.maxMs },
    );
  } finally {
    await server.stop();
  }
}
