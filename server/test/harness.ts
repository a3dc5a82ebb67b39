import { randomBytes } from 'node:crypto';
import { type Config, loadConfig } from '../src/config';
import type { Clock } from '../src/core/clock';
import { type RunningServer, startServer } from '../src/server';
import { dropPostgresDatabase, ensurePostgresDatabase } from '../src/store/database';

/**
 * One helper builds a real server for integration tests: PGlite in memory by default, or a fresh
 * PostgreSQL database of its own plus Redis when DATABASE_URL / REDIS_URL are set (CI runs the same
 * suites both ways).
 */
export interface TestServer extends RunningServer {
  admin: { email: string; password: string };
  databaseUrl: string | null;
  config: Config;
  stop(): Promise<void>;
}

export const usingPostgres = Boolean(process.env.DATABASE_URL);
export const usingRedis = Boolean(process.env.REDIS_URL);

/** A database URL of its own for one test server, on the PostgreSQL named by DATABASE_URL. */
export function isolatedDatabaseUrl(): string | null {
  const base = process.env.DATABASE_URL;
  if (!base) return null;
  const url = new URL(base);
  url.pathname = `/openlines_test_${randomBytes(6).toString('hex')}`;
  return url.toString();
}

export interface TestServerOptions {
  env?: Record<string, string>;
  clock?: Clock;
  /** Reuse a database (a second process, a restart); it is then not dropped by this server. */
  databaseUrl?: string | null;
  dataDir?: string;
  busNamespace?: string;
}

export async function createTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const ownsDatabase = options.databaseUrl === undefined;
  const databaseUrl = ownsDatabase ? isolatedDatabaseUrl() : options.databaseUrl;
  if (databaseUrl && ownsDatabase) await ensurePostgresDatabase(databaseUrl);
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    LOGIN_RATE_LIMIT_PER_MINUTE: '1000',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}),
    ...options.env,
  });
  const effective: Config = options.dataDir ? { ...config, dataDir: options.dataDir } : config;
  const server = await startServer(effective, {
    ...(options.clock ? { clock: options.clock } : {}),
    // PGlite in memory unless the test asks for files (restart tests).
    inMemory: !options.dataDir,
    busNamespace: options.busNamespace ?? `test-${randomBytes(4).toString('hex')}`,
  });
  const admin = server.firstRun ?? { email: 'admin@openlines.local', password: '' };
  return {
    ...server,
    admin,
    databaseUrl: databaseUrl ?? null,
    config: effective,
    async stop() {
      await server.close();
      if (databaseUrl && ownsDatabase) await dropPostgresDatabase(databaseUrl);
    },
  };
}
