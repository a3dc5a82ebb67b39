import type { Message, OpenlinesEvent } from '@openlines/contract';
import { afterEach, describe, expect, it } from 'vitest';
import { createEngineWorld, type EngineWorld, type Workspace } from './engine-fixture';
import { openRealtime, waitFor } from './harness';

// LN-4 through HTTP and WebSocket with a fake clock: an inactive line stores what its clients write
// but does not route it, show it, answer it automatically or run its timers; switching it on starts
// what waited. Timers are fired by the test (runOnce), so "did not fire" is checked at an instant.

const worlds: EngineWorld[] = [];
afterEach(async () => {
  for (const world of worlds.splice(0)) await world.stop();
});

async function world(options: Parameters<typeof createEngineWorld>[0] = {}) {
  const created = await createEngineWorld({ operatorCount: 1, ...options });
  worlds.push(created);
  return created;
}

const kinds = (messages: Message[]) =>
  messages.filter((m) => m.authorKind === 'system').map((m) => m.systemKind);

async function listed(ws: Workspace, dialogId: string): Promise<boolean> {
  for (const view of ['queue', 'mine', 'all'] as const) {
    const { items } = await ws.dialogs.list({ view });
    if (items.some((d) => d.id === dialogId)) return true;
  }
  return false;
}

const switchedOn = (lineId: string) => (e: OpenlinesEvent) =>
  e.type === 'line.changed' && e.data.lineId === lineId;

/** The events a stream got before the one that `barrier` matches (events arrive in cursor order). */
function before(events: OpenlinesEvent[], barrier: (e: OpenlinesEvent) => boolean): OpenlinesEvent[] {
  const at = events.findIndex(barrier);
  return at < 0 ? [...events] : events.slice(0, at);
}

const aboutDialog = (dialogId: string) => (e: OpenlinesEvent) =>
  (e.type === 'message.created' && e.data.message.dialogId === dialogId) ||
  (e.type === 'message.updated' && e.data.message.dialogId === dialogId) ||
  (e.type === 'dialog.updated' && e.data.dialog.id === dialogId) ||
  (e.type === 'notification' && e.data.dialogId === dialogId);

describe('a message to an inactive line (LN-4)', () => {
  it('is stored, not routed, gets no automatic text and is in no operator’s list', async () => {
    const w = await world({
      settings: {
        agreement: { required: true, text: 'We process your data. Reply to agree.' },
        automaticActions: { contactForm: { enabled: true, when: 'first_message' } },
      },
    });
    const [operator] = w.operators;
    await w.online(operator!);
    await w.admin.lines.update(w.line.id, { active: false });

    const intake = await w.clientSays('off-1', 'Hello, anybody?');
    await w.clientSays('off-1', 'Second message');
    expect(intake.duplicate).toBe(false);

    const messages = await w.admin.dialogs.messages(intake.dialogId);
    expect(messages.map((m) => [m.authorKind, m.text])).toEqual([
      ['client', 'Hello, anybody?'],
      ['client', 'Second message'],
    ]);
    expect(kinds(messages)).toEqual([]);
    const outbox = await w.server.ctx.store.db.selectFrom('outbox').select('id').execute();
    expect(outbox).toHaveLength(0);

    const dialog = await w.admin.dialogs.get(intake.dialogId);
    expect(dialog.session).toMatchObject({ status: 'new', operatorId: null, consent: 'not_required' });
    expect(await listed(operator!.ws, intake.dialogId)).toBe(false);
    expect(await listed(w.admin, intake.dialogId)).toBe(false);
  });

  it('stays silent off hours too, and gets the off-hours reply when switched on while closed', async () => {
    // Saturday 2026-03-07 12:00 in Moscow; the line works Mon–Fri 09:00–18:00 Moscow time.
    const w = await world({ settings: { workingHours: { enabled: true, timeZone: 'Europe/Moscow' } } });
    w.clock.set('2026-03-07T09:00:00Z');
    await w.online(...w.operators);
    await w.admin.lines.update(w.line.id, { active: false });
    const intake = await w.clientSays('off-weekend', 'Are you there?');
    expect(kinds(await w.admin.dialogs.messages(intake.dialogId))).toEqual([]);

    await w.admin.lines.update(w.line.id, { active: true });
    expect(kinds(await w.admin.dialogs.messages(intake.dialogId))).toEqual(['off_hours']);
    expect((await w.admin.dialogs.get(intake.dialogId)).session).toMatchObject({
      status: 'queued',
      operatorId: null,
      openedOffHours: true,
    });

    w.clock.set('2026-03-09T06:00:00Z');
    await w.server.workers.timers.sweepQueues();
    expect((await w.admin.dialogs.get(intake.dialogId)).session).toMatchObject({
      status: 'assigned',
      operatorId: w.operators[0]!.id,
    });
    expect(kinds(await w.admin.dialogs.messages(intake.dialogId))).toEqual(['off_hours']);
  });
});

describe('timers of a session held when its line is switched off (LN-4)', () => {
  it('the no-answer timer does not fire while off, and fires once after the line is on', async () => {
    const w = await world({
      settings: {
        queue: { noAnswerTimeSeconds: 120 },
        automaticActions: { noAnswer: { rule: 'text', notifyOperators: true } },
      },
    });
    const [operator] = w.operators;
    await w.online(operator!);
    const intake = await w.clientSays('held-1', 'Question');
    await operator!.ws.dialogs.send(intake.dialogId, { text: 'Answer' });
    await w.clientSays('held-1', 'A follow-up');
    expect((await w.admin.dialogs.get(intake.dialogId)).session?.status).toBe('client_waiting');

    await w.admin.lines.update(w.line.id, { active: false });
    const stream = openRealtime(operator!.client);
    await waitFor(() => stream.realtime.connected, 'socket');
    w.clock.advance(3_600_000);
    expect(await w.server.workers.timers.runOnce()).toBe(0);
    expect(await w.server.workers.timers.runOnce()).toBe(0);
    expect(kinds(await w.admin.dialogs.messages(intake.dialogId))).toEqual(['welcome']);
    const timers = await w.server.ctx.store.db
      .selectFrom('timers')
      .select('kind')
      .where('session_id', '=', intake.sessionId!)
      .execute();
    expect(timers.map((t) => t.kind)).toContain('no_answer');

    await w.admin.lines.update(w.line.id, { active: true });
    await waitFor(() => stream.events.some(switchedOn(w.line.id)), 'the line switched on');
    const noticed = (e: OpenlinesEvent) =>
      e.type === 'notification' && e.data.kind === 'no_answer' && e.data.dialogId === intake.dialogId;
    expect(before(stream.events, switchedOn(w.line.id)).filter(noticed)).toEqual([]);

    expect(await w.server.workers.timers.runOnce()).toBeGreaterThanOrEqual(1);
    expect(await w.server.workers.timers.runOnce()).toBe(0);
    const dialog = await w.admin.dialogs.get(intake.dialogId);
    expect(dialog.session).toMatchObject({ status: 'client_waiting', unanswered: true });
    expect(kinds(await w.admin.dialogs.messages(intake.dialogId))).toEqual(['welcome', 'no_answer']);
    await waitFor(() => stream.events.some(noticed), 'the no-answer notification');
    expect(stream.events.filter(noticed)).toHaveLength(1);
    stream.realtime.close();
  });

  it('the auto-close timer does not close the session while off, and closes it once after', async () => {
    const w = await world({
      settings: { automaticActions: { autoClose: { rule: 'text', timeSeconds: 600 } } },
    });
    const [operator] = w.operators;
    await w.online(operator!);
    const intake = await w.clientSays('held-2', 'Question');
    await operator!.ws.dialogs.send(intake.dialogId, { text: 'Answer' });
    await w.admin.lines.update(w.line.id, { active: false });

    w.clock.advance(601_000);
    expect(await w.server.workers.timers.runOnce()).toBe(0);
    expect((await w.admin.dialogs.get(intake.dialogId)).session?.status).toBe('answered');
    expect(kinds(await w.admin.dialogs.messages(intake.dialogId))).toEqual(['welcome']);

    await w.admin.lines.update(w.line.id, { active: true });
    expect((await w.admin.dialogs.get(intake.dialogId)).session?.status).toBe('answered');
    expect(await w.server.workers.timers.runOnce()).toBeGreaterThanOrEqual(1);
    expect(await w.server.workers.timers.runOnce()).toBe(0);
    expect((await w.admin.dialogs.get(intake.dialogId)).session?.status).toBe('auto_closed');
    expect(kinds(await w.admin.dialogs.messages(intake.dialogId))).toEqual([
      'welcome',
      'auto_close',
      'rating_request',
    ]);
  });
});

describe('switching an inactive line on (LN-4)', () => {
  it('routes the stored session, which gets its start texts then, once', async () => {
    const w = await world({
      settings: {
        queue: { noAnswerTimeSeconds: 120 },
        agreement: { required: true, text: 'We process your data. Reply to agree.' },
        automaticActions: { noAnswer: { rule: 'text', notifyOperators: true } },
      },
    });
    const [operator] = w.operators;
    await w.online(operator!);
    await w.admin.lines.update(w.line.id, { active: false });
    const intake = await w.clientSays('later', 'Written while the line was off');
    w.clock.advance(3_600_000);
    expect(await w.server.workers.timers.runOnce()).toBe(0);

    const stream = openRealtime(operator!.client);
    await waitFor(() => stream.realtime.connected, 'socket');
    await w.admin.lines.update(w.line.id, { active: true });
    const dialog = await w.admin.dialogs.get(intake.dialogId);
    expect(dialog.session).toMatchObject({
      status: 'assigned',
      operatorId: operator!.id,
      consent: 'pending',
    });
    expect(await listed(operator!.ws, intake.dialogId)).toBe(true);
    const transitions = await w.admin.dialogs.transitions(intake.dialogId);
    expect(transitions.map((t) => t.reason)).toContain('line_activated');
    const messages = await w.admin.dialogs.messages(intake.dialogId);
    expect(messages.map((m) => m.systemKind ?? m.authorKind)).toEqual([
      'client',
      'consent_request',
      'welcome',
    ]);
    await waitFor(
      () => stream.events.some((e) => e.type === 'dialog.updated' && e.data.dialog.id === intake.dialogId),
      'the dialog reaching its operator',
    );

    // The no-answer wait starts at activation; nothing fires in the same instant.
    expect(await w.server.workers.timers.runOnce()).toBe(0);
    expect(kinds(await w.admin.dialogs.messages(intake.dialogId))).toEqual(['consent_request', 'welcome']);
    w.clock.advance(121_000);
    await w.server.workers.timers.runOnce();
    expect(kinds(await w.admin.dialogs.messages(intake.dialogId))).toEqual([
      'consent_request',
      'welcome',
      'no_answer',
    ]);

    // Off and on again: nothing is sent twice.
    await w.admin.lines.update(w.line.id, { active: false });
    await w.admin.lines.update(w.line.id, { active: true });
    expect(kinds(await w.admin.dialogs.messages(intake.dialogId))).toEqual([
      'consent_request',
      'welcome',
      'no_answer',
    ]);
    stream.realtime.close();
  });
});

describe('LN-4 realtime: an inactive line’s dialogs are not streamed to operators', () => {
  it('the operator holding a dialog is not pushed its client’s messages while the line is off', async () => {
    const w = await world();
    const [operator] = w.operators;
    await w.online(operator!);
    const intake = await w.clientSays('quiet-line', 'Question');
    await operator!.ws.dialogs.send(intake.dialogId, { text: 'Answer' });
    await w.admin.lines.update(w.line.id, { active: false });

    const stream = openRealtime(operator!.client);
    await waitFor(() => stream.realtime.connected, 'socket');
    await w.clientSays('quiet-line', 'Written while the line is off');
    // A changed profile takes the general write path rather than the lean one.
    await w.sender.send({
      externalId: `renamed-${Math.random()}`,
      user: { id: 'quiet-line', name: 'A new name' },
      text: 'And again, with a new name',
    });
    await w.admin.lines.update(w.line.id, { active: true });
    await waitFor(() => stream.events.some(switchedOn(w.line.id)), 'the line switched on');
    expect(before(stream.events, switchedOn(w.line.id)).filter(aboutDialog(intake.dialogId))).toEqual([]);
    stream.realtime.close();
  });

  it('who sees every dialog is not pushed a new dialog of an inactive line', async () => {
    const w = await world();
    await w.admin.lines.update(w.line.id, { active: false });
    const stream = openRealtime(w.admin.client);
    await waitFor(() => stream.realtime.connected, 'socket');
    const intake = await w.clientSays('unseen', 'Hello');
    await w.clientSays('unseen', 'Hello again');
    await w.admin.lines.update(w.line.id, { active: true });
    await waitFor(() => stream.events.some(switchedOn(w.line.id)), 'the line switched on');
    expect(before(stream.events, switchedOn(w.line.id)).filter(aboutDialog(intake.dialogId))).toEqual([]);
    stream.realtime.close();
  });
});
