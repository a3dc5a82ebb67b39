import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { OpenlinesClient, type Realtime } from '@openlines/sdk';
import { WebSocket } from 'ws';
import { ApiChannelSender, ChannelsApi, LinesApi } from '../sdk/src/api/conversations';
import { DeliveryTracker } from './delivery';
import { BackendSampler, type BackendStates } from './pg-sampler';
import { type ServerThread, startServerThread } from './server-thread';
import { drive, type PhaseResult, type Sample, warmUp } from './stats';

export interface OpenlinesOptions {
  /** An isolated PostgreSQL database, or null for PGlite in memory. */
  databaseUrl: string | null;
  redisUrl: string | null;
  messages: number;
  concurrency: number;
  clients: number;
  operators: number;
  warmUpMessages: number;
  /** No new message after this many ms of the measured phase. */
  maxMs: number;
  /** How long one message may take to reach its operator before it counts as failed. */
  deliveryTimeoutMs: number;
  log(line: string): void;
}

export interface OpenlinesResult {
  phase: PhaseResult;
  setupMs: number;
  /** Sessions of the measured clients per operator (distribution `evenly`). */
  sessionsPerOperator: number[];
  /** WebSocket frames (events) received by all operators together, per measured message. */
  framesPerMessage: number;
  /** Webhook POSTs (welcome messages to new clients) the API channel's receiver got. */
  webhookDeliveries: number;
  /** PostgreSQL only: what the server's connections were doing during the measured phase. */
  backends: BackendStates | null;
}

const PASSWORD = 'bench password 1234';

/** A loopback receiver for the API channel's webhook (the welcome message of each new dialog). */
async function startWebhookSink(): Promise<{ url: string; received(): number; close(): Promise<void> }> {
  let received = 0;
  const server = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      received++;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{}');
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhook`,
    received: () => received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The real pipeline: a client message POSTed to the API channel is stored, its session routed to an
 * operator, and `message.created` pushed to that operator's WebSocket. Latency runs from the start
 * of the POST to the event's arrival on the holder's socket.
 */
export async function runOpenlines(options: OpenlinesOptions): Promise<OpenlinesResult> {
  const setupStarted = performance.now();
  const sink = await startWebhookSink();
  let server: ServerThread | null = null;
  const sockets: Realtime[] = [];
  const tracker = new DeliveryTracker();
  try {
    server = await startServerThread({
      app: 'openlines',
      databaseUrl: options.databaseUrl,
      redisUrl: options.redisUrl,
    });
    if (!server.firstRun) throw new Error('the bench needs a fresh database (no first-run account created)');
    const admin = new OpenlinesClient({ baseUrl: server.url });
    await admin.auth.login(server.firstRun);
    const roleId = (await admin.roles.list()).find((role) => role.builtIn === 'operator')?.id;
    if (!roleId) throw new Error('no built-in operator role');
    const operatorIds: string[] = [];
    for (let i = 0; i < options.operators; i++) {
      const email = `bench-operator-${i}@example.test`;
      const user = await admin.users.create({ email, name: `Operator ${i}`, password: PASSWORD, roleId });
      const client = new OpenlinesClient({ baseUrl: server.url });
      await client.auth.login({ email, password: PASSWORD });
      const realtime = client.realtime({ WebSocket, reconnect: { initialDelayMs: 50, maxDelayMs: 500 } });
      sockets.push(realtime);
      realtime.on('event', (event) => {
        const at = performance.now();
        if (event.type === 'message.created') {
          if (event.data.message.authorKind === 'client')
            tracker.messageArrived(user.id, event.data.message.id, at);
          else tracker.otherEvent();
        } else if (event.type === 'dialog.updated') tracker.dialogUpdated(event.data.dialog);
        else tracker.otherEvent();
      });
      await realtime.once('open');
      await client.auth.setPresence('online');
      operatorIds.push(user.id);
    }

    const line = await new LinesApi(admin.transport).create({
      name: 'Bench',
      settings: {
        queue: {
          members: operatorIds.map((id) => ({ type: 'user' as const, id })),
          distribution: 'evenly',
          maxChat: 0,
          // Nobody answers during the run; keep sessions with their first operator (no pass-to-next).
          queueTimeSeconds: 86_400,
        },
      },
    });
    const { secrets } = await new ChannelsApi(admin.transport).create({
      kind: 'api',
      name: 'Bench backend',
      lineId: line.id,
      settings: { webhookUrl: sink.url },
    });
    const token = Object.values(secrets).find((value) => value.startsWith('olc_'));
    if (!token) throw new Error('the API channel returned no inbound token');
    const sender = new ApiChannelSender(server.url, token);
    const setupMs = performance.now() - setupStarted;
    options.log(`  set up in ${(setupMs / 1000).toFixed(1)} s: ${options.operators} operators online`);

    const dialogs = new Set<string>();
    const send =
      (prefix: string, clients: number, record: boolean) =>
      async (index: number): Promise<Sample> => {
        const clientId = `${prefix}-client-${index % clients}`;
        const started = performance.now();
        const result = await sender.send({
          externalId: `${prefix}-${index}`,
          user: { id: clientId, name: `Client ${index % clients}` },
          text: `Hello, message ${index}`,
        });
        const httpMs = performance.now() - started;
        if (result.duplicate) throw new Error(`message ${prefix}-${index} was stored twice`);
        if (record) dialogs.add(result.dialogId);
        const arrived = await tracker.arrivalAtHolder(
          result.messageId,
          result.dialogId,
          options.deliveryTimeoutMs,
        );
        const group =
          index < clients ? 'first message (new session, routed)' : 'next messages (open session)';
        return { ok: true, latencyMs: arrived - started, httpMs, group };
      };

    await warmUp(options.warmUpMessages, options.concurrency, send('warm', 20, false));
    const sampler = options.databaseUrl ? await BackendSampler.connect(options.databaseUrl) : null;
    sampler?.start();
    const framesBefore = tracker.framesReceived;
    const phase = await drive(
      'Openlines: API channel → operator WebSocket',
      options.messages,
      options.concurrency,
      send('m', options.clients, true),
      server,
      { maxMs: options.maxMs },
    );
    const backends = sampler ? await sampler.stop() : null;
    const framesPerMessage = (tracker.framesReceived - framesBefore) / Math.max(1, phase.ok);

    const perOperator = new Map(operatorIds.map((id) => [id, 0]));
    for (const dialogId of dialogs) {
      const holder = tracker.holderOf(dialogId);
      if (holder) perOperator.set(holder, (perOperator.get(holder) ?? 0) + 1);
    }
    return {
      phase,
      setupMs,
      sessionsPerOperator: [...perOperator.values()],
      framesPerMessage,
      webhookDeliveries: sink.received(),
      backends,
    };
  } finally {
    tracker.abort('the bench is shutting down');
    for (const socket of sockets) socket.close();
    await server?.stop();
    await sink.close();
  }
}
