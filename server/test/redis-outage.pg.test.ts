import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngineWorld, type EngineWorld } from './engine-fixture';
import { waitFor } from './harness';

// Issue 20: while Redis is down, what needs it answers 503 with Retry-After (never 500), /readyz
// says so, channel messages are still taken, and everything works again once Redis is back. A
// private redis-server on a port of its own, so the outage touches no other suite. Runs in the
// PostgreSQL + Redis pass (.ci/run), where redis-server is installed.

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

let port: number;
let redis: ChildProcess | null = null;
let world: EngineWorld;

async function startRedis(): Promise<void> {
  const child = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  redis = child;
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('Ready to accept connections')) resolve();
    });
  });
}

async function stopRedis(): Promise<void> {
  const child = redis;
  redis = null;
  if (!child || child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

const login = () =>
  fetch(`${world.server.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: world.server.admin.email, password: world.server.admin.password }),
  });
const readyz = () => fetch(`${world.server.url}/readyz`);

beforeAll(async () => {
  port = await freePort();
  await startRedis();
  world = await createEngineWorld({
    operatorCount: 1,
    server: { env: { REDIS_URL: `redis://127.0.0.1:${port}` }, busNamespace: 'outage' },
  });
}, 120_000);

afterAll(async () => {
  await world?.stop();
  await stopRedis();
});

describe('Redis down', () => {
  it('answers 503 with Retry-After where Redis is needed, keeps taking messages, and recovers', async () => {
    expect((await login()).status).toBe(200);
    expect((await readyz()).status).toBe(200);

    await stopRedis();
    await waitFor(async () => (await readyz()).status === 503, 'readyz to notice Redis is down', 30_000);
    const refused = await login();
    expect(refused.status).toBe(503);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(await refused.json()).toMatchObject({ code: 'unavailable' });
    const ready = await readyz();
    expect(await ready.json()).toMatchObject({ code: 'unavailable', detail: 'Redis is not reachable' });

    // The database is the truth: a client's message is still stored while the bus is down.
    const stored = await world.clientSays('during-outage', 'Is anyone there?');
    expect(stored.duplicate).toBe(false);
    expect((await world.admin.dialogs.messages(stored.dialogId)).map((m) => m.text)).toContain(
      'Is anyone there?',
    );

    await startRedis();
    await waitFor(async () => (await readyz()).status === 200, 'readyz to see Redis again', 30_000);
    await waitFor(async () => (await login()).status === 200, 'sign-in to work again', 30_000);
  });
});
