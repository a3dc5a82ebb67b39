import type { OpenlinesEvent } from '@openlines/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount } from '../src/services/accounts';
import { createEngineWorld, type EngineWorld, workspaceOf } from './engine-fixture';
import { openRealtime, problemOf, signIn, TEST_PASSWORD, uniqueEmail, waitFor } from './harness';

// Operator actions (OP-3) through HTTP and the WebSocket, with the wrong-state answers.

let world: EngineWorld;
beforeAll(async () => {
  world = await createEngineWorld({ settings: { queue: { distribution: 'evenly' } } });
  await world.online(...world.operators);
});
afterAll(async () => world?.stop());

async function newDialog(client: string, text = 'Hello') {
  const intake = await world.clientSays(client, text);
  const dialog = await world.admin.dialogs.get(intake.dialogId);
  const holder = world.operators.find((o) => o.id === dialog.session?.operatorId);
  if (!holder) throw new Error('the dialog was not assigned');
  return { intake, dialog, holder, others: world.operators.filter((o) => o !== holder) };
}

describe('answering', () => {
  it('an answer moves the session to answered and queues delivery to the channel', async () => {
    const { intake, holder } = await newDialog('ans-1');
    const message = await holder.ws.dialogs.send(intake.dialogId, { text: 'Hi! How can I help?' });
    expect(message).toMatchObject({ authorKind: 'operator', private: false, deliveryState: 'pending' });
    const dialog = await holder.ws.dialogs.get(intake.dialogId);
    expect(dialog.session?.status).toBe('answered');
    expect(dialog.session?.firstAnswerAt).not.toBeNull();
    const outbox = await world.server.ctx.store.db
      .selectFrom('outbox')
      .select(['message_id', 'state'])
      .where('message_id', '=', message.id)
      .execute();
    expect(outbox).toEqual([{ message_id: message.id, state: 'pending' }]);
    // The client writes again: the session waits for the operator.
    await world.clientSays('ans-1', 'Thanks, one more question');
    expect((await holder.ws.dialogs.get(intake.dialogId)).session?.status).toBe('client_waiting');
  });

  it('a repeated clientMessageId stores and sends the message once', async () => {
    const { intake, holder } = await newDialog('ans-2');
    const first = await holder.ws.dialogs.send(intake.dialogId, { text: 'once', clientMessageId: 'c-1' });
    const second = await holder.ws.dialogs.send(intake.dialogId, { text: 'once', clientMessageId: 'c-1' });
    expect(second.id).toBe(first.id);
    const rows = await world.server.ctx.store.db
      .selectFrom('outbox')
      .select('id')
      .where('message_id', '=', first.id)
      .execute();
    expect(rows).toHaveLength(1);
  });

  it('the same send retried 20 times at once answers every caller with the one stored message', async () => {
    const { intake, holder } = await newDialog('ans-2b');
    // A holder's answer (the lean path) and the administrator's note (the general path), 20 each at once.
    const sends = [
      ...Array.from({ length: 20 }, () =>
        holder.ws.dialogs.send(intake.dialogId, { text: 'at once', clientMessageId: 'c-burst-1' }),
      ),
      ...Array.from({ length: 20 }, () =>
        world.admin.dialogs.send(intake.dialogId, {
          text: 'note',
          private: true,
          clientMessageId: 'c-burst-2',
        }),
      ),
    ];
    const settled = await Promise.allSettled(sends);
    expect(
      settled.filter((s) => s.status === 'rejected').map((s) => String((s as PromiseRejectedResult).reason)),
    ).toEqual([]);
    const ids = settled.map((s) => (s as PromiseFulfilledResult<{ id: string }>).value.id);
    expect(new Set(ids.slice(0, 20)).size).toBe(1);
    expect(new Set(ids.slice(20)).size).toBe(1);
    const stored = await world.server.ctx.store.db
      .selectFrom('messages')
      .select('client_message_id')
      .where('dialog_id', '=', intake.dialogId)
      .where('client_message_id', 'in', ['c-burst-1', 'c-burst-2'])
      .execute();
    expect(stored).toHaveLength(2);
  });

  it('a private note is never queued for the client', async () => {
    const { intake, holder } = await newDialog('ans-3');
    const note = await holder.ws.dialogs.note(intake.dialogId, 'VIP client, be nice');
    expect(note).toMatchObject({ private: true, deliveryState: 'none' });
    const rows = await world.server.ctx.store.db
      .selectFrom('outbox')
      .select('id')
      .where('message_id', '=', note.id)
      .execute();
    expect(rows).toHaveLength(0);
    expect((await holder.ws.dialogs.get(intake.dialogId)).session?.status).toBe('assigned');
  });

  it('another operator may not answer a dialog they do not hold', async () => {
    const { intake, others } = await newDialog('ans-4');
    const error = await problemOf(others[0]!.ws.dialogs.send(intake.dialogId, { text: 'mine now' }));
    expect([403, 404]).toContain(error.status);
  });

  it('rejects an empty message naming the field', async () => {
    const { intake, holder } = await newDialog('ans-5');
    const error = await problemOf(holder.ws.dialogs.send(intake.dialogId, {}));
    expect(error.status).toBe(400);
    expect(error.fields).toContain('body.text');
  });
});

describe('skip, transfer, consult, hand over', () => {
  it('skip returns the dialog to the queue and it goes to someone else', async () => {
    const { intake, holder } = await newDialog('skip-1');
    const after = await holder.ws.dialogs.skip(intake.dialogId);
    expect(after.session?.operatorId).not.toBe(holder.id);
    expect(after.session?.status).toBe('assigned');
    const error = await problemOf(holder.ws.dialogs.skip(intake.dialogId));
    expect(error.status).toBe(403);
  });

  it('transfers to an operator, and refuses transferring to the same operator with 409', async () => {
    const { intake, holder, others } = await newDialog('tr-1');
    const target = others[0]!;
    const moved = await holder.ws.dialogs.transfer(intake.dialogId, { operatorId: target.id });
    expect(moved.session).toMatchObject({ status: 'assigned', operatorId: target.id });
    const same = await problemOf(target.ws.dialogs.transfer(intake.dialogId, { operatorId: target.id }));
    expect(same.status).toBe(409);
    expect(same.code).toBe('invalid_state');
  });

  it('transfers to another line, where it is routed by that line’s queue', async () => {
    const other = await world.admin.lines.create({
      name: 'Sales',
      settings: { queue: { members: [{ type: 'user', id: world.operators[2]!.id }] } },
    });
    const { intake, holder } = await newDialog('tr-2');
    const moved = await holder.ws.dialogs.transfer(intake.dialogId, { lineId: other.id });
    expect(moved.session).toMatchObject({
      lineId: other.id,
      operatorId: world.operators[2]!.id,
      status: 'assigned',
    });
    const unknownLine = await problemOf(
      world.operators[2]!.ws.dialogs.transfer(intake.dialogId, {
        lineId: '00000000-0000-4000-8000-000000000000',
      }),
    );
    expect(unknownLine.fields).toContain('body.lineId');
    await world.admin.lines.delete(other.id, 'Sales');
  });

  it('a consulting colleague writes privately; a hand-over gives them the dialog', async () => {
    const { intake, holder, others } = await newDialog('consult-1');
    const colleague = others[0]!;
    const invited = await holder.ws.dialogs.invite(intake.dialogId, colleague.id, 'consult');
    expect(invited.session?.participantIds).toEqual([colleague.id]);
    const advice = await colleague.ws.dialogs.send(intake.dialogId, { text: 'Offer them the discount' });
    expect(advice.private).toBe(true);
    expect(advice.deliveryState).toBe('none');
    const handed = await holder.ws.dialogs.invite(intake.dialogId, colleague.id, 'handover');
    expect(handed.session).toMatchObject({ operatorId: colleague.id, participantIds: [] });
    const reply = await colleague.ws.dialogs.send(intake.dialogId, { text: 'Here is your discount' });
    expect(reply.private).toBe(false);
  });
});

describe('close, spam, pin', () => {
  it('honours confirm-close, and a closed dialog cannot be closed again', async () => {
    const confirmLine = await world.admin.lines.update(world.line.id, {
      settings: { other: { confirmClose: true } },
    });
    expect(confirmLine.settings.other.confirmClose).toBe(true);
    const { intake, holder } = await newDialog('close-1');
    const unconfirmed = await problemOf(holder.ws.dialogs.close(intake.dialogId));
    expect(unconfirmed.status).toBe(409);
    expect(unconfirmed.code).toBe('confirmation_required');
    const closed = await holder.ws.dialogs.close(intake.dialogId, { confirmed: true });
    expect(closed.session?.status).toBe('closed');
    const again = await problemOf(holder.ws.dialogs.close(intake.dialogId, { confirmed: true }));
    expect(again.status).toBe(409);
    await world.admin.lines.update(world.line.id, { settings: { other: { confirmClose: false } } });
    // The client writes again: a new session in the same dialog.
    const next = await world.clientSays('close-1', 'I am back');
    expect(next.dialogId).toBe(intake.dialogId);
    expect(next.sessionId).not.toBe(intake.sessionId);
  });

  it('spam closes the dialog and later messages are stored but not routed', async () => {
    const { intake, holder } = await newDialog('spam-1');
    const marked = await holder.ws.dialogs.markSpam(intake.dialogId);
    expect(marked.spam).toBe(true);
    expect(marked.session?.status).toBe('spam');
    const later = await world.clientSays('spam-1', 'BUY CHEAP PILLS');
    expect(later.sessionId).toBeNull();
    const messages = await world.admin.dialogs.messages(intake.dialogId);
    expect(messages.at(-1)).toMatchObject({ text: 'BUY CHEAP PILLS', spam: true });
  });

  it('a pin belongs to its holder: a transfer takes it away', async () => {
    const { intake, holder, others } = await newDialog('pin-transfer');
    await holder.ws.dialogs.pin(intake.dialogId);
    const moved = await holder.ws.dialogs.transfer(intake.dialogId, { operatorId: others[0]!.id });
    expect(moved.pinnedOperatorId).toBeNull();
    expect(moved.session?.pinned).toBe(false);
  });

  it('a pinned dialog’s next session returns to its operator', async () => {
    const { intake, holder } = await newDialog('pin-1');
    await holder.ws.dialogs.pin(intake.dialogId);
    await holder.ws.dialogs.close(intake.dialogId);
    const next = await world.clientSays('pin-1', 'Hello again');
    const dialog = await world.admin.dialogs.get(next.dialogId);
    expect(dialog.pinnedOperatorId).toBe(holder.id);
    expect(dialog.session).toMatchObject({ operatorId: holder.id, pinned: true });
  });

  it('records every transition with time, actor and reason', async () => {
    const { intake, holder } = await newDialog('trail-1');
    await holder.ws.dialogs.send(intake.dialogId, { text: 'hi' });
    await holder.ws.dialogs.close(intake.dialogId);
    const trail = await world.admin.dialogs.transitions(intake.dialogId);
    expect(trail.map((t) => [t.from, t.to])).toEqual([
      [null, 'new'],
      ['new', 'queued'],
      ['queued', 'assigned'],
      ['assigned', 'answered'],
      ['answered', 'closed'],
    ]);
    expect(trail.at(-1)).toMatchObject({
      actorKind: 'operator',
      actorId: holder.id,
      reason: 'closed_by_operator',
    });
  });
});

describe('realtime delivery', () => {
  it('pushes a new message to the holder and not to an operator outside the line', async () => {
    const outsider = workspaceOf(await signIn(world.server));
    const outsiderUser = await world.admin.client.users.create({
      email: uniqueEmail('outsider'),
      name: 'Outsider',
      password: TEST_PASSWORD,
      roleId: (await world.admin.client.roles.list()).find((r) => r.builtIn === 'operator')!.id,
    });
    const outsiderClient = await signIn(world.server, { email: outsiderUser.email, password: TEST_PASSWORD });
    const { intake, holder } = await newDialog('rt-1');
    const holderStream = openRealtime(holder.client);
    const outsiderStream = openRealtime(outsiderClient);
    const adminStream = openRealtime(outsider.client);
    await waitFor(
      () =>
        holderStream.realtime.connected &&
        outsiderStream.realtime.connected &&
        adminStream.realtime.connected,
      'sockets',
    );
    const said = await world.clientSays('rt-1', 'Are you there?');
    const isIt = (e: OpenlinesEvent) => e.type === 'message.created' && e.data.message.id === said.messageId;
    await waitFor(() => holderStream.events.some(isIt), 'the holder to get the message');
    await waitFor(() => adminStream.events.some(isIt), 'the administrator (sees all) to get the message');
    // A later event both receive proves the outsider's stream is live and simply was not sent it.
    const marker = await holder.ws.dialogs.note(intake.dialogId, 'marker');
    await waitFor(
      () => holderStream.events.some((e) => e.type === 'message.created' && e.data.message.id === marker.id),
      'marker',
    );
    await world.admin.client.users.update(outsiderUser.id, { name: 'Outsider renamed' });
    await waitFor(
      () => outsiderStream.events.some((e) => e.type === 'user.updated'),
      'the outsider’s stream to be live',
    );
    expect(outsiderStream.events.some(isIt)).toBe(false);
    for (const stream of [holderStream, outsiderStream, adminStream]) stream.realtime.close();
  });
});

describe('realtime privacy', () => {
  it('a queue colleague is not pushed the messages of a dialog another operator holds', async () => {
    const { intake, holder, others } = await newDialog('private-rt');
    const colleague = others[0]!;
    const stream = openRealtime(colleague.client);
    await waitFor(() => stream.realtime.connected, 'socket');
    const said = await world.clientSays('private-rt', 'my card number is …');
    // A later event the colleague does receive proves the stream is live up to this point. (A
    // dialog routed at once never enters the queue, so its queue members need not hear of it.)
    await world.admin.client.users.update(colleague.id, { name: 'Colleague renamed' });
    await waitFor(
      () => stream.events.some((e) => e.type === 'user.updated' && e.data.user.id === colleague.id),
      'the colleague’s stream to be live',
    );
    const leaked = stream.events.some(
      (e) => e.type === 'message.created' && e.data.message.id === said.messageId,
    );
    expect(leaked).toBe(false);
    expect(holder.id).not.toBe(colleague.id);
    expect((await problemOf(colleague.ws.dialogs.messages(intake.dialogId))).status).toBe(404);
    stream.realtime.close();
  });
});

describe('lines', () => {
  it('refuses a line over the plan limit, naming the limit', async () => {
    const { items, limit } = await world.admin.lines.list();
    const created = [];
    for (let i = items.length; i < limit; i++)
      created.push(await world.admin.lines.create({ name: `Extra ${i}` }));
    const error = await problemOf(world.admin.lines.create({ name: 'One too many' }));
    expect(error.status).toBe(409);
    expect(error.code).toBe('plan_limit_reached');
    expect(error.problem.limit).toBe(limit);
    for (const line of created) await world.admin.lines.delete(line.id, line.name);
  });

  it('names the invalid settings field and coerces nothing', async () => {
    const error = await problemOf(
      world.admin.lines.update(world.line.id, {
        settings: { queue: { queueTimeSeconds: '60' as unknown as number } },
      }),
    );
    expect(error.status).toBe(400);
    expect(error.fields.some((f) => f.includes('queueTimeSeconds'))).toBe(true);
  });

  it('deletes a line only with its name as confirmation', async () => {
    const line = await world.admin.lines.create({ name: 'Temporary' });
    const error = await problemOf(world.admin.lines.delete(line.id, 'temporary'));
    expect(error.code).toBe('confirmation_required');
    await world.admin.lines.delete(line.id, 'Temporary');
    expect((await problemOf(world.admin.lines.get(line.id))).status).toBe(404);
  });

  it('an inactive line stores messages without routing or showing them, then routes them when active', async () => {
    await world.admin.lines.update(world.line.id, { active: false });
    const intake = await world.clientSays('paused-1', 'anyone?');
    const stored = await world.server.ctx.store.db
      .selectFrom('sessions')
      .select('status')
      .where('id', '=', intake.sessionId!)
      .executeTakeFirstOrThrow();
    expect(stored.status).toBe('new');
    const list = await world.admin.dialogs.list();
    expect(list.items.map((d) => d.id)).not.toContain(intake.dialogId);
    await world.admin.lines.update(world.line.id, { active: true });
    const dialog = await world.admin.dialogs.get(intake.dialogId);
    expect(dialog.session?.status).toBe('assigned');
  });

  it('operators cannot change lines', async () => {
    const error = await problemOf(world.operators[0]!.ws.lines.update(world.line.id, { name: 'Mine' }));
    expect(error.status).toBe(403);
  });
});

describe('lists for the workspace', () => {
  it('shows every colleague’s load, so a transfer can pick the least busy', async () => {
    const { holder } = await newDialog('load-1');
    const workload = await world.operators[0]!.client.users.workload();
    const mine = workload.find((row) => row.userId === holder.id)!;
    const held = await world.server.ctx.store.db
      .selectFrom('sessions')
      .select('id')
      .where('operator_id', '=', holder.id)
      .where('status', 'in', ['assigned', 'answered', 'client_waiting'])
      .execute();
    expect(mine).toMatchObject({ presence: 'online', openSessions: held.length });
    expect(held.length).toBeGreaterThan(0);
  });

  it('filters dialogs by the client’s rating', async () => {
    const { intake, holder } = await newDialog('rated-1');
    await holder.ws.dialogs.close(intake.dialogId);
    await world.clientSays('rated-1', '0');
    const disliked = await world.admin.dialogs.list({ rating: 'dislike' });
    expect(disliked.items.map((d) => d.id)).toEqual([intake.dialogId]);
    const unrated = await world.admin.dialogs.list({ rating: 'none' });
    expect(unrated.items.map((d) => d.id)).not.toContain(intake.dialogId);
  });

  it('names the channel kinds the server can connect, with their settings schema', async () => {
    const kinds = await world.admin.channels.kinds();
    expect(kinds.map((k) => k.kind)).toEqual(expect.arrayContaining(['api', 'telegram', 'widget']));
    expect(kinds.find((k) => k.kind === 'widget')?.answersBy).toBe('button');
    expect(kinds.find((k) => k.kind === 'api')?.settingsSchema).toMatchObject({ type: 'object' });
  });
});

describe('quick answers (AA-7)', () => {
  it('are managed by supervisors and searchable by everyone', async () => {
    const created = await world.admin.quickAnswers.create({
      title: 'Delivery times',
      text: 'We deliver in 2–3 days.',
    });
    await world.admin.quickAnswers.create({ title: 'Refunds', text: 'Refunds take a week.' });
    const found = await world.operators[0]!.ws.quickAnswers.list('deliver');
    expect(found.map((q) => q.id)).toEqual([created.id]);
    const denied = await problemOf(world.operators[0]!.ws.quickAnswers.create({ title: 'x', text: 'y' }));
    expect(denied.status).toBe(403);
    await world.admin.quickAnswers.update(created.id, { text: 'We deliver in 1–2 days.' });
    await world.admin.quickAnswers.delete(created.id);
    expect(await world.operators[0]!.ws.quickAnswers.list('deliver')).toEqual([]);
  });
});

describe('accounts are isolated', () => {
  it('another account sees none of our dialogs, lines or quick answers (404)', async () => {
    const email = uniqueEmail('other-admin');
    await createAccount(world.server.ctx, {
      accountName: 'Other',
      admin: { email, name: 'Other', password: TEST_PASSWORD },
    });
    const other = workspaceOf(await signIn(world.server, { email, password: TEST_PASSWORD }));
    const { intake } = await newDialog('iso-1');
    expect((await problemOf(other.dialogs.get(intake.dialogId))).status).toBe(404);
    expect((await problemOf(other.dialogs.take(intake.dialogId))).status).toBe(404);
    expect((await problemOf(other.lines.get(world.line.id))).status).toBe(404);
    expect((await other.dialogs.list()).items).toEqual([]);
  });
});
