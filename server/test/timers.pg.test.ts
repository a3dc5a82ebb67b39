import { afterAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../src/core/clock';
import { dropPostgresDatabase, ensurePostgresDatabase } from '../src/store/database';
import { createEngineWorld } from './engine-fixture';
import { createTestServer, isolatedDatabaseUrl } from './harness';

// Durable timers in two server processes on one PostgreSQL database: each fires in exactly one.

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function durableStorage() {
  const databaseUrl = isolatedDatabaseUrl()!;
  await ensurePostgresDatabase(databaseUrl);
  cleanups.push(() => dropPostgresDatabase(databaseUrl));
  return { databaseUrl };
}

describe('timers in two processes', () => {
  it('a due timer fires in exactly one of them', async () => {
    const clock = new FakeClock('2026-03-02T10:00:00Z');
    const storage = await durableStorage();
    const world = await createEngineWorld({
      clock,
      server: { ...storage, busNamespace: 'timers-2p' },
      settings: { queue: { noAnswerTimeSeconds: 3600 } },
    });
    const second = await createTestServer({ clock, workers: false, ...storage, busNamespace: 'timers-2p' });
    cleanups.push(() => second.stop());
    cleanups.push(() => world.stop());
    await world.online(...world.operators);
    const intakes = [];
    for (let i = 0; i < 20; i++) intakes.push(await world.clientSays(`two-${i}`, 'hi'));
    clock.advance(61_000);
    const [a, b] = await Promise.all([
      world.server.workers.timers.runOnce(),
      second.workers.timers.runOnce(),
    ]);
    expect(a + b).toBe(20);
    const timeouts = await second.ctx.store.db
      .selectFrom('session_transitions')
      .select('id')
      .where('reason', '=', 'queue_timeout')
      .execute();
    expect(timeouts).toHaveLength(20);
  });
});
