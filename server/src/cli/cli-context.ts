import { existsSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import type { EventBus } from '../bus/bus';
import { MemoryBus } from '../bus/memory-bus';
import { RedisBus } from '../bus/redis-bus';
import type { Config } from '../config';
import type { AppContext } from '../context';
import { systemClock } from '../core/clock';
import { resolveEncryptionKey } from '../services/encryption-key';
import { migrationsApplied, openStore, ping, type Store } from '../store/database';
import { CliFailure } from './usage';

/**
 * How the CLI needs the database: `migrate` may create it; `none` opens nothing (restore, which
 * replaces it); every other command needs it ready.
 */
export type DatabaseNeed = 'migrate' | 'ready' | 'none';

export interface CliSession {
  ctx: AppContext;
  config: Config;
  /** Where the data is, without credentials: `embedded (PGlite) in ./data` or `PostgreSQL host/db`. */
  target: string;
  close(): Promise<void>;
}

const REDIS_CONNECT_TIMEOUT_MS = 5_000;

export function describeTarget(config: Config): string {
  if (!config.databaseUrl) return `embedded database (PGlite) in ${config.dataDir}`;
  const url = new URL(config.databaseUrl);
  return `PostgreSQL database ${url.host}${url.pathname}`;
}

/** Commands other than `migrate` need a database that the server has created already. */
function assertEmbeddedDatabaseExists(config: Config, need: DatabaseNeed): void {
  const pgdata = path.join(config.dataDir, 'pgdata');
  if (!existsSync(path.join(pgdata, 'PG_VERSION'))) {
    if (need === 'migrate') return;
    throw new CliFailure(
      `There is no database in ${config.dataDir} yet. Start the server once (npm start) to create it ` +
        'with the first account, or set DATA_DIR / DATABASE_URL to the installation you mean.',
    );
  }
}

async function connectBus(config: Config, warn: (line: string) => void): Promise<EventBus> {
  if (!config.redisUrl) return new MemoryBus();
  // Servers hear what the CLI changed through Redis; if it is down, they still catch up from the
  // events table on their next event or reconnect, so a failure here is only a warning.
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      RedisBus.connect(config.redisUrl),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), REDIS_CONNECT_TIMEOUT_MS);
      }),
    ]);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    warn(`Warning: Redis is not reachable (${reason}); running servers see the change on their next event.`);
    return new MemoryBus();
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Opens the database with the server's configuration, and Redis when configured, so that running
 * servers hear at once about what a command changed (`migrate` emits no events and skips it).
 */
export async function openCliSession(
  config: Config,
  need: DatabaseNeed,
  warn: (line: string) => void,
): Promise<CliSession> {
  const target = describeTarget(config);
  if (need === 'none') {
    return {
      get ctx(): AppContext {
        throw new Error('This command opens no database');
      },
      config,
      target,
      close: async () => {},
    };
  }
  if (!config.databaseUrl) assertEmbeddedDatabaseExists(config, need);
  // Logs go to stderr so that stdout carries only what the command prints.
  const log = pino({ level: config.logLevel }, pino.destination(2));
  let store: Store;
  try {
    store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 2 });
    await ping(store.db).catch(async (error: unknown) => {
      await store.close().catch(() => {});
      throw error;
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message || error.name : String(error);
    throw new CliFailure(`Cannot open the ${target}: ${reason}`);
  }
  let bus: EventBus | null = null;
  try {
    if (need === 'ready' && !(await migrationsApplied(store.db))) {
      throw new CliFailure(
        `The ${target} has migrations that are not applied yet. Run: npm run cli -- migrate`,
      );
    }
    bus = need === 'migrate' ? new MemoryBus() : await connectBus(config, warn);
    const encryptionKey = await resolveEncryptionKey(config);
    const ctx: AppContext = {
      config,
      store,
      bus,
      clock: systemClock,
      log,
      encryptionKey,
      publicUrl: { value: config.publicUrl ?? `http://localhost:${config.port}` },
    };
    return {
      ctx,
      config,
      target,
      async close() {
        await bus?.close();
        await store.close();
      },
    };
  } catch (error) {
    await bus?.close();
    await store.close();
    throw error;
  }
}
