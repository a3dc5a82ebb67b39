import { randomBytes } from 'node:crypto';
import pino from 'pino';
import type { EventBus } from './bus/bus';
import { MemoryBus } from './bus/memory-bus';
import { RedisBus } from './bus/redis-bus';
import { buildEdgeWorkers, type ChannelWorkers } from './channels/edges';
import type { Config } from './config';
import type { AppContext } from './context';
import { type Clock, systemClock } from './core/clock';
import { type App, buildApp } from './http/app';
import { bootstrapFirstRun, type FirstRun } from './services/accounts';
import { resolveEncryptionKey } from './services/encryption-key';
import { migrateToLatest, openStore } from './store/database';
import { startTracing } from './tracing';
import { BotDeliveryWorker } from './workers/bot-deliveries';
import { CrmSyncWorker } from './workers/crm-sync';
import { OutboxWorker } from './workers/outbox';
import { PrivacyWorker } from './workers/privacy';
import { TimerWorker } from './workers/timers';
import { WebhookWorker } from './workers/webhooks';

export interface RunningServer {
  app: App;
  ctx: AppContext;
  url: string;
  firstRun: FirstRun | null;
  /** The engine's workers and each channel kind's (`telegram`: channels/edges.ts). */
  workers: {
    timers: TimerWorker;
    outbox: OutboxWorker;
    webhooks: WebhookWorker;
    privacy: PrivacyWorker;
    bots: BotDeliveryWorker;
    crmSync: CrmSyncWorker;
  } & ChannelWorkers;
  close(): Promise<void>;
}

export interface StartOptions {
  clock?: Clock;
  /** Keeps test suites that share one Redis from hearing each other. */
  busNamespace?: string;
  /** PGlite without files (tests); ignored on PostgreSQL. */
  inMemory?: boolean;
  /** False keeps background workers from polling, so a test drives them with runOnce(). */
  workers?: boolean;
}

/** Opens the store, migrates, connects the bus, creates the first account if needed and listens. */
export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const log = pino({
    level: config.logLevel,
    redact: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-csrf-token"]'],
  });
  const store = await openStore({
    databaseUrl: config.databaseUrl,
    dataDir: options.inMemory ? null : config.dataDir,
  });
  let bus: EventBus | null = null;
  try {
    await migrateToLatest(store.db);
    bus = config.redisUrl ? await RedisBus.connect(config.redisUrl, options.busNamespace) : new MemoryBus();
    const encryptionKey =
      options.inMemory && !config.secretKey ? randomBytes(32) : await resolveEncryptionKey(config);
    const ctx: AppContext = {
      config,
      store,
      bus,
      clock: options.clock ?? systemClock,
      log,
      encryptionKey,
      publicUrl: { value: config.publicUrl ?? `http://localhost:${config.port}` },
    };
    // The SDK is loaded only when OTEL_* asks for traces: no cost otherwise.
    if (config.tracing) ctx.tracing = await startTracing(config.tracing);
    const firstRun = await bootstrapFirstRun(ctx);
    const { app } = await buildApp(ctx);
    await app.listen({ port: config.port, host: config.host });
    const timers = new TimerWorker(ctx);
    if (options.workers !== false) timers.start();
    const outbox = new OutboxWorker(ctx);
    if (options.workers !== false) outbox.start();
    const webhooks = new WebhookWorker(ctx);
    if (options.workers !== false) webhooks.start();
    // Event pruning, retention and the removal of erased files' bytes (docs/privacy.md).
    const privacy = new PrivacyWorker(ctx);
    if (options.workers !== false) privacy.start();
    const bots = new BotDeliveryWorker(ctx);
    if (options.workers !== false) bots.start();
    // External CRMs' sync jobs (CRM-4; docs/crm.md).
    const crmSync = new CrmSyncWorker(ctx);
    if (options.workers !== false) crmSync.start();
    // Each channel kind's worker (Telegram's webhooks and long polling); tests drive them directly.
    const channelWorkers = buildEdgeWorkers(ctx);
    if (options.workers !== false) for (const worker of Object.values(channelWorkers)) worker.start();
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const url = config.publicUrl ?? `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}`;
    ctx.publicUrl.value = url;
    let closing: Promise<void> | null = null;
    const close = () => {
      // Stop accepting, let in-flight requests finish, then close the bus and the database pool.
      closing ??= (async () => {
        await app.close();
        await timers.stop();
        await outbox.stop();
        await webhooks.stop();
        await privacy.stop();
        await bots.stop();
        await crmSync.stop();
        for (const worker of Object.values(channelWorkers)) await worker.stop();
        await bus?.close();
        await store.close();
        // The spans of the last requests and rounds are sent before the process exits.
        await ctx.tracing?.shutdown().catch((error: unknown) => log.warn({ err: error }, 'traces not sent'));
      })();
      return closing;
    };
    return {
      app,
      ctx,
      url,
      firstRun,
      close,
      workers: { timers, outbox, webhooks, privacy, bots, crmSync, ...channelWorkers },
    };
  } catch (error) {
    await bus?.close();
    await store.close();
    throw error;
  }
}
