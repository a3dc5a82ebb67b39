import type { OpenlinesEvent } from '@openlines/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngineWorld, type EngineWorld } from './engine-fixture';
import { openRealtime, waitFor } from './harness';

// OP-4: presence follows the operator's WebSocket connections plus their explicit status, and an
// operator who connects is handed the sessions waiting for them.

let world: EngineWorld;
beforeAll(async () => {
  world = await createEngineWorld({ operatorCount: 1 });
});
afterAll(async () => world?.stop());

const pause = () => new Promise((resolve) => setTimeout(resolve, 20));

function connectionsOf(userId: string) {
  return world.server.ctx.store.db
    .selectFrom('operator_connections')
    .select('id')
    .where('user_id', '=', userId)
    .execute();
}

async function presenceOf(userId: string) {
  return (await world.admin.client.users.get(userId)).presence;
}

describe('presence from connections', () => {
  it('connecting makes an operator online and hands them the waiting session; the last disconnect makes them offline', async () => {
    const [operator] = world.operators;
    const intake = await world.clientSays('presence-1', 'hello?');
    expect((await world.admin.dialogs.get(intake.dialogId)).session?.status).toBe('queued');

    const first = openRealtime(operator!.client);
    const second = openRealtime(operator!.client);
    await waitFor(() => first.realtime.connected && second.realtime.connected, 'both sockets');
    const assigned = (e: OpenlinesEvent) =>
      e.type === 'dialog.updated' &&
      e.data.dialog.id === intake.dialogId &&
      e.data.dialog.session?.operatorId === operator!.id;
    await waitFor(() => first.events.some(assigned), 'the waiting dialog to be assigned on connect');
    expect(await presenceOf(operator!.id)).toBe('online');

    first.realtime.close();
    // Once the first connection's row is gone, the second keeps the operator online.
    for (let i = 0; i < 200 && (await connectionsOf(operator!.id)).length !== 1; i++) await pause();
    expect(await connectionsOf(operator!.id)).toHaveLength(1);
    expect(await presenceOf(operator!.id)).toBe('online');

    second.realtime.close();
    let presence = await presenceOf(operator!.id);
    for (let i = 0; i < 200 && presence !== 'offline'; i++) {
      await pause();
      presence = await presenceOf(operator!.id);
    }
    expect(presence).toBe('offline');
  });

  it('an explicit away survives connecting', async () => {
    const [operator] = world.operators;
    await operator!.client.auth.setPresence('away');
    const stream = openRealtime(operator!.client);
    await waitFor(() => stream.realtime.connected, 'socket');
    const rows = async () =>
      world.server.ctx.store.db
        .selectFrom('operator_connections')
        .select('id')
        .where('user_id', '=', operator!.id)
        .execute();
    await waitFor(() => true, 'noop');
    for (let i = 0; i < 100 && (await rows()).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect((await rows()).length).toBe(1);
    expect(await presenceOf(operator!.id)).toBe('away');
    stream.realtime.close();
  });

  it('connections of a process that died are swept and their operator goes offline', async () => {
    const [operator] = world.operators;
    await operator!.client.auth.setPresence('online');
    const now = world.clock.now();
    await world.server.ctx.store.db
      .insertInto('operator_connections')
      .values({
        id: crypto.randomUUID(),
        account_id: operator!.user.accountId,
        user_id: operator!.id,
        node_id: 'dead-process',
        connected_at: now,
        last_seen_at: now,
      })
      .execute();
    world.clock.advance(91_000);
    await world.server.workers.timers.sweepQueues();
    expect(await presenceOf(operator!.id)).toBe('offline');
  });
});
