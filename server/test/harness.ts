import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BuiltInRoleKey, OpenlinesEvent, User } from '@openlines/contract';
import {
  ApiChannelSender,
  type ClientOptions,
  OpenlinesClient,
  OpenlinesError,
  type RealtimeEvents,
  type RealtimeOptions,
} from '@openlines/sdk';
import { WebSocket } from 'ws';
import { type Config, loadConfig } from '../src/config';
import type { Clock } from '../src/core/clock';
import { type RunningServer, startServer } from '../src/server';
import { dropPostgresDatabase, ensurePostgresDatabase } from '../src/store/database';
import { loadEventsAfter } from '../src/store/events';

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
  /** False: timers and outbox do not poll; the test drives them (server.workers.*.runOnce()). */
  workers?: boolean;
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
    ...(options.workers === false ? { workers: false } : {}),
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

// ---------------------------------------------------------------------------------------------
// SDK helpers: tests talk to the server the way the apps do, through @openlines/sdk.
// ---------------------------------------------------------------------------------------------

/** A client of a test server that is not signed in. */
export function clientOf(server: { url: string }, options: Partial<ClientOptions> = {}): OpenlinesClient {
  return new OpenlinesClient({ baseUrl: server.url, ...options });
}

/** A client signed in as the first administrator, or as the given user. */
export async function signIn(
  server: TestServer,
  credentials: { email: string; password: string } = server.admin,
  options: Partial<ClientOptions> = {},
): Promise<OpenlinesClient> {
  const client = clientOf(server, options);
  await client.auth.login(credentials);
  return client;
}

export const TEST_PASSWORD = 'correct horse battery';

/** An e-mail address no other test uses, so tests on one database never collide. */
export function uniqueEmail(prefix = 'user'): string {
  return `${prefix}-${randomBytes(5).toString('hex')}@example.test`;
}

export interface SignedInUser {
  user: User;
  email: string;
  password: string;
  client: OpenlinesClient;
}

/** Creates a user with a built-in role through the API and signs them in. */
export async function createSignedInUser(
  server: TestServer,
  admin: OpenlinesClient,
  role: BuiltInRoleKey = 'operator',
): Promise<SignedInUser> {
  const roles = await admin.roles.list();
  const roleId = roles.find((r) => r.builtIn === role)?.id;
  if (!roleId) throw new Error(`no built-in role ${role}`);
  const email = uniqueEmail(role);
  const user = await admin.users.create({ email, name: `Test ${role}`, password: TEST_PASSWORD, roleId });
  const client = await signIn(server, { email, password: TEST_PASSWORD });
  return { user, email, password: TEST_PASSWORD, client };
}

/** An API channel on the line (its webhook pointed nowhere) and a sender of client messages on it. */
export async function createApiChannel(
  server: { url: string },
  admin: OpenlinesClient,
  lineId: string,
  name = 'Backend',
): Promise<{ sender: ApiChannelSender; channelId: string }> {
  const { secrets, channel } = await admin.channels.create({
    kind: 'api',
    name,
    lineId,
    settings: { webhookUrl: 'http://127.0.0.1:9/unused' },
  });
  const token = Object.values(secrets).find((v) => v.startsWith('olc_'));
  if (!token) throw new Error('the API channel returned no inbound token');
  return { sender: new ApiChannelSender(server.url, token), channelId: channel.id };
}

/**
 * Opens the SDK's event stream in Node (which needs `ws`), reconnecting quickly, and records
 * every event it delivers.
 */
export function openRealtime(client: OpenlinesClient, options: Omit<RealtimeOptions, 'WebSocket'> = {}) {
  const realtime = client.realtime({
    WebSocket,
    reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
    ...options,
  });
  const events: OpenlinesEvent[] = [];
  const closes: RealtimeEvents['close'][] = [];
  realtime.on('event', (event) => events.push(event));
  realtime.on('close', (close) => closes.push(close));
  return { realtime, events, closes };
}

/** Waits until `check` holds; fails naming `what` if it never does. Not a timing assertion. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The error an SDK call failed with; fails the test if the call succeeded. */
export async function problemOf(call: Promise<unknown>): Promise<OpenlinesError> {
  try {
    await call;
  } catch (error) {
    if (error instanceof OpenlinesError) return error;
    throw error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** Waits until a recorded stream has an event that matches; returns the first such event. */
export async function waitForEvent(
  events: OpenlinesEvent[],
  match: (event: OpenlinesEvent) => boolean,
  what: string,
): Promise<OpenlinesEvent> {
  await waitFor(() => events.some(match), what);
  return events.find(match)!;
}

/** Matches the event a department's creation, change or deletion produced. */
export const aboutDepartment = (departmentId: string) => (event: OpenlinesEvent) =>
  event.type === 'department.changed' && event.data.departmentId === departmentId;

/** The departments a stream's events name, in order (sockets also carry presence and other events). */
export const departmentsIn = (events: OpenlinesEvent[]) =>
  events.flatMap((event) => (event.type === 'department.changed' ? [event.data.departmentId] : []));

/** The events stored for an account in (after, upTo]: what a client resuming after `after` may get. */
export async function storedEvents(
  server: RunningServer,
  accountId: string,
  after: number,
  upTo: number,
): Promise<OpenlinesEvent[]> {
  const rows = await loadEventsAfter(server.ctx.store.db, accountId, after, upTo);
  return rows.map((row) => row.event);
}

/**
 * Storage that outlives a server, for restart tests: a PGlite directory, or (with DATABASE_URL) a
 * PostgreSQL database of its own. The returned cleanup removes it.
 */
export async function durableStorage(): Promise<{
  storage: { dataDir: string } | { databaseUrl: string };
  cleanup: () => Promise<void>;
}> {
  const databaseUrl = isolatedDatabaseUrl();
  if (databaseUrl) {
    await ensurePostgresDatabase(databaseUrl);
    return { storage: { databaseUrl }, cleanup: () => dropPostgresDatabase(databaseUrl) };
  }
  const dataDir = await mkdtemp(path.join(tmpdir(), 'openlines-durable-'));
  return { storage: { dataDir }, cleanup: () => rm(dataDir, { recursive: true, force: true }) };
}

/** The texts of a channel's client messages, in the order they were stored. */
export async function clientTexts(
  server: Pick<TestServer, 'ctx'>,
  channelId: string,
): Promise<(string | null)[]> {
  const rows = await server.ctx.store.db
    .selectFrom('messages')
    .select('text')
    .where('channel_id', '=', channelId)
    .where('author_kind', '=', 'client')
    .orderBy('seq')
    .execute();
  return rows.map((row) => row.text);
}
