import { afterAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../src/core/clock';
import { createEngineWorld } from './engine-fixture';
import { createTestServer, durableStorage, type TestServer } from './harness';

// Durable timers (ARCHITECTURE): armed before a restart, fired after it, exactly once.

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** Where the data lives across the restart: a PGlite directory, or a PostgreSQL database. */
async function storageThatOutlivesServers() {
  const { storage, cleanup } = await durableStorage();
  cleanups.push(cleanup);
  return storage;
}

describe('a queue timeout across a restart', () => {
  it('fires after the restart, once', async () => {
    const clock = new FakeClock('2026-03-02T10:00:00Z');
    const storage = await storageThatOutlivesServers();
    const world = await createEngineWorld({
      clock,
      server: storage,
      // Only the queue timeout is due after 61 s: the no-answer rule waits an hour.
      settings: { queue: { distribution: 'strictly', queueTimeSeconds: 60, noAnswerTimeSeconds: 3600 } },
    });
    await world.online(...world.operators);
    const intake = await world.clientSays('restart-1', 'hello');
    const before = await world.admin.dialogs.get(intake.dialogId);
    const firstHolder = before.session!.operatorId;
    expect(firstHolder).toBe(world.operators[0]!.id);
    await world.stop();

    clock.advance(61_000);
    const restarted: TestServer = await createTestServer({ clock, workers: false, ...storage });
    try {
      expect(await restarted.workers.timers.runOnce()).toBe(1);
      expect(await restarted.workers.timers.runOnce()).toBe(0);
      const session = await restarted.ctx.store.db
        .selectFrom('sessions')
        .select(['status', 'operator_id'])
        .where('id', '=', intake.sessionId!)
        .executeTakeFirstOrThrow();
      expect(session).toEqual({ status: 'assigned', operator_id: world.operators[1]!.id });
      const timeouts = await restarted.ctx.store.db
        .selectFrom('session_transitions')
        .select('id')
        .where('session_id', '=', intake.sessionId!)
        .where('reason', '=', 'queue_timeout')
        .execute();
      expect(timeouts).toHaveLength(1);
    } finally {
      await restarted.stop();
    }
  });
});
