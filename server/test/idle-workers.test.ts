import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installSqlCounter, sqlStatements } from '../../bench/sql-counter';
import { systemClock } from '../src/core/clock';
import { createEngineWorld, type EngineWorld } from './engine-fixture';

/**
 * Idle background workers (scale issue: "background polling costs nothing measurable when idle").
 * Workers run on their own timers here, on the real clock, with a short poll and an idle bound of
 * an hour: whatever they do within the test comes from knowing when work is due and from the
 * events that nudge them, never from polling.
 */
installSqlCounter();

const POLL_MS = 50;

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the condition did not hold within 30 s');
}

describe('idle workers', () => {
  let world: EngineWorld;

  beforeAll(async () => {
    world = await createEngineWorld({
      operatorCount: 2,
      settings: { queue: { distribution: 'strictly', queueTimeSeconds: 1 } },
      server: {
        clock: systemClock,
        workers: true,
        env: { WORKER_POLL_MS: String(POLL_MS), WORKER_IDLE_MS: '3600000' },
      },
    });
  });
  afterAll(() => world?.stop());

  it('send almost no statement while nothing is due', async () => {
    // Let start-up rounds finish, then count over 16 poll intervals. Polling the outbox, the
    // timers and the bot deliveries every interval would be at least 48 statements; what remains
    // are the periodic sweeps (presence and queues every 10 intervals, the webhook feed check).
    await new Promise((resolve) => setTimeout(resolve, 10 * POLL_MS));
    const before = sqlStatements();
    await new Promise((resolve) => setTimeout(resolve, 16 * POLL_MS));
    expect(sqlStatements() - before).toBeLessThanOrEqual(10);
  });

  it('a timer armed by a message fires when due, though the worker idles for up to an hour', async () => {
    const [first, second] = world.operators;
    await world.online(first!, second!);
    const intake = await world.clientSays('idle-1', 'Is anyone there?');
    const assigned = await world.admin.dialogs.get(intake.dialogId);
    const holder = assigned.session?.operatorId;
    expect(holder).toBeTruthy();
    // QUEUE_TIME is 1 s: the timer worker, nudged by the assignment's event, sleeps until the
    // timer is due and passes the session to the other operator.
    await until(async () => {
      const dialog = await world.admin.dialogs.get(intake.dialogId);
      return dialog.session?.operatorId !== holder && dialog.session?.operatorId != null;
    });
    const transitions = await world.admin.dialogs.transitions(intake.dialogId);
    expect(transitions.some((t) => t.reason === 'queue_timeout')).toBe(true);
  });
});
