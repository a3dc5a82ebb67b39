import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngineWorld, type EngineWorld } from './engine-fixture';
import { problemOf } from './harness';

// OP-3: marking a dialog as spam blocks the client, not one dialog (issue 19). Through real HTTP:
// the client's new sessions are stored and not routed on any line, a supervisor sees the block
// and lifts it, and an operator may do neither.

let world: EngineWorld;

beforeAll(async () => {
  world = await createEngineWorld({ operatorCount: 2 });
  await world.online(...world.operators);
});
afterAll(async () => world?.stop());

async function heldDialog(client: string, text: string) {
  const intake = await world.clientSays(client, text);
  const dialog = await world.admin.dialogs.get(intake.dialogId);
  const holder = world.operators.find((o) => o.id === dialog.session?.operatorId)!;
  expect(holder).toBeDefined();
  return { intake, holder };
}

describe('spam blocks the client', () => {
  it('on every line, until a supervisor lifts the block', async () => {
    const { intake, holder } = await heldDialog('spammer-1', 'Hello');
    await holder.ws.dialogs.markSpam(intake.dialogId);
    const shown = await world.admin.dialogs.get(intake.dialogId);
    expect(shown.client.blockedAt).toEqual(expect.any(String));

    // The channel moves to another line: before, the same spammer was routed there again.
    const other = await world.admin.lines.create({
      name: 'Sales',
      settings: { queue: { members: world.operators.map((o) => ({ type: 'user' as const, id: o.id })) } },
    });
    await world.admin.channels.update(world.channelId, { lineId: other.id });
    const moved = await world.clientSays('spammer-1', 'BUY CHEAP PILLS');
    expect(moved.sessionId).toBeNull();
    expect(moved.dialogId).not.toBe(intake.dialogId);
    const stored = await world.admin.dialogs.messages(moved.dialogId);
    expect(stored.map((m) => [m.text, m.spam])).toEqual([['BUY CHEAP PILLS', true]]);
    // Nobody is offered it: no operator's list has it.
    for (const operator of world.operators) {
      const { items } = await operator.ws.dialogs.list({ view: 'all' });
      expect(items.some((d) => d.id === moved.dialogId && d.session)).toBe(false);
    }
    // Another client on the same channel is routed as usual.
    expect((await world.clientSays('honest-1', 'A real question')).sessionId).not.toBeNull();

    // The supervisor's list has the client with their identity; an operator may not read or lift it.
    const { items } = await world.admin.dialogs.blockedClients();
    const blocked = items.find((c) => c.id === shown.client.id);
    expect(blocked).toMatchObject({ blockedBy: holder.id });
    expect(blocked?.identities).toEqual([
      expect.objectContaining({ channelId: world.channelId, externalId: 'spammer-1', channelKind: 'api' }),
    ]);
    expect(items.some((c) => c.name.includes('honest-1'))).toBe(false);
    expect((await problemOf(holder.ws.dialogs.blockedClients())).status).toBe(403);
    expect((await problemOf(holder.ws.dialogs.unblockClient(shown.client.id))).status).toBe(403);
    const stranger = await problemOf(
      world.admin.dialogs.unblockClient('00000000-0000-4000-8000-000000000000'),
    );
    expect(stranger.status).toBe(404);
    expect((await problemOf(world.admin.dialogs.unblockClient('not-a-uuid'))).status).toBe(400);

    await world.admin.dialogs.unblockClient(shown.client.id);
    expect((await world.admin.dialogs.blockedClients()).items.some((c) => c.id === shown.client.id)).toBe(
      false,
    );
    const { items: audit } = await world.admin.client.privacy.auditLog({ action: 'client.unblocked' });
    const me = await world.admin.client.auth.me();
    expect(audit[0]).toMatchObject({ targetType: 'client', targetId: shown.client.id, userId: me.user.id });
    const lifted = await world.admin.dialogs.get(moved.dialogId);
    expect(lifted.spam).toBe(false);
    expect(lifted.client.blockedAt).toBeUndefined();
    const routed = await world.clientSays('spammer-1', 'Sorry, a real question now');
    expect(routed.sessionId).not.toBeNull();
    expect(routed.dialogId).toBe(moved.dialogId);
  });
});
