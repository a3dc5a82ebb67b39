import type { Message, OpenlinesEvent } from '@openlines/contract';
import { afterEach, describe, expect, it } from 'vitest';
import { assertConsentForCrm } from '../src/services/automation/consent';
import { createEngineWorld, type EngineWorld } from './engine-fixture';
import { createSignedInUser, openRealtime, problemOf, waitFor } from './harness';

// Line automation through HTTP with a fake clock: working hours, consent, automatic texts, rating,
// KPI (issue 6). Timers are fired by the test (runOnce), so every rule is checked at a chosen instant.

const worlds: EngineWorld[] = [];
afterEach(async () => {
  for (const world of worlds.splice(0)) await world.stop();
});

async function world(options: Parameters<typeof createEngineWorld>[0] = {}) {
  const created = await createEngineWorld({ operatorCount: 1, ...options });
  worlds.push(created);
  return created;
}

const systemMessages = (messages: Message[]) => messages.filter((m) => m.authorKind === 'system');
const kinds = (messages: Message[]) => systemMessages(messages).map((m) => m.systemKind);

describe('automatic texts (AA-1, AA-4, OT-1)', () => {
  it('greets the first session only, and says goodbye when the operator closes', async () => {
    const w = await world();
    await w.online(...w.operators);
    const first = await w.clientSays('greet', 'Hello');
    const line = await w.admin.lines.get(w.line.id);
    let messages = await w.admin.dialogs.messages(first.dialogId);
    expect(messages.map((m) => m.authorKind)).toEqual(['client', 'system']);
    expect(systemMessages(messages)[0]).toMatchObject({
      systemKind: 'welcome',
      text: line.settings.automaticActions.welcome.text,
      private: false,
      deliveryState: 'pending',
    });

    await w.operators[0]!.ws.dialogs.send(first.dialogId, { text: 'Hi!' });
    await w.operators[0]!.ws.dialogs.close(first.dialogId);
    messages = await w.admin.dialogs.messages(first.dialogId);
    expect(kinds(messages)).toEqual(['welcome', 'close', 'rating_request']);

    await w.clientSays('greet', 'Me again');
    messages = await w.admin.dialogs.messages(first.dialogId);
    expect(kinds(messages)).toEqual(['welcome', 'close', 'rating_request']);
  });

  it('speaks the line’s language and a channel kind’s own text (LN-7)', async () => {
    const w = await world({ settings: { other: { language: 'ru' } } });
    const intake = await w.clientSays('ru-1', 'Привет');
    const [welcome] = systemMessages(await w.admin.dialogs.messages(intake.dialogId));
    expect(welcome?.text).toMatch(/[А-Яа-я]/);
    await w.admin.lines.update(w.line.id, {
      settings: { automaticActions: { perChannelKind: { api: { welcome: 'Привет из API' } } } },
    });
    const second = await w.clientSays('ru-2', 'Привет');
    expect(systemMessages(await w.admin.dialogs.messages(second.dialogId))[0]?.text).toBe('Привет из API');
  });
});

describe('working hours (WH-1..WH-3)', () => {
  it('answers off hours once per session, holds routing, and routes when the line opens', async () => {
    // Saturday 2026-03-07 12:00 in Moscow (UTC+3); the line works Mon–Fri 09:00–18:00 Moscow time.
    const w = await world({
      settings: { workingHours: { enabled: true, timeZone: 'Europe/Moscow' } },
    });
    w.clock.set('2026-03-07T09:00:00Z');
    await w.online(...w.operators);
    const schedule = await w.admin.lines.schedule(w.line.id);
    expect(schedule.line).toMatchObject({
      open: false,
      nextOpenAt: '2026-03-09T06:00:00.000Z',
      timeZone: 'Europe/Moscow',
    });

    const intake = await w.clientSays('weekend', 'Are you open?');
    await w.clientSays('weekend', 'Hello??');
    let dialog = await w.admin.dialogs.get(intake.dialogId);
    expect(dialog.session).toMatchObject({ status: 'queued', operatorId: null, openedOffHours: true });
    expect(kinds(await w.admin.dialogs.messages(intake.dialogId))).toEqual(['off_hours']);

    w.clock.set('2026-03-09T06:00:00Z');
    await w.server.workers.timers.sweepQueues();
    dialog = await w.admin.dialogs.get(intake.dialogId);
    expect(dialog.session).toMatchObject({ status: 'assigned', operatorId: w.operators[0]!.id });
  });
});

describe('consent (AG-1..AG-3)', () => {
  it('asks on the first message, takes the next message as consent in a messenger, and guards the CRM', async () => {
    const w = await world({
      settings: { agreement: { required: true, text: 'We process your data. Reply to agree.' } },
    });
    const intake = await w.clientSays('consent-1', 'Hi');
    let dialog = await w.admin.dialogs.get(intake.dialogId);
    expect(dialog.session?.consent).toBe('pending');
    expect(systemMessages(await w.admin.dialogs.messages(intake.dialogId))[0]).toMatchObject({
      systemKind: 'consent_request',
      text: 'We process your data. Reply to agree.',
    });
    const accountId = (await w.admin.client.auth.me()).account.id;
    const refused = await assertConsentForCrm(w.server.ctx, accountId, intake.dialogId).catch((e) => e);
    expect(refused).toMatchObject({ code: 'consent_required', status: 409 });

    await w.clientSays('consent-1', 'OK');
    dialog = await w.admin.dialogs.get(intake.dialogId);
    expect(dialog.session?.consent).toBe('given');
    await expect(assertConsentForCrm(w.server.ctx, accountId, intake.dialogId)).resolves.toBeUndefined();
    const recorded = await w.server.ctx.store.db.selectFrom('consents').selectAll().execute();
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({ how: 'reply', channel_id: w.channelId });

    // A new agreement text is a new version: the next session asks again.
    await w.admin.lines.update(w.line.id, { settings: { agreement: { text: 'New terms.' } } });
    await w.operators[0]!.client.auth.setPresence('online');
    const held = await w.admin.dialogs.get(intake.dialogId);
    if (held.session?.operatorId) await w.operators[0]!.ws.dialogs.close(intake.dialogId);
    else await w.admin.dialogs.close(intake.dialogId);
    await w.clientSays('consent-1', 'Back again');
    expect((await w.admin.dialogs.get(intake.dialogId)).session?.consent).toBe('pending');
  });
});

describe('no answer and auto-close (AA-3, AA-5, AA-6)', () => {
  it('marks an unanswered session, tells the client and the operator', async () => {
    const w = await world({
      settings: {
        queue: { noAnswerTimeSeconds: 120 },
        automaticActions: { noAnswer: { rule: 'text', notifyOperators: true } },
      },
    });
    const [operator] = w.operators;
    await w.online(operator!);
    const stream = openRealtime(operator!.client);
    await waitFor(() => stream.realtime.connected, 'socket');
    const intake = await w.clientSays('silent-op', 'Help!');
    w.clock.advance(121_000);
    expect(await w.server.workers.timers.runOnce()).toBeGreaterThanOrEqual(1);
    const dialog = await w.admin.dialogs.get(intake.dialogId);
    expect(dialog.session?.unanswered).toBe(true);
    expect(kinds(await w.admin.dialogs.messages(intake.dialogId))).toContain('no_answer');
    const noticed = (e: OpenlinesEvent) =>
      e.type === 'notification' && e.data.kind === 'no_answer' && e.data.dialogId === intake.dialogId;
    await waitFor(() => stream.events.some(noticed), 'the no-answer notification');
    stream.realtime.close();
  });

  it('closes a session the client stopped answering, then asks for a rating the client gives with 1', async () => {
    const w = await world({
      settings: { automaticActions: { autoClose: { rule: 'text', timeSeconds: 600 } } },
    });
    await w.online(...w.operators);
    const intake = await w.clientSays('quiet', 'Question');
    await w.operators[0]!.ws.dialogs.send(intake.dialogId, { text: 'Answer' });
    w.clock.advance(599_000);
    await w.server.workers.timers.runOnce();
    expect((await w.admin.dialogs.get(intake.dialogId)).session?.status).toBe('answered');
    w.clock.advance(2_000);
    await w.server.workers.timers.runOnce();
    const closed = await w.admin.dialogs.get(intake.dialogId);
    expect(closed.session?.status).toBe('auto_closed');
    expect(kinds(await w.admin.dialogs.messages(intake.dialogId))).toEqual([
      'welcome',
      'auto_close',
      'rating_request',
    ]);
    const request = (await w.server.ctx.store.db.selectFrom('outbox').select('payload').execute())
      .map((row) => row.payload as { message: { text: string; quickReplies?: { reply: string }[] } })
      .find((p) => p.message.quickReplies);
    expect(request?.message.quickReplies?.map((q) => q.reply)).toEqual(['1', '0']);

    const reply = await w.clientSays('quiet', '1');
    expect(reply.sessionId).toBe(closed.session!.id);
    const rated = await w.admin.dialogs.get(intake.dialogId);
    expect(rated.session?.rating).toMatchObject({ value: 'like' });
    expect(kinds(await w.admin.dialogs.messages(intake.dialogId)).at(-1)).toBe('rating_reply');
  });

  it('a reply after the rating time limit is an ordinary message that opens a session', async () => {
    const w = await world({ settings: { rating: { timeLimitSeconds: 60 } } });
    await w.online(...w.operators);
    const intake = await w.clientSays('late-rater', 'Question');
    await w.operators[0]!.ws.dialogs.close(intake.dialogId);
    w.clock.advance(61_000);
    const late = await w.clientSays('late-rater', '0');
    expect(late.sessionId).not.toBe(intake.sessionId);
    const sessions = await w.server.ctx.store.db.selectFrom('sessions').select(['id', 'rating']).execute();
    expect(sessions.every((s) => s.rating === null)).toBe(true);
  });

  it('with history saving off, an auto-closed session keeps no texts, and its goodbye still goes out', async () => {
    const w = await world({
      settings: {
        other: { saveHistory: false },
        automaticActions: { autoClose: { rule: 'text', timeSeconds: 600 } },
      },
    });
    await w.online(...w.operators);
    const intake = await w.clientSays('forget-me', 'my secret');
    await w.operators[0]!.ws.dialogs.send(intake.dialogId, { text: 'noted' });
    w.clock.advance(601_000);
    await w.server.workers.timers.runOnce();
    const messages = await w.admin.dialogs.messages(intake.dialogId);
    expect(messages.length).toBeGreaterThan(3);
    expect(messages.every((m) => m.text === null)).toBe(true);
    const goodbye = (await w.server.ctx.store.db.selectFrom('outbox').select('payload').execute()).map(
      (row) => (row.payload as { message: { text: string } }).message.text,
    );
    expect(goodbye).toContain((await w.admin.lines.get(w.line.id)).settings.automaticActions.autoClose.text);
  });

  it('a supervisor rates 1–5; an operator may not', async () => {
    const w = await world();
    await w.online(...w.operators);
    const intake = await w.clientSays('rate-me', 'Question');
    const sessionId = intake.sessionId!;
    const supervisor = await createSignedInUser(w.server, w.admin.client, 'supervisor');
    await supervisor.client.dialogs.rateAsSupervisor(sessionId, { rating: 4, comment: 'Polite, a bit slow' });
    const dialog = await w.admin.dialogs.get(intake.dialogId);
    expect(dialog.session?.supervisorRating).toMatchObject({
      value: 4,
      comment: 'Polite, a bit slow',
      by: supervisor.user.id,
    });
    await supervisor.client.dialogs.rateAsSupervisor(sessionId, { comment: 'Better after coaching' });
    expect((await w.admin.dialogs.get(intake.dialogId)).session?.supervisorRating).toMatchObject({
      value: 4,
      comment: 'Better after coaching',
    });
    expect(
      (await problemOf(w.operators[0]!.ws.dialogs.rateAsSupervisor(sessionId, { rating: 5 }))).status,
    ).toBe(403);
    expect(
      (await problemOf(supervisor.client.dialogs.rateAsSupervisor(sessionId, { rating: 6 }))).fields,
    ).toContain('body.rating');
  });
});

describe('KPI (KPI-1..KPI-3)', () => {
  it('records a missed first-answer target, notifies the operator and the supervisor, and shows the state', async () => {
    const w = await world();
    const supervisor = await createSignedInUser(w.server, w.admin.client, 'supervisor');
    await w.admin.lines.update(w.line.id, {
      settings: {
        kpi: {
          firstAnswer: {
            targetSeconds: 30,
            alert: true,
            recipients: [supervisor.user.id],
            messageText: '#OPERATOR# is late with #DIALOG#',
          },
        },
      },
    });
    const [operator] = w.operators;
    await w.online(operator!);
    const supervisorStream = openRealtime(supervisor.client);
    await waitFor(() => supervisorStream.realtime.connected, 'socket');
    const intake = await w.clientSays('kpi-client', 'Quick please');
    expect((await w.admin.dialogs.get(intake.dialogId)).session?.kpi).toMatchObject({ state: 'on_time' });

    w.clock.advance(31_000);
    await w.server.workers.timers.runOnce();
    expect((await w.admin.dialogs.get(intake.dialogId)).session?.kpi).toMatchObject({
      state: 'overdue',
      breaches: 1,
    });
    const alert = (e: OpenlinesEvent) => e.type === 'notification' && e.data.kind === 'kpi_first_answer';
    await waitFor(() => supervisorStream.events.some(alert), 'the KPI alert');
    const event = supervisorStream.events.find(alert) as Extract<OpenlinesEvent, { type: 'notification' }>;
    expect(event.data.text).toBe(`${operator!.user.name} is late with Client kpi-client`);

    await operator!.ws.dialogs.send(intake.dialogId, { text: 'Sorry for the wait' });
    const answered = await w.admin.dialogs.get(intake.dialogId);
    expect(answered.session?.kpi).toMatchObject({ state: 'missed', firstAnswerSeconds: 31, breaches: 1 });
    supervisorStream.realtime.close();
  });
});
