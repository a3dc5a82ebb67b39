import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { OpenlinesClient, Realtime } from '@openlines/sdk';
import { WebSocket } from 'ws';
import { ChannelsApi, DialogsApi } from '../sdk/src/api/conversations';
import { TestVisitor } from '../server/test/widget-visitor';
import { DeliveryTracker } from './delivery';
import { BackendSampler, type BackendStates } from './pg-sampler';
import { type ServerThread, startServerThread } from './server-thread';
import { createApiLine, createOperator, signInAdmin, signInOperator } from './setup';
import { drive, driveAtRate, type PhaseResult, type RatePhaseResult, type Sample, warmUp } from './stats';

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
  /** Messages per second of each fixed-rate (open-loop) phase, run after the closed loop. */
  rates: number[];
  rateSeconds: number;
  /** Messages of each kind sent one at a time to count its statements. */
  kindSamples: number;
  log(line: string): void;
}

/** Statements per message of one kind, sent one at a time (no group commit to share them). */
export interface KindStatements {
  kind: string;
  messages: number;
  statementsPerMessage: number;
  /** The server thread's CPU per message, one at a time (no batching to share it); null off Linux. */
  serverCpuMsPerMessage: number | null;
}

/** What the server sends while nothing happens: its background workers' polling. */
export interface IdleStatements {
  seconds: number;
  statementsPerSecond: number;
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
  kinds: KindStatements[];
  idle: IdleStatements;
  fixedRate: RatePhaseResult[];
}

/** A loopback receiver for the API channel's webhook (the welcome message of each new dialog). */
export async function startWebhookSink(): Promise<{
  url: string;
  received(): number;
  close(): Promise<void>;
}> {
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
    const { admin, operatorRoleId } = await signInAdmin(server.url, server.firstRun);
    const operatorIds: string[] = [];
    const operatorDialogs = new Map<string, DialogsApi>();
    for (let i = 0; i < options.operators; i++) {
      const user = await createOperator(admin, operatorRoleId, 'bench', i);
      const client = await signInOperator(server.url, user.email);
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
      operatorDialogs.set(user.id, new DialogsApi(client.transport));
    }

    const line = await createApiLine(admin, server.url, {
      name: 'Bench',
      operatorIds,
      maxChat: 0,
      webhookUrl: sink.url,
    });
    const { sender } = line;
    const setupMs = performance.now() - setupStarted;
    options.log(`  set up in ${(setupMs / 1000).toFixed(1)} s: ${options.operators} operators online`);

    const dialogs = new Set<string>();
    const send =
      (prefix: string, clients: number, record: boolean, idPrefix = prefix) =>
      async (index: number, dueAt?: number): Promise<Sample> => {
        const clientId = `${prefix}-client-${index % clients}`;
        const started = performance.now();
        const result = await sender.send({
          externalId: `${idPrefix}-${index}`,
          user: { id: clientId, name: `Client ${index % clients}` },
          text: `Hello, message ${index}`,
        });
        const httpMs = performance.now() - started;
        if (result.duplicate) throw new Error(`message ${idPrefix}-${index} was stored twice`);
        if (record) dialogs.add(result.dialogId);
        const arrived = await tracker.arrivalAtHolder(
          result.messageId,
          result.dialogId,
          options.deliveryTimeoutMs,
        );
        const group =
          index < clients ? 'first message (new session, routed)' : 'next messages (open session)';
        return { ok: true, latencyMs: arrived - (dueAt ?? started), httpMs, group };
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

    options.log('  statements per message, by kind, one message at a time…');
    const kinds = await statementsByKind({
      server,
      samples: options.kindSamples,
      held: send('m', options.clients, false, 'kind-held'),
      first: send('kind-first', Number.MAX_SAFE_INTEGER, false),
      operatorToWidget: () =>
        operatorMessagesToWidget(server!, admin, line.lineId, operatorDialogs, options.kindSamples),
    });
    const idle = await idleStatements(server, 5);
    const fixedRate: RatePhaseResult[] = [];
    for (const rate of options.rates) {
      options.log(`  fixed rate: ${rate} msgs/s for ${options.rateSeconds} s (open loop)…`);
      // Held-dialog messages of the measured clients, with ids of their own.
      fixedRate.push(
        await driveAtRate(
          `Openlines at ${rate} msgs/s`,
          rate,
          options.rateSeconds,
          send('m', options.clients, false, `rate-${rate}`),
          server,
        ),
      );
    }

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
      kinds,
      idle,
      fixedRate,
    };
  } finally {
    tracker.abort('the bench is shutting down');
    for (const socket of sockets) socket.close();
    await server?.stop();
    await sink.close();
  }
}

/** Statements per second over `seconds` with no message in flight, after the work before has settled. */
async function idleStatements(server: ServerThread, seconds: number): Promise<IdleStatements> {
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const before = await server.statements();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  return { seconds, statementsPerSecond: ((await server.statements()) - before) / seconds };
}

const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 300));

/**
 * Each kind sent one at a time, waited for to the operator's socket, then 300 ms for the work that
 * follows a commit (the outbox, timers); the statements of the background workers in that window
 * are counted too, so these are upper bounds.
 */
async function statementsByKind(probe: {
  server: ServerThread;
  samples: number;
  held: (index: number) => Promise<Sample>;
  first: (index: number) => Promise<Sample>;
  operatorToWidget: () => Promise<{ send(index: number): Promise<void> }>;
}): Promise<KindStatements[]> {
  const { server, samples } = probe;
  const measure = async (
    kind: string,
    one: (index: number) => Promise<Sample | undefined>,
  ): Promise<KindStatements> => {
    await settle();
    const before = await server.statements();
    const cpuBefore = await server.cpuMs();
    for (let index = 0; index < samples; index++) {
      const result = await one(index);
      if (result && !result.ok) throw new Error(`${kind}: ${result.error}`);
    }
    await settle();
    const cpuAfter = await server.cpuMs();
    return {
      kind,
      messages: samples,
      statementsPerMessage: ((await server.statements()) - before) / samples,
      serverCpuMsPerMessage:
        cpuBefore === null || cpuAfter === null ? null : (cpuAfter - cpuBefore) / samples,
    };
  };
  const widget = await probe.operatorToWidget();
  return [
    await measure('client message in a dialog an operator holds', probe.held),
    await measure("new client's first message (session opened, routed, welcome)", probe.first),
    await measure('operator message to a widget visitor', async (index) => {
      await widget.send(index);
      return undefined;
    }),
  ];
}

/** A widget visitor with a dialog held by an operator, and a way to have that operator answer. */
async function operatorMessagesToWidget(
  server: ServerThread,
  admin: OpenlinesClient,
  lineId: string,
  operators: Map<string, DialogsApi>,
  samples: number,
): Promise<{ send(index: number): Promise<void> }> {
  const { channel } = await new ChannelsApi(admin.transport).create({
    kind: 'widget',
    name: 'Bench site',
    lineId,
    settings: { allowedDomains: ['shop.example.test'] },
  });
  const visitor = new TestVisitor(
    server.url,
    String(channel.settings.publicKey),
    'https://shop.example.test',
  );
  const started = await visitor.start();
  if (started.status !== 200 && started.status !== 201)
    throw new Error(`widget session: HTTP ${started.status}`);
  const said = await visitor.send('Is this in stock?');
  if (said.status >= 300) throw new Error(`widget message: HTTP ${said.status}`);
  const { items } = await new DialogsApi(admin.transport).list({ channelId: channel.id, view: 'all' });
  const holderId = items[0]?.session?.operatorId;
  const holder = holderId ? operators.get(holderId) : undefined;
  if (!items[0] || !holder) throw new Error('the widget dialog was not assigned to a bench operator');
  const dialogId = items[0].id;
  return {
    async send(index) {
      const message = await holder.send(dialogId, { text: `Answer ${index} of ${samples}` });
      if (message.deliveryState !== 'sent')
        throw new Error(`operator message ${index} is ${message.deliveryState}`);
    },
  };
}
