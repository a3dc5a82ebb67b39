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
    // Two server starts on PGlite files: well over the default 30 s when the machine is busy.
  }, 120_000);
});

// Every automation timer (no answer, auto-close, delayed rating request, first- and further-answer
// KPI) armed before a restart fires after it, exactly once — on PGlite files or on PostgreSQL.
describe('automation timers across a restart', () => {
  it('each fires after the restart, once', async () => {
    const clock = new FakeClock('2026-03-02T10:00:00Z');
    const storage = await storageThatOutlivesServers();
    const world = await createEngineWorld({
      clock,
      operatorCount: 1,
      server: storage,
      settings: {
        queue: { queueTimeSeconds: 3600, noAnswerTimeSeconds: 60 },
        kpi: { firstAnswer: { targetSeconds: 30 }, furtherAnswer: { targetSeconds: 30 } },
        automaticActions: { autoClose: { rule: 'text', timeSeconds: 600 }, noAnswer: { rule: 'text' } },
        rating: { when: 'after_delay', delaySeconds: 120 },
      },
    });
    const [operator] = world.operators;
    await world.online(operator!);
    // A waits unanswered: first-answer KPI and no-answer are armed.
    const a = await world.clientSays('restart-a', 'Anyone?');
    // B was answered: auto-close is armed.
    const b = await world.clientSays('restart-b', 'Question');
    await operator!.ws.dialogs.send(b.dialogId, { text: 'Answer' });
    // C was answered and wrote again: further-answer KPI and no-answer are armed.
    const c = await world.clientSays('restart-c', 'Question');
    await operator!.ws.dialogs.send(c.dialogId, { text: 'Answer' });
    await world.clientSays('restart-c', 'One more thing');
    // D was closed: the delayed rating request is armed.
    const d = await world.clientSays('restart-d', 'Question');
    await operator!.ws.dialogs.close(d.dialogId);
    await world.stop();

    clock.advance(700_000);
    const restarted = await createTestServer({ clock, workers: false, ...storage });
    cleanups.push(() => restarted.stop());
    expect(await restarted.workers.timers.runOnce()).toBe(6);
    expect(await restarted.workers.timers.runOnce()).toBe(0);

    const db = restarted.ctx.store.db;
    const session = (id: string | null) =>
      db.selectFrom('sessions').selectAll().where('id', '=', id!).executeTakeFirstOrThrow();
    const systemKinds = async (dialogId: string) =>
      (
        await db
          .selectFrom('messages')
          .select('system_kind')
          .where('dialog_id', '=', dialogId)
          .where('author_kind', '=', 'system')
          .execute()
      ).map((m) => m.system_kind);
    const breaches = async (sessionId: string | null) =>
      (await db.selectFrom('kpi_breaches').select('kind').where('session_id', '=', sessionId!).execute()).map(
        (r) => r.kind,
      );

    expect((await session(a.sessionId)).unanswered).toBe(true);
    expect(await breaches(a.sessionId)).toEqual(['first_answer']);
    expect((await systemKinds(a.dialogId)).filter((k) => k === 'no_answer')).toHaveLength(1);

    expect((await session(b.sessionId)).status).toBe('auto_closed');
    expect((await systemKinds(b.dialogId)).filter((k) => k === 'auto_close')).toHaveLength(1);

    expect(await breaches(c.sessionId)).toEqual(['further_answer']);
    expect((await session(c.sessionId)).unanswered).toBe(true);

    expect((await session(d.sessionId)).rating_requested_at).not.toBeNull();
    expect((await systemKinds(d.dialogId)).filter((k) => k === 'rating_request')).toHaveLength(1);
  }, 180_000);
});
