import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type {
  Bot,
  BuiltinBotDefinition,
  LineSettingsPatch,
  Message,
  SessionTransition,
} from '@openlines/contract';
import { BotApiClient, OpenlinesError } from '@openlines/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { keyboardOf } from '../src/channels/telegram/outbound';
import { FakeClock } from '../src/core/clock';
import { createEngineWorld, type EngineWorld } from './engine-fixture';
import { createSignedInUser, problemOf, waitFor } from './harness';
import { type BotPeer, startBotPeer } from './peers/bot-peer';

// Each test builds a server of its own (the first in a worker also the migrated database template,
// which takes long on a busy machine), hence the longer timeout.
// Chatbots (SPEC §7) through real HTTP: an external bot is a real HTTP server that verifies the
// signature of every event and answers over the bot API; the built-in bot answers in the intake's
// transaction. The clock is fake and the workers are driven by the test (runOnce).

const worlds: EngineWorld[] = [];
const peers: BotPeer[] = [];
afterEach(async () => {
  for (const peer of peers.splice(0)) await peer.close();
  for (const world of worlds.splice(0)) await world.stop();
});

async function world(settings: LineSettingsPatch = {}, operatorCount = 1) {
  const created = await createEngineWorld({ operatorCount, settings });
  worlds.push(created);
  return created;
}

async function externalBot(w: EngineWorld): Promise<{ bot: Bot; peer: BotPeer; token: string }> {
  const peer = await startBotPeer(() => w.clock.now());
  peers.push(peer);
  const created = await w.admin.client.bots.create({
    kind: 'external',
    name: 'Helper',
    webhookUrl: peer.url,
  });
  expect(created.secrets?.token).toMatch(/^olb_/);
  peer.secret = created.secrets!.webhookSecret;
  peer.api = new BotApiClient(w.server.url, created.secrets!.token);
  return { bot: created.bot, peer, token: created.secrets!.token };
}

async function useWelcomeBot(w: EngineWorld, botId: string, patch: Record<string, unknown> = {}) {
  await w.admin.lines.update(w.line.id, {
    settings: { bot: { welcomeBot: { enabled: true, botId, timeSeconds: 300, ...patch } } },
  });
}

const transitionsOf = (w: EngineWorld, dialogId: string): Promise<SessionTransition[]> =>
  w.admin.dialogs.transitions(dialogId);
const steps = (transitions: SessionTransition[]) =>
  transitions.map((t) => [t.from, t.to, t.actorKind, t.reason]);
const authors = (messages: Message[]) => messages.map((m) => [m.authorKind, m.text]);

const MENU: BuiltinBotDefinition = {
  steps: [
    {
      id: 'start',
      text: 'Здравствуйте! Выберите тему.',
      options: [
        { title: 'Доставка', keywords: ['доставка'], action: { type: 'step', step: 'delivery' } },
        { title: 'Оператор', keywords: [], action: { type: 'queue' } },
      ],
    },
    {
      id: 'delivery',
      text: 'Доставляем за 1–3 дня.',
      options: [{ title: 'Назад', keywords: ['назад'], action: { type: 'step', step: 'start' } }],
    },
  ],
  fallbackText: 'Не понял вас. Выберите кнопку.',
  handOverAfterMisses: 3,
};

describe('an external bot as the line’s first responder (BOT-1, BOT-2)', { timeout: 120_000 }, () => {
  it('holds the session, hears signed events, answers over the API and hands over to the operator', async () => {
    const w = await world();
    await w.online(...w.operators);
    const { bot, peer } = await externalBot(w);
    await useWelcomeBot(w, bot.id);
    peer.react = async (event, api) => {
      if (event.type === 'session.started') {
        await api.typing(event.session.id);
        await api.send(event.session.id, {
          text: `Hi ${event.client?.name}! You said: ${event.message?.text}`,
          buttons: [{ title: 'Order status', reply: 'status' }],
        });
      }
      if (event.type === 'message.created' && event.message?.text === 'status') {
        await api.transfer(event.session.id, { to: 'queue' });
      }
    };

    const intake = await w.clientSays('c1', 'Hello');
    let dialog = await w.admin.dialogs.get(intake.dialogId);
    // Not offered to operators: the bot holds it, although an operator is online and free.
    expect(dialog.session).toMatchObject({ status: 'bot', operatorId: null });
    expect(await w.operators[0]!.ws.dialogs.list({ view: 'queue' }).then((p) => p.items.length)).toBe(0);
    // No welcome text of the line: the bot greets.
    expect((await w.admin.dialogs.messages(intake.dialogId)).map((m) => m.authorKind)).toEqual(['client']);

    expect(await w.server.workers.bots.runOnce()).toMatchObject({ claimed: 1, sent: 1 });
    expect(peer.rejected).toBe(0);
    expect(peer.events.map((e) => [e.type, e.message?.text])).toEqual([['session.started', 'Hello']]);
    expect(peer.errors).toEqual([]);

    await w.clientSays('c1', 'status');
    await w.server.workers.bots.runOnce();
    expect(peer.errors).toEqual([]);
    dialog = await w.admin.dialogs.get(intake.dialogId);
    expect(dialog.session).toMatchObject({ status: 'assigned', operatorId: w.operators[0]!.id });
    expect(steps(await transitionsOf(w, intake.dialogId))).toEqual([
      [null, 'new', 'client', 'client_message'],
      ['new', 'bot', 'system', 'bot_started'],
      ['bot', 'queued', 'bot', 'bot_handover'],
      ['queued', 'assigned', 'system', 'routed_evenly'],
    ]);
    // The operator sees the bot's part of the conversation above the session.
    const seen = await w.operators[0]!.ws.dialogs.messages(intake.dialogId);
    expect(authors(seen)).toEqual([
      ['client', 'Hello'],
      ['bot', 'Hi Client c1! You said: Hello'],
      ['client', 'status'],
    ]);
    // The bot hears that it left; afterwards it may read the history but not act.
    await w.server.workers.bots.runOnce();
    expect(peer.events.at(-1)).toMatchObject({
      type: 'session.left',
      reason: 'bot_handover',
      status: 'queued',
    });
    expect((await peer.api!.history(intake.sessionId!)).map((m) => m.text)).toContain('status');
    await expect(peer.api!.send(intake.sessionId!, { text: 'still here?' })).rejects.toMatchObject({
      status: 409,
    });
    // BOT-4: the bot's time is recorded apart.
    const row = await w.server.ctx.store.db
      .selectFrom('sessions')
      .select(['bot_id', 'bot_started_at', 'bot_ended_at', 'waiting_since'])
      .where('id', '=', intake.sessionId!)
      .executeTakeFirstOrThrow();
    expect(row.bot_id).toBe(bot.id);
    expect(row.bot_started_at).toEqual(w.clock.now());
    expect(row.bot_ended_at).toEqual(w.clock.now());
  });

  it('reaches only sessions handed to it; bad calls get problem+json', async () => {
    const w = await world();
    const { bot, peer, token } = await externalBot(w);
    const other = await w.clientSays('no-bot', 'Hi'); // before the bot is the line's: not the bot's
    await useWelcomeBot(w, bot.id);
    const mine = await w.clientSays('with-bot', 'Hi');
    const api = peer.api!;
    await expect(api.send(other.sessionId!, { text: 'hello' })).rejects.toMatchObject({ status: 404 });
    await expect(api.send('00000000-0000-4000-8000-000000000000', { text: 'x' })).rejects.toMatchObject({
      status: 404,
    });
    // Another account's bot is a stranger, too.
    const badToken = new BotApiClient(w.server.url, `${token}x`);
    await expect(badToken.send(mine.sessionId!, { text: 'x' })).rejects.toMatchObject({ status: 401 });
    const empty = await fetch(`${w.server.url}/api/v1/bot-api/sessions/${mine.sessionId}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({}),
    });
    expect(empty.status).toBe(400);
    expect(empty.headers.get('content-type')).toMatch(/problem\+json/);
    expect((await empty.json()).errors).toEqual([expect.objectContaining({ field: 'body.text' })]);
    const wrongLine = await fetch(`${w.server.url}/api/v1/bot-api/sessions/${mine.sessionId}/transfer`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ to: 'line', lineId: '00000000-0000-4000-8000-000000000000' }),
    });
    expect(wrongLine.status).toBe(400);
    expect((await wrongLine.json()).errors[0].field).toBe('body.lineId');
  });

  it('a failing bot is retried and never blocks the session: the timer hands it over', async () => {
    const w = await world();
    await w.online(...w.operators);
    const { bot, peer } = await externalBot(w);
    await useWelcomeBot(w, bot.id, { timeSeconds: 120 });
    peer.status = 503;
    const intake = await w.clientSays('c2', 'Anyone?');
    expect(await w.server.workers.bots.runOnce()).toMatchObject({ claimed: 1, retried: 1 });
    const [delivery] = await w.server.ctx.store.db.selectFrom('bot_deliveries').selectAll().execute();
    expect(delivery).toMatchObject({ state: 'pending', attempts: 1, last_error: 'The bot answered 503' });
    // The next client message is taken and stored all the same.
    await w.clientSays('c2', 'Hello??');
    w.clock.advance(121_000);
    await w.server.workers.timers.runOnce();
    const dialog = await w.admin.dialogs.get(intake.dialogId);
    expect(dialog.session).toMatchObject({ status: 'assigned', operatorId: w.operators[0]!.id });
    expect(steps(await transitionsOf(w, intake.dialogId))).toContainEqual([
      'bot',
      'queued',
      'system',
      'bot_timeout',
    ]);
    // The bot recovers: the retried delivery carries the same id.
    peer.status = 200;
    w.clock.advance(60 * 60 * 1000);
    await w.server.workers.bots.runOnce();
    expect(peer.events.map((e) => e.type)).toEqual(['session.started', 'message.created', 'session.left']);
    expect(peer.deliveries.filter((id) => id === (delivery!.payload as { id: string }).id).length).toBe(2);
  });

  it('WELCOME_BOT_LEFT close: the session closes when the bot’s time is up; the client asking for a person hands over', async () => {
    const w = await world();
    await w.online(...w.operators);
    const { bot } = await externalBot(w);
    await useWelcomeBot(w, bot.id, { timeSeconds: 60, whenLeaving: 'close' });
    const quiet = await w.clientSays('quiet', 'Hi');
    w.clock.advance(61_000);
    await w.server.workers.timers.runOnce();
    expect((await w.admin.dialogs.get(quiet.dialogId)).session?.status).toBe('closed');
    expect(steps(await transitionsOf(w, quiet.dialogId)).at(-1)).toEqual([
      'bot',
      'closed',
      'system',
      'bot_timeout',
    ]);

    const eager = await w.clientSays('eager', 'Hi');
    await w.clientSays('eager', 'Позовите оператора, пожалуйста');
    expect((await w.admin.dialogs.get(eager.dialogId)).session).toMatchObject({
      status: 'assigned',
      operatorId: w.operators[0]!.id,
    });
    expect(steps(await transitionsOf(w, eager.dialogId))).toContainEqual([
      'bot',
      'queued',
      'client',
      'client_asked_operator',
    ]);
  });
});

describe('the built-in no-code bot (BOT-3)', { timeout: 120_000 }, () => {
  it('greets with buttons, follows keywords in Russian, hands over on the button, first session only', async () => {
    const w = await world();
    await w.online(...w.operators);
    const { bot } = await w.admin.client.bots.create({ kind: 'builtin', name: 'Меню', definition: MENU });
    await useWelcomeBot(w, bot.id, { join: 'first' });
    const intake = await w.clientSays('ru', 'Добрый день');
    expect((await w.admin.dialogs.get(intake.dialogId)).session?.status).toBe('bot');
    // The greeting goes out with its buttons: quick replies, an inline keyboard in Telegram.
    const payloads = (await w.server.ctx.store.db.selectFrom('outbox').select('payload').execute()).map(
      (row) =>
        row.payload as { message: { text: string; quickReplies?: { title: string; reply: string }[] } },
    );
    const greeting = payloads.find((p) => p.message.text === 'Здравствуйте! Выберите тему.');
    expect(greeting?.message.quickReplies?.map((q) => q.title)).toEqual(['Доставка', 'Оператор']);
    expect(keyboardOf(greeting?.message.quickReplies)).toEqual({
      inline_keyboard: [
        [
          { text: 'Доставка', callback_data: 'Доставка' },
          { text: 'Оператор', callback_data: 'Оператор' },
        ],
      ],
    });

    await w.clientSays('ru', 'а что с доставкой?');
    await w.clientSays('ru', 'хм');
    await w.clientSays('ru', 'назад');
    // A new version does not change the running session.
    await w.admin.client.bots.update(bot.id, {
      definition: { ...MENU, steps: [{ ...MENU.steps[0]!, text: 'Новое приветствие' }, MENU.steps[1]!] },
    });
    await w.clientSays('ru', 'Оператор');
    const messages = await w.operators[0]!.ws.dialogs.messages(intake.dialogId);
    expect(authors(messages)).toEqual([
      ['client', 'Добрый день'],
      ['bot', 'Здравствуйте! Выберите тему.'],
      ['client', 'а что с доставкой?'],
      ['bot', 'Доставляем за 1–3 дня.'],
      ['client', 'хм'],
      ['bot', 'Не понял вас. Выберите кнопку.'],
      ['client', 'назад'],
      ['bot', 'Здравствуйте! Выберите тему.'],
      ['client', 'Оператор'],
    ]);
    expect((await w.admin.dialogs.get(intake.dialogId)).session).toMatchObject({
      status: 'assigned',
      operatorId: w.operators[0]!.id,
    });
    expect(steps(await transitionsOf(w, intake.dialogId))).toContainEqual([
      'bot',
      'queued',
      'bot',
      'bot_handover',
    ]);

    // join: first — the dialog's next session goes straight to the operators.
    await w.operators[0]!.ws.dialogs.close(intake.dialogId);
    const again = await w.clientSays('ru', 'Снова я');
    expect(again.sessionId).not.toBe(intake.sessionId);
    expect((await w.admin.dialogs.get(intake.dialogId)).session?.status).toBe('assigned');
  });

  it('in English, the fallback hands over after too many misses; the preview shows the same', async () => {
    const w = await world();
    await w.online(...w.operators);
    const definition: BuiltinBotDefinition = {
      steps: [
        {
          id: 'faq',
          text: 'Hi! Ask about prices or opening hours.',
          options: [
            { title: 'Prices', keywords: ['price', 'cost'], action: { type: 'answer', text: 'From $10.' } },
            { title: 'Hours', keywords: ['open'], action: { type: 'answer', text: '9 to 5.' } },
          ],
        },
      ],
      fallbackText: 'Sorry, I did not get that.',
      handOverAfterMisses: 2,
    };
    const preview = await w.admin.client.bots.preview(definition, [
      'how much does it cost?',
      'blah',
      'blah blah',
    ]);
    expect(preview.turns.map((t) => [t.author, t.text])).toEqual([
      ['bot', 'Hi! Ask about prices or opening hours.'],
      ['client', 'how much does it cost?'],
      ['bot', 'From $10.'],
      ['client', 'blah'],
      ['bot', 'Sorry, I did not get that.'],
      ['client', 'blah blah'],
    ]);
    expect(preview.handedOver).toBe('queue');
    const { bot } = await w.admin.client.bots.create({ kind: 'builtin', name: 'FAQ', definition });
    await useWelcomeBot(w, bot.id);
    const intake = await w.clientSays('en', 'hello');
    await w.clientSays('en', 'when are you open?');
    await w.clientSays('en', '??');
    await w.clientSays('en', '!!');
    const messages = await w.admin.dialogs.messages(intake.dialogId);
    expect(authors(messages).filter(([kind]) => kind === 'bot')).toEqual([
      ['bot', 'Hi! Ask about prices or opening hours.'],
      ['bot', '9 to 5.'],
      ['bot', 'Sorry, I did not get that.'],
    ]);
    expect(steps(await transitionsOf(w, intake.dialogId))).toContainEqual([
      'bot',
      'queued',
      'bot',
      'bot_gave_up',
    ]);
  });

  it('hands to a department’s free member, or to a chosen operator', async () => {
    const w = await world({}, 2);
    await w.online(...w.operators);
    const [first, second] = w.operators as [(typeof w.operators)[0], (typeof w.operators)[0]];
    const sales = await w.admin.client.departments.create({ name: 'Sales', memberIds: [second.id] });
    const { bot } = await w.admin.client.bots.create({
      kind: 'builtin',
      name: 'Router',
      definition: {
        steps: [
          {
            id: 'start',
            text: 'Sales or support?',
            options: [
              { title: 'Sales', keywords: [], action: { type: 'department', departmentId: sales.id } },
              { title: 'Support', keywords: [], action: { type: 'operator', userId: first.id } },
            ],
          },
        ],
        fallbackText: '?',
        handOverAfterMisses: 0,
      },
    });
    await useWelcomeBot(w, bot.id);
    const buyer = await w.clientSays('buyer', 'Hi');
    await w.clientSays('buyer', 'Sales');
    expect((await w.admin.dialogs.get(buyer.dialogId)).session).toMatchObject({
      status: 'assigned',
      operatorId: second.id,
    });
    const user = await w.clientSays('user', 'Hi');
    await w.clientSays('user', 'Support');
    expect((await w.admin.dialogs.get(user.dialogId)).session).toMatchObject({
      status: 'assigned',
      operatorId: first.id,
    });
    expect(steps(await transitionsOf(w, user.dialogId)).at(-1)).toEqual([
      'bot',
      'assigned',
      'bot',
      'bot_handover',
    ]);
  });

  it('AA-3: the no-answer rule hands an unanswered session to a bot, once', async () => {
    const w = await world({ queue: { noAnswerTimeSeconds: 120 } });
    const { bot } = await w.admin.client.bots.create({ kind: 'builtin', name: 'Night', definition: MENU });
    await w.admin.lines.update(w.line.id, {
      settings: { automaticActions: { noAnswer: { rule: 'bot', botId: bot.id } } },
    });
    const intake = await w.clientSays('waiting', 'Hello?');
    expect((await w.admin.dialogs.get(intake.dialogId)).session?.status).toBe('queued');
    w.clock.advance(121_000);
    await w.server.workers.timers.runOnce();
    expect((await w.admin.dialogs.get(intake.dialogId)).session).toMatchObject({
      status: 'bot',
      unanswered: true,
    });
    const bots = (await w.admin.dialogs.messages(intake.dialogId)).filter((m) => m.authorKind === 'bot');
    expect(bots.map((m) => m.text)).toEqual(['Здравствуйте! Выберите тему.']);
    await w.clientSays('waiting', 'Оператор');
    expect((await w.admin.dialogs.get(intake.dialogId)).session?.status).toBe('queued');
    expect(steps(await transitionsOf(w, intake.dialogId))).toEqual([
      [null, 'new', 'client', 'client_message'],
      ['new', 'queued', 'system', 'new_session'],
      ['queued', 'bot', 'system', 'no_answer_bot'],
      ['bot', 'queued', 'bot', 'bot_handover'],
    ]);
    // Once per session: the next no-answer does not hand it to the bot again.
    w.clock.advance(121_000);
    await w.server.workers.timers.runOnce();
    expect((await w.admin.dialogs.get(intake.dialogId)).session?.status).toBe('queued');
  });
});

describe('managing bots', { timeout: 120_000 }, () => {
  it('needs manageIntegrations; lines may pick only the account’s bots; a bot in use is not deleted', async () => {
    const w = await world();
    const operator = await createSignedInUser(w.server, w.admin.client, 'operator');
    const refused = await problemOf(
      operator.client.bots.create({ kind: 'builtin', name: 'Mine', definition: MENU }),
    );
    expect(refused.status).toBe(403);
    await expect(problemOf(operator.client.bots.list())).resolves.toMatchObject({ status: 403 });

    const broken = await problemOf(
      w.admin.client.bots.create({
        kind: 'builtin',
        name: 'Broken',
        definition: {
          ...MENU,
          steps: [
            {
              ...MENU.steps[0]!,
              options: [{ title: 'Go', keywords: [], action: { type: 'step', step: 'nowhere' } }],
            },
          ],
        },
      }),
    );
    expect(broken.status).toBe(400);
    expect(broken.problem.errors?.[0]?.field).toBe('body.definition.steps.0.options.0.action.step');

    const unknown = await problemOf(
      w.admin.lines.update(w.line.id, {
        settings: { bot: { welcomeBot: { enabled: true, botId: '00000000-0000-4000-8000-000000000000' } } },
      }),
    );
    expect(unknown.status).toBe(400);
    expect(unknown.problem.errors?.map((e) => e.field)).toEqual(['body.settings.bot.welcomeBot.botId']);

    const { bot } = await w.admin.client.bots.create({ kind: 'builtin', name: 'Used', definition: MENU });
    await useWelcomeBot(w, bot.id);
    const inUse = await problemOf(w.admin.client.bots.delete(bot.id));
    expect(inUse.status).toBe(409);
    expect(inUse.message).toContain('Support');
    expect((await w.admin.client.bots.list()).map((b) => b.name)).toEqual(['Used']);
    // The secrets are never listed; a built-in bot has none.
    expect(JSON.stringify(await w.admin.client.bots.list())).not.toMatch(/olb_|obs_/);
    expect(await problemOf(w.admin.client.bots.rotateSecrets(bot.id))).toBeInstanceOf(OpenlinesError);
  });
});

describe('the example bot (examples/echo-bot.mjs) against the real server', { timeout: 120_000 }, () => {
  it('greets, answers a button, and hands the dialog to the operators', async () => {
    // The example checks timestamps against its own clock, so this server's clock starts now.
    const w = await createEngineWorld({ operatorCount: 1, clock: new FakeClock(Date.now()) });
    worlds.push(w);
    await w.online(...w.operators);
    const created = await w.admin.client.bots.create({
      kind: 'external',
      name: 'Echo',
      webhookUrl: 'http://127.0.0.1:9/not-yet',
    });
    const child = spawn(
      process.execPath,
      [fileURLToPath(new URL('../../examples/echo-bot.mjs', import.meta.url))],
      {
        env: {
          ...process.env,
          OPENLINES_URL: w.server.url,
          BOT_TOKEN: created.secrets!.token,
          BOT_SECRET: created.secrets!.webhookSecret,
          PORT: '0',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      let output = '';
      child.stdout.on('data', (chunk) => {
        output += chunk;
      });
      child.stderr.on('data', (chunk) => {
        output += chunk;
      });
      await waitFor(() => /listening on (\S+)/.test(output), 'the example bot to listen');
      const url = /listening on (\S+)/.exec(output)![1]!;
      await w.admin.client.bots.update(created.bot.id, { webhookUrl: url });
      await useWelcomeBot(w, created.bot.id);

      const intake = await w.clientSays('echo', 'Hi');
      const botTexts = async () =>
        (await w.admin.dialogs.messages(intake.dialogId))
          .filter((m) => m.authorKind === 'bot')
          .map((m) => m.text);
      await w.server.workers.bots.runOnce();
      await waitFor(async () => (await botTexts()).length === 1, 'the greeting');
      expect(await botTexts()).toEqual(["Hello, Client echo! I am the shop's bot."]);
      await w.clientSays('echo', 'status');
      await w.server.workers.bots.runOnce();
      await waitFor(async () => (await botTexts()).length === 2, 'the answer');
      await w.clientSays('echo', 'person');
      await w.server.workers.bots.runOnce();
      await waitFor(
        async () => (await w.admin.dialogs.get(intake.dialogId)).session?.status === 'assigned',
        'the hand-over',
      );
      expect(await botTexts()).toEqual([
        "Hello, Client echo! I am the shop's bot.",
        'Your order is on its way.',
      ]);
      expect(output).not.toMatch(/\d{3} \{/); // no API call of the example failed
    } finally {
      child.kill();
    }
  });
});
