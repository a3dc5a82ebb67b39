import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngineWorld, type EngineWorld } from './engine-fixture';
import { problemOf } from './harness';

// Issue 19's operator actions through HTTP: writing first / answering a closed dialog, a
// supervisor's take-over and join, a transfer's comment, personal and per-line quick answers,
// tags with the list filters, the period filters by created/closed time.

let world: EngineWorld;
let adminId: string;
beforeAll(async () => {
  world = await createEngineWorld({ settings: { queue: { distribution: 'evenly' } } });
  await world.online(...world.operators);
  adminId = (await world.admin.client.auth.me()).user.id;
});
afterAll(async () => world?.stop());

async function newDialog(client: string, text = 'Hello') {
  const intake = await world.clientSays(client, text);
  const dialog = await world.admin.dialogs.get(intake.dialogId);
  const holder = world.operators.find((o) => o.id === dialog.session?.operatorId);
  if (!holder) throw new Error('the dialog was not assigned');
  return { dialogId: intake.dialogId, dialog, holder, others: world.operators.filter((o) => o !== holder) };
}

describe('writing first and answering a closed dialog', () => {
  it('starts a new session held by the operator, whose answer goes to the client', async () => {
    const { dialogId, holder } = await newDialog('fu-1');
    const first = (await world.admin.dialogs.get(dialogId)).session!.id;
    // An open session: answer it instead.
    expect((await problemOf(holder.ws.dialogs.followUp(dialogId))).code).toBe('invalid_state');
    await holder.ws.dialogs.close(dialogId);
    // Sending into a closed dialog is refused until it is reopened.
    expect((await problemOf(holder.ws.dialogs.send(dialogId, { text: 'late' }))).code).toBe('invalid_state');
    world.clock.advance(60_000);
    const reopened = await holder.ws.dialogs.followUp(dialogId);
    expect(reopened.session).toMatchObject({ status: 'assigned', operatorId: holder.id });
    expect(reopened.session!.id).not.toBe(first);
    const message = await holder.ws.dialogs.send(dialogId, { text: 'Following up on your order' });
    expect(message).toMatchObject({ private: false, sessionId: reopened.session!.id });
    expect((await holder.ws.dialogs.get(dialogId)).session?.status).toBe('answered');
    const outbox = await world.server.ctx.store.db
      .selectFrom('outbox')
      .select('state')
      .where('message_id', '=', message.id)
      .execute();
    expect(outbox).toHaveLength(1);
    const reasons = (await holder.ws.dialogs.transitions(dialogId))
      .filter((t) => t.sessionId === reopened.session!.id)
      .map((t) => t.reason);
    expect(reasons).toEqual(['started_by_operator', 'operator_start', 'taken', 'operator_message']);
  });

  it('is refused to an operator outside the line and for a spam client', async () => {
    const { dialogId, holder } = await newDialog('fu-2');
    await holder.ws.dialogs.markSpam(dialogId);
    expect((await problemOf(holder.ws.dialogs.followUp(dialogId))).code).toBe('invalid_state');
    const { dialogId: other, holder: h2 } = await newDialog('fu-3');
    await h2.ws.dialogs.close(other);
    // Off the line's queue, the operator no longer may (the admin is a supervisor and still may).
    await world.admin.lines.update(world.line.id, {
      settings: {
        queue: { members: world.operators.filter((o) => o !== h2).map((o) => ({ type: 'user', id: o.id })) },
      },
    });
    try {
      const problem = await problemOf(h2.ws.dialogs.followUp(other));
      expect(problem.code).toBe('forbidden');
      expect((await world.admin.dialogs.followUp(other)).session?.operatorId).toBe(adminId);
    } finally {
      await world.admin.lines.update(world.line.id, {
        settings: { queue: { members: world.operators.map((o) => ({ type: 'user', id: o.id })) } },
      });
    }
  });
});

describe('supervisor actions', () => {
  it('a supervisor intercepts a dialog from its operator; an operator may not', async () => {
    const { dialogId, holder, others } = await newDialog('sv-1');
    // An operator does not even see a colleague's dialog (AR-1), so it is not found for them.
    expect((await problemOf(others[0]!.ws.dialogs.intercept(dialogId))).code).toBe('not_found');
    const taken = await world.admin.dialogs.intercept(dialogId);
    expect(taken.session?.operatorId).toBe(adminId);
    const last = (await world.admin.dialogs.transitions(dialogId)).at(-1)!;
    expect(last).toMatchObject({ reason: 'intercepted', actorId: adminId, operatorId: adminId });
    expect((await problemOf(holder.ws.dialogs.send(dialogId, { text: 'mine?' }))).status).toBe(403);
    expect((await problemOf(world.admin.dialogs.intercept(dialogId))).code).toBe('invalid_state');
  });

  it('a supervisor joins as a consultant uninvited; their message stays private', async () => {
    const { dialogId, holder, others } = await newDialog('sv-2');
    expect((await problemOf(others[0]!.ws.dialogs.join(dialogId))).code).toBe('not_found');
    const joined = await world.admin.dialogs.join(dialogId);
    expect(joined.session?.participantIds).toEqual([adminId]);
    expect(joined.session?.operatorId).toBe(holder.id);
    expect((await problemOf(world.admin.dialogs.join(dialogId))).code).toBe('invalid_state');
    const note = await world.admin.dialogs.send(dialogId, { text: 'Offer a discount' });
    expect(note.private).toBe(true);
    const last = (await holder.ws.dialogs.transitions(dialogId)).at(-1)!;
    expect(last).toMatchObject({ reason: 'joined', actorId: adminId, operatorId: holder.id });
    expect(last.from).toBe(last.to);
  });
});

describe('a transfer with a comment', () => {
  it('keeps the comment with the transition the receiving operator reads', async () => {
    const { dialogId, holder, others } = await newDialog('tr-1');
    const to = others[0]!;
    await holder.ws.dialogs.transfer(dialogId, {
      operatorId: to.id,
      comment: '  Wants a refund for order 42  ',
    });
    const transfer = (await to.ws.dialogs.transitions(dialogId)).find((t) => t.reason === 'transferred')!;
    expect(transfer.comment).toBe('Wants a refund for order 42');
    expect(transfer.operatorId).toBe(to.id);
    const tooLong = await problemOf(
      to.ws.dialogs.transfer(dialogId, { operatorId: holder.id, comment: 'x'.repeat(1001) }),
    );
    expect(tooLong.status).toBe(400);
    expect(tooLong.errors.map((e) => e.field)).toContain('body.comment');
  });
});

describe('quick answers: personal and per line', () => {
  it('a personal answer is its owner’s only; a line’s answer is offered in that line only', async () => {
    const [anna, boris] = world.operators;
    const mine = await anna!.ws.quickAnswers.create({
      title: 'My sign-off',
      text: 'Best, Anna',
      personal: true,
    });
    expect(mine.personal).toBe(true);
    // Shared ones still need the permission.
    expect((await problemOf(anna!.ws.quickAnswers.create({ title: 'Shared', text: 'x' }))).code).toBe(
      'forbidden',
    );
    const other = await world.admin.lines.create({ name: 'Other line' });
    const lineOnly = await world.admin.quickAnswers.create({
      title: 'Other hours',
      text: '9–18',
      lineId: other.id,
    });
    expect((await anna!.ws.quickAnswers.list()).map((a) => a.id)).toEqual(expect.arrayContaining([mine.id]));
    expect((await boris!.ws.quickAnswers.list()).map((a) => a.id)).not.toContain(mine.id);
    expect((await problemOf(boris!.ws.quickAnswers.update(mine.id, { text: 'hijack' }))).code).toBe(
      'not_found',
    );
    expect((await problemOf(world.admin.quickAnswers.delete(mine.id))).code).toBe('not_found');
    const here = (await anna!.ws.quickAnswers.list(undefined, { lineId: world.line.id })).map((a) => a.id);
    expect(here).toContain(mine.id);
    expect(here).not.toContain(lineOnly.id);
    expect((await anna!.ws.quickAnswers.list(undefined, { lineId: other.id })).map((a) => a.id)).toContain(
      lineOnly.id,
    );
    const bad = await problemOf(
      world.admin.quickAnswers.create({
        title: 'x',
        text: 'y',
        lineId: '00000000-0000-4000-8000-000000000000',
      }),
    );
    expect(bad.errors.map((e) => e.field)).toEqual(['body.lineId']);
    await anna!.ws.quickAnswers.update(mine.id, { text: 'Kind regards, Anna' });
    await anna!.ws.quickAnswers.delete(mine.id);
    expect((await anna!.ws.quickAnswers.list()).map((a) => a.id)).not.toContain(mine.id);
  });
});

describe('tags and list filters', () => {
  it('labels a dialog and filters by tag, rating and created/closed period', async () => {
    const { dialogId, holder } = await newDialog('tag-1');
    const tagged = await holder.ws.dialogs.setTags(dialogId, ['vip', 'refund', 'vip']);
    expect(tagged.tags).toEqual(['refund', 'vip']);
    const { dialogId: plain } = await newDialog('tag-2');
    const byTag = await world.admin.dialogs.list({ view: 'all', tag: 'vip' });
    expect(byTag.items.map((d) => d.id)).toEqual([dialogId]);
    const bad = await problemOf(holder.ws.dialogs.setTags(dialogId, ['x'.repeat(41)]));
    expect(bad.status).toBe(400);
    // A new client message keeps the dialog's tags in its event and reads.
    await world.clientSays('tag-1', 'again');
    expect((await world.admin.dialogs.get(dialogId)).tags).toEqual(['refund', 'vip']);

    const createdAt = (await world.admin.dialogs.get(plain)).session!.createdAt;
    world.clock.advance(3_600_000);
    await world.admin.dialogs.close(plain);
    const closedAt = (await world.admin.dialogs.get(plain)).session!.closedAt!;
    const created = await world.admin.dialogs.list({
      view: 'all',
      periodBy: 'created',
      from: createdAt,
      to: new Date(Date.parse(createdAt) + 1000).toISOString(),
    });
    expect(created.items.map((d) => d.id)).toContain(plain);
    const closed = await world.admin.dialogs.list({ view: 'all', periodBy: 'closed', from: closedAt });
    expect(closed.items.map((d) => d.id)).toEqual([plain]);
    expect((await world.admin.dialogs.list({ view: 'all', rating: 'like' })).items).toEqual([]);
    const wrong = await problemOf(world.admin.dialogs.list({ view: 'all', periodBy: 'opened' as never }));
    expect(wrong.errors[0]?.field).toBe('query.periodBy');
  });
});
