import type { Update } from '@grammyjs/types';
import type { Channel, Message } from '@openlines/contract';
import { OpenlinesError } from '@openlines/sdk';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telegramConnector } from '../src/channels/telegram/connector';
import type { OutboundMessage } from '../src/channels/types';
import { createOperatedAccount, deleteOperatedAccount } from '../src/services/account-admin';
import { createEngineWorld, type EngineWorld, type Operator } from './engine-fixture';
import { hostileValue, pathsIn, withAt } from './fuzz/schema-values';
import { problemOf, signIn } from './harness';
import { type FakeBot, FakeBotApi } from './peers/telegram/fake-bot-api';

// The Telegram channel (issue 7) through the real server: connecting a bot, updates by long polling
// and by webhook, delivery through the outbox, against a local fake of the Bot API. Workers are
// driven by the test (pollOnce, syncOnce, outbox.runOnce) with a fake clock: no waiting.

const fake = new FakeBotApi();

let world: EngineWorld;
let operator: Operator;

beforeAll(async () => {
  await fake.start();
  world = await createEngineWorld({ operatorCount: 1 });
  operator = world.operators[0]!;
  await world.online(operator);
});
afterAll(async () => {
  await world?.stop();
  await fake.stop();
});

const db = () => world.server.ctx.store.db;
const telegram = () => world.server.workers.telegram;

async function connect(bot: FakeBot, settings: Record<string, unknown> = {}): Promise<Channel> {
  const { channel } = await world.admin.channels.create({
    kind: 'telegram',
    name: `Telegram ${bot.me.username}`,
    lineId: world.line.id,
    settings: { botToken: bot.token, apiRoot: fake.url, updates: 'polling', ...settings },
  });
  return channel;
}

async function clientMessages(channelId: string) {
  return db()
    .selectFrom('messages')
    .select(['id', 'dialog_id', 'text', 'attachments', 'external_id'])
    .where('channel_id', '=', channelId)
    .where('author_kind', '=', 'client')
    .orderBy('seq')
    .execute();
}

async function savedOffset(channelId: string): Promise<number | undefined> {
  const row = await db()
    .selectFrom('channel_state')
    .select('data')
    .where('channel_id', '=', channelId)
    .executeTakeFirst();
  return (row?.data as { offset?: number } | undefined)?.offset;
}

async function outboxRow(messageId: string) {
  return db().selectFrom('outbox').selectAll().where('message_id', '=', messageId).executeTakeFirstOrThrow();
}

describe('connecting a bot', () => {
  it('checks the token, shows the bot, and never returns the token', async () => {
    const bot = fake.createBot({ firstName: 'Acme Support', username: 'acme_support_bot' });
    const created = await world.admin.channels.create({
      kind: 'telegram',
      name: 'Acme Telegram',
      lineId: world.line.id,
      settings: { botToken: bot.token, apiRoot: fake.url },
    });
    expect(created.channel.settings).toEqual({
      botId: String(bot.me.id),
      botUsername: 'acme_support_bot',
      botName: 'Acme Support',
      updates: 'auto',
      apiRoot: fake.url,
    });
    expect(created.secrets).toEqual({});
    const shown = await world.admin.channels.get(created.channel.id);
    expect(JSON.stringify([created, shown, await world.admin.channels.list()])).not.toContain(bot.token);
    const row = await db()
      .selectFrom('channels')
      .select(['secrets', 'external_key'])
      .where('id', '=', created.channel.id)
      .executeTakeFirstOrThrow();
    expect(row.external_key).toBe(String(bot.me.id));
    expect(row.secrets).not.toContain(bot.token.split(':')[1]);
    expect(fake.callsOf('getMe', bot)).toHaveLength(1);

    // The same bot is connected once.
    const again = await problemOf(
      world.admin.channels.create({
        kind: 'telegram',
        name: 'Acme again',
        lineId: world.line.id,
        settings: { botToken: bot.token, apiRoot: fake.url },
      }),
    );
    expect(again.status).toBe(409);
    // Changing a setting keeps the token; a new token for it is checked again.
    const updated = await world.admin.channels.update(created.channel.id, {
      settings: { updates: 'polling' },
    });
    expect(updated.settings).toMatchObject({ updates: 'polling', botUsername: 'acme_support_bot' });
    await world.admin.channels.update(created.channel.id, { status: 'disconnected' });
  });

  it('refuses a token Telegram does not accept, or none, naming body.settings.botToken', async () => {
    const revoked = fake.createBot();
    fake.revoke(revoked);
    for (const settings of [
      { botToken: revoked.token, apiRoot: fake.url },
      { apiRoot: fake.url },
      { botToken: 'nonsense' },
    ]) {
      const error = await problemOf(
        world.admin.channels.create({ kind: 'telegram', name: 'Bad', lineId: world.line.id, settings }),
      );
      expect(error).toBeInstanceOf(OpenlinesError);
      expect(error.status).toBe(400);
      expect(error.problem.errors?.map((e) => e.field)).toEqual(['body.settings.botToken']);
    }
  });
});

describe('long polling', () => {
  let bot: FakeBot;
  let channel: Channel;
  const ivan = fake.user({ first_name: 'Ivan', last_name: 'Petrov', username: 'ivanp' });

  beforeAll(async () => {
    bot = fake.createBot();
    channel = await connect(bot);
  });

  it('turns a client message into a dialog on the line, with name, username and photo', async () => {
    fake.setProfilePhoto(ivan, Buffer.from('avatar bytes'));
    const update = fake.userSends(bot, ivan, { text: 'Hello, I need help <3 & more' });
    const report = await telegram().pollOnce(channel.id);
    expect(report).toMatchObject({ received: 1, stored: 1, polled: true, offset: update.update_id + 1 });
    expect(await savedOffset(channel.id)).toBe(update.update_id + 1);

    const [message] = await clientMessages(channel.id);
    expect(message).toMatchObject({ text: 'Hello, I need help <3 & more', external_id: `${ivan.id}:1` });
    const dialog = await world.admin.dialogs.get(message!.dialog_id);
    expect(dialog.channelKind).toBe('telegram');
    expect(dialog.client.name).toBe('Ivan Petrov (@ivanp)');
    expect(dialog.client.identities).toEqual([{ channelId: channel.id, externalId: String(ivan.id) }]);
    const avatar = await fetch(dialog.client.avatarUrl!);
    expect(Buffer.from(await avatar.arrayBuffer()).toString()).toBe('avatar bytes');
    expect(dialog.session?.operatorId).toBe(operator.id);

    // The next round confirms the update to Telegram (offset) and finds nothing new.
    expect(await telegram().pollOnce(channel.id)).toMatchObject({ received: 0, stored: 0 });
    expect(fake.callsOf('getUpdates', bot).at(-1)?.params.offset).toBe(update.update_id + 1);
    expect(bot.pending).toHaveLength(0);
  });

  it('stores a redelivered update once', async () => {
    const update = fake.userSends(bot, ivan, { text: 'once' });
    await telegram().pollOnce(channel.id);
    // As if the process had died after committing but before saving the offset.
    await db()
      .updateTable('channel_state')
      .set({ data: JSON.stringify({}) })
      .where('channel_id', '=', channel.id)
      .execute();
    fake.redeliver(bot, update);
    const report = await telegram().pollOnce(channel.id);
    expect(report.duplicates).toBeGreaterThanOrEqual(1);
    expect(report.stored).toBe(0);
    expect((await clientMessages(channel.id)).filter((m) => m.text === 'once')).toHaveLength(1);
  });

  it('stores a photo, a voice message and a document as attachments, with the caption as text', async () => {
    const photo = Buffer.from('\xff\xd8\xff photo bytes', 'latin1');
    fake.userSends(bot, ivan, { text: 'my receipt', photo });
    fake.userSends(bot, ivan, { voice: Buffer.from('OggS voice') });
    fake.userSends(bot, ivan, {
      document: { data: Buffer.from('%PDF-1.4'), fileName: 'contract.pdf', mimeType: 'application/pdf' },
    });
    expect(await telegram().pollOnce(channel.id)).toMatchObject({ received: 3, stored: 3 });
    const stored = (await clientMessages(channel.id)).slice(-3);
    expect(stored.map((m) => [m.text, m.attachments.map((a) => [a.name, a.mimeType])])).toEqual([
      ['my receipt', [[expect.stringMatching(/^photo_.*\.jpg$/), 'image/jpeg']]],
      [null, [[expect.stringMatching(/^voice_.*\.ogg$/), 'audio/ogg']]],
      [null, [['contract.pdf', 'application/pdf']]],
    ]);
    const download = await fetch(stored[0]!.attachments[0]!.url);
    expect(Buffer.from(await download.arrayBuffer())).toEqual(photo);
  });

  it('keeps a message whose file Telegram will not hand out, with a note', async () => {
    fake.userSends(bot, ivan, {
      text: 'huge',
      document: { data: Buffer.alloc(10), fileName: 'big.iso', mimeType: 'application/octet-stream' },
    });
    fake.failNext('getFile', { error_code: 400, description: 'Bad Request: file is too big' });
    await telegram().pollOnce(channel.id);
    const last = (await clientMessages(channel.id)).at(-1)!;
    expect(last.text).toBe('huge\n📎 big.iso (not received: too large)');
    expect(last.attachments).toEqual([]);
  });

  it('retries an update whose file cannot be fetched now, without skipping it', async () => {
    const update = fake.userSends(bot, ivan, { photo: Buffer.from('later') });
    fake.failNext('getFile', { error_code: 502, description: 'Bad Gateway' });
    const before = await savedOffset(channel.id);
    await expect(telegram().pollOnce(channel.id)).rejects.toMatchObject({ code: 'temporary' });
    expect(await savedOffset(channel.id)).toBe(before);
    expect(await telegram().pollOnce(channel.id)).toMatchObject({ stored: 1, offset: update.update_id + 1 });
  });

  it('changes the stored message in place when the client edits it, marked edited, and tells the operator', async () => {
    const sent = fake.userSends(bot, ivan, { text: 'teh price?' });
    await telegram().pollOnce(channel.id);
    const before = await clientMessages(channel.id);
    const original = before.at(-1)!;
    expect(original.text).toBe('teh price?');
    const edit = fake.userEdits(bot, ivan, sent.message!.message_id, 'the price?');
    await telegram().pollOnce(channel.id);
    const after = await clientMessages(channel.id);
    expect(after).toHaveLength(before.length);
    const [shown] = (await operator.client.dialogs.messages(original.dialog_id)).filter(
      (m) => m.id === original.id,
    );
    expect(shown).toMatchObject({
      text: 'the price?',
      editedAt: new Date(edit.edited_message!.edit_date! * 1000).toISOString(),
    });
    const updates = await db()
      .selectFrom('events')
      .select('data')
      .where('type', '=', 'message.updated')
      .execute();
    expect(
      updates.some((e) => {
        const message = (e.data as { message: Message }).message;
        return message.id === original.id && message.text === 'the price?' && message.editedAt !== null;
      }),
    ).toBe(true);
    // The same edit delivered again changes nothing and stores nothing.
    bot.pending.push(edit);
    await telegram().pollOnce(channel.id);
    expect(await clientMessages(channel.id)).toHaveLength(before.length);
  });

  it('keeps an edit of a message it never stored as a new message marked edited', async () => {
    fake.userEdits(bot, ivan, 999_999, 'from before the bot was connected');
    await telegram().pollOnce(channel.id);
    expect((await clientMessages(channel.id)).at(-1)!.text).toBe(
      '(edited) from before the bot was connected',
    );
  });

  it("takes a button press as the button's reply and answers the callback query", async () => {
    const dialogId = (await clientMessages(channel.id))[0]!.dialog_id;
    const question: OutboundMessage = {
      messageId: 'rating-request',
      dialogId,
      recipientId: String(ivan.id),
      authorKind: 'system',
      authorName: null,
      authorAvatarUrl: null,
      text: 'Did we help? Reply 1 for yes, 0 for no.',
      attachments: [],
      quickReplies: [
        { title: '👍 Yes', reply: '1' },
        { title: '👎 No', reply: '0' },
      ],
      createdAt: new Date().toISOString(),
    };
    const runtime = {
      id: channel.id,
      accountId: '',
      lineId: world.line.id,
      kind: 'telegram',
      name: channel.name,
      settings: channel.settings,
      secrets: { botToken: bot.token },
    };
    await telegramConnector.send(runtime, question, { clock: world.clock, timeoutMs: 5000 });
    const asked = fake.sentTo(bot, ivan).at(-1)!;
    const press = fake.userPresses(bot, ivan, asked, '👍 Yes');
    await telegram().pollOnce(channel.id);
    const last = (await clientMessages(channel.id)).at(-1)!;
    expect(last).toMatchObject({ text: '1', external_id: `cb:${press.callback_query!.id}` });
    expect(bot.answeredCallbacks).toEqual([press.callback_query!.id]);
  });

  it("delivers an operator's reply as escaped HTML with their name, through the outbox", async () => {
    const dialogId = (await clientMessages(channel.id))[0]!.dialog_id;
    const reply = await operator.ws.dialogs.send(dialogId, { text: 'Sure: <b> is a tag & 5 > 3' });
    expect(reply.deliveryState).toBe('pending');
    await world.server.workers.outbox.runOnce();
    expect(await outboxRow(reply.id)).toMatchObject({ state: 'sent', attempts: 1 });
    const delivered = fake.sentTo(bot, ivan).at(-1)!;
    expect(delivered.text).toBe(`${operator.user.name}\nSure: <b> is a tag & 5 > 3`);
    expect(delivered.entities).toEqual([{ type: 'bold', offset: 0, length: operator.user.name.length }]);
    const row = await db()
      .selectFrom('messages')
      .select(['delivery_state', 'external_id'])
      .where('id', '=', reply.id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ delivery_state: 'sent', external_id: `${ivan.id}:${delivered.message_id}` });
  });

  it("edits and deletes an operator's message on Telegram when the operator edits or deletes it", async () => {
    const dialogId = (await clientMessages(channel.id))[0]!.dialog_id;
    const reply = await operator.ws.dialogs.send(dialogId, { text: 'It costs 10 <EUR>' });
    await world.server.workers.outbox.runOnce();
    const delivered = fake.sentTo(bot, ivan).at(-1)!;

    const edited = await operator.client.dialogs.editMessage(dialogId, reply.id, 'It costs 12 <EUR>');
    expect(edited).toMatchObject({ text: 'It costs 12 <EUR>', editedAt: world.clock.now().toISOString() });
    await world.server.workers.outbox.runOnce();
    const calls = fake.callsOf('editMessageText', bot);
    expect(calls.at(-1)?.params).toMatchObject({ chat_id: ivan.id, message_id: delivered.message_id });
    const copy = fake.sentTo(bot, ivan).find((m) => m.message_id === delivered.message_id)!;
    expect(copy.text).toBe(`${operator.user.name}\nIt costs 12 <EUR>`);
    expect(copy.edit_date).toBeDefined();

    const deleted = await operator.client.dialogs.deleteMessage(dialogId, reply.id);
    expect(deleted).toMatchObject({
      text: null,
      attachments: [],
      deletedAt: world.clock.now().toISOString(),
    });
    await world.server.workers.outbox.runOnce();
    expect(bot.deleted).toContainEqual({ chatId: ivan.id, messageId: delivered.message_id });
    expect(fake.sentTo(bot, ivan).some((m) => m.message_id === delivered.message_id)).toBe(false);
    // The message's own delivery record is untouched by the changes.
    const row = await db()
      .selectFrom('messages')
      .select(['delivery_state', 'external_id'])
      .where('id', '=', reply.id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ delivery_state: 'sent', external_id: `${ivan.id}:${delivered.message_id}` });
  });

  it('never sends a message deleted while it waited in the outbox, and edits one after it is sent', async () => {
    const dialogId = (await clientMessages(channel.id))[0]!.dialog_id;
    const sentBefore = fake.sentTo(bot, ivan).length;
    const gone = await operator.ws.dialogs.send(dialogId, { text: 'oops, wrong client' });
    await operator.client.dialogs.deleteMessage(dialogId, gone.id);
    const late = await operator.ws.dialogs.send(dialogId, { text: 'first version' });
    await operator.client.dialogs.editMessage(dialogId, late.id, 'second version');
    // One round sends `late`, then applies its edit (the worker reads the message again).
    await world.server.workers.outbox.runOnce();
    await world.server.workers.outbox.runOnce();
    const texts = fake
      .sentTo(bot, ivan)
      .slice(sentBefore)
      .map((m) => m.text);
    expect(texts).toEqual([`${operator.user.name}\nsecond version`]);
    expect(fake.callsOf('sendMessage', bot).some((c) => String(c.params.text).includes('wrong client'))).toBe(
      false,
    );
  });

  it("refuses to edit another's message, a client's message, or a deleted one, naming why", async () => {
    const [client] = await clientMessages(channel.id);
    const theirs = await problemOf(operator.client.dialogs.editMessage(client!.dialog_id, client!.id, 'x'));
    expect(theirs.status).toBe(403);
    const reply = await operator.ws.dialogs.send(client!.dialog_id, { text: 'to be deleted' });
    await operator.client.dialogs.deleteMessage(client!.dialog_id, reply.id);
    expect(
      (await problemOf(operator.client.dialogs.editMessage(client!.dialog_id, reply.id, 'y'))).status,
    ).toBe(409);
    const empty = await problemOf(operator.client.dialogs.editMessage(client!.dialog_id, reply.id, ''));
    expect(empty.status).toBe(400);
    expect(empty.problem.errors?.map((e) => e.field)).toEqual(['body.text']);
    const unknown = await problemOf(
      operator.client.dialogs.deleteMessage(client!.dialog_id, '00000000-0000-4000-8000-000000000000'),
    );
    expect(unknown.status).toBe(404);
  });

  it('uploads a document an operator attached', async () => {
    const dialogId = (await clientMessages(channel.id))[0]!.dialog_id;
    const bytes = Buffer.from('%PDF-1.7 invoice');
    const attachment = await operator.client.files.upload(
      new Blob([bytes], { type: 'application/pdf' }),
      'invoice.pdf',
    );
    const reply = await operator.ws.dialogs.send(dialogId, {
      text: 'Your invoice',
      attachments: [attachment],
    });
    await world.server.workers.outbox.runOnce();
    expect(await outboxRow(reply.id)).toMatchObject({ state: 'sent' });
    const delivered = fake.sentTo(bot, ivan).at(-1)!;
    expect(delivered.document?.file_name).toBe('invoice.pdf');
    expect(delivered.caption).toBe(`${operator.user.name}\nYour invoice`);
    expect(fake.fileData(delivered.document!.file_id)).toEqual(bytes);
    const upload = fake.callsOf('sendDocument', bot).at(-1)!;
    expect(upload.params.document).toMatch(/^attach:\/\//);
  });

  it('honours 429 retry_after: the next attempt is due exactly then', async () => {
    const dialogId = (await clientMessages(channel.id))[0]!.dialog_id;
    await world.server.workers.outbox.runOnce(); // nothing else queued takes the injected 429
    fake.failNext('sendMessage', {
      error_code: 429,
      description: 'Too Many Requests: retry after 7',
      parameters: { retry_after: 7 },
    });
    const reply = await operator.ws.dialogs.send(dialogId, { text: 'one moment' });
    await world.server.workers.outbox.runOnce();
    const row = await outboxRow(reply.id);
    expect(row).toMatchObject({ state: 'pending', attempts: 1, last_error: expect.stringContaining('429') });
    expect(row.next_attempt_at.getTime()).toBe(world.clock.now().getTime() + 7000);
    await world.server.workers.outbox.runOnce();
    expect(await outboxRow(reply.id)).toMatchObject({ state: 'pending', attempts: 1 });
    world.clock.advance(7000);
    await world.server.workers.outbox.runOnce();
    expect(await outboxRow(reply.id)).toMatchObject({ state: 'sent', attempts: 2 });
    expect(fake.sentTo(bot, ivan).at(-1)?.text).toContain('one moment');
  });

  it('marks the dialog unreachable when the client blocked the bot, without retrying; a new message clears it', async () => {
    const olga = fake.user({ first_name: 'Olga' });
    fake.userSends(bot, olga, { text: 'hi' });
    await telegram().pollOnce(channel.id);
    const dialogId = (await clientMessages(channel.id)).at(-1)!.dialog_id;
    fake.userBlocks(bot, olga);
    const reply = await operator.ws.dialogs.send(dialogId, { text: 'hello?' });
    await world.server.workers.outbox.runOnce();
    expect(await outboxRow(reply.id)).toMatchObject({ state: 'failed', attempts: 1 });
    const messages: Message[] = await operator.ws.dialogs.messages(dialogId);
    expect(messages.find((m) => m.id === reply.id)).toMatchObject({
      deliveryState: 'failed',
      deliveryError: expect.stringContaining('blocked'),
    });
    expect((await world.admin.dialogs.get(dialogId)).unreachable).toBe(true);

    fake.userSends(bot, olga, { text: 'sorry, unblocked you' });
    await telegram().pollOnce(channel.id);
    expect((await world.admin.dialogs.get(dialogId)).unreachable).toBe(false);
  });

  it('stops taking updates when disconnected, and picks them up when connected again', async () => {
    await world.admin.channels.update(channel.id, { status: 'disconnected' });
    const update = fake.userSends(bot, ivan, { text: 'while away' });
    const calls = fake.callsOf('getUpdates', bot).length;
    expect(await telegram().pollOnce(channel.id)).toMatchObject({ polled: false, received: 0 });
    expect(fake.callsOf('getUpdates', bot)).toHaveLength(calls);
    expect(bot.pending.map((u) => u.update_id)).toContain(update.update_id);
    await world.admin.channels.update(channel.id, { status: 'connected', lineId: world.line.id });
    expect(await telegram().pollOnce(channel.id)).toMatchObject({ stored: 1 });
  });
});

describe('webhook mode', () => {
  let bot: FakeBot;
  let channel: Channel;
  const anna = fake.user({ first_name: 'Anna' });

  beforeAll(async () => {
    bot = fake.createBot();
    channel = await connect(bot, { updates: 'webhook' });
  });

  it('registers the webhook with a secret token and stores what Telegram posts', async () => {
    const sync = await telegram().syncOnce();
    expect(sync.webhooksSet).toContain(channel.id);
    expect(bot.webhook).toMatchObject({
      url: `${world.server.url}/api/v1/telegram/webhook/${channel.id}`,
      secretToken: expect.stringMatching(/^[A-Za-z0-9_-]{20,}$/),
      allowedUpdates: ['message', 'edited_message', 'callback_query'],
    });
    // Registered once: a second sync changes nothing, and polling is not allowed meanwhile.
    expect((await telegram().syncOnce()).webhooksSet).not.toContain(channel.id);
    expect(await telegram().pollOnce(channel.id)).toMatchObject({ polled: false });

    fake.userSends(bot, anna, { text: 'via webhook', photo: Buffer.from('pic') });
    expect(await fake.deliverWebhooks(bot)).toEqual([200]);
    const [message] = await clientMessages(channel.id);
    expect(message).toMatchObject({ text: 'via webhook' });
    expect(message!.attachments).toHaveLength(1);
  });

  it('stores an update with a NUL or an unpaired surrogate, repaired, instead of refusing it for ever', async () => {
    fake.userSends(bot, anna, { text: 'bad\u0000byte \ud800 end' });
    expect(await fake.deliverWebhooks(bot)).toEqual([200]);
    expect((await clientMessages(channel.id)).map((m) => m.text)).toContain('bad\ufffdbyte \ufffd end');
  });

  it('refuses a wrong or missing secret token and stores nothing', async () => {
    const url = bot.webhook!.url;
    const update = fake.userSends(bot, anna, { text: 'forged' });
    bot.pending.pop();
    expect(await fake.post(url, update, 'wrong-secret')).toBe(401);
    expect(await fake.post(url, update, null)).toBe(401);
    expect(await fake.post(`${world.server.url}/api/v1/telegram/webhook/not-a-channel`, update, 'x')).toBe(
      401,
    );
    expect((await clientMessages(channel.id)).map((m) => m.text)).not.toContain('forged');
  });

  it('stores a redelivered update once', async () => {
    const update = fake.userSends(bot, anna, { text: 'twice' });
    fake.redeliver(bot, update);
    expect(await fake.deliverWebhooks(bot)).toEqual([200, 200]);
    expect((await clientMessages(channel.id)).filter((m) => m.text === 'twice')).toHaveLength(1);
  });

  it('leaves the update with Telegram when it cannot be stored now (Telegram retries)', async () => {
    fake.userSends(bot, anna, {
      document: { data: Buffer.from('x'), fileName: 'x.txt', mimeType: 'text/plain' },
    });
    fake.failNext('getFile', { error_code: 500, description: 'Internal Server Error' });
    expect(await fake.deliverWebhooks(bot)).toEqual([503]);
    expect(await fake.deliverWebhooks(bot)).toEqual([200]);
    expect((await clientMessages(channel.id)).at(-1)!.attachments[0]).toMatchObject({ name: 'x.txt' });
  });

  it('answers a malformed update with 200 so Telegram stops sending it, and stores nothing of it', async () => {
    const url = bot.webhook!.url;
    const secret = bot.webhook!.secretToken!;
    const before = (await clientMessages(channel.id)).length;
    for (const poison of [
      { update_id: 77_001, message: 'not a message' },
      {
        update_id: 77_002,
        message: { message_id: 5, chat: { id: 1, type: 'private' }, from: 'anna', text: 'x' },
      },
      { update_id: 77_003, callback_query: { id: 'q', data: '1' } },
    ]) {
      expect(await fake.post(url, poison as unknown as Update, secret)).toBe(200);
    }
    expect(await clientMessages(channel.id)).toHaveLength(before);
  });

  it('answers every update with a valid secret below 500, however it is malformed (fuzzed)', async () => {
    const url = bot.webhook!.url;
    const secret = bot.webhook!.secretToken!;
    const valid = {
      message: {
        message_id: 1,
        date: 1_700_000_000,
        chat: { id: 42, type: 'private', first_name: 'Fuzz' },
        from: { id: 42, is_bot: false, first_name: 'Fuzz', language_code: 'ru' },
        text: 'hello',
        photo: [{ file_id: 'f', file_unique_id: 'u', width: 1, height: 1 }],
      },
    };
    const paths = pathsIn(valid);
    let updateId = 88_000;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...paths),
        hostileValue(undefined, (schema) => schema),
        async (at, value) => {
          const update = { update_id: ++updateId, ...(withAt(valid, at, value) as object) };
          const status = await fake.post(url, update as unknown as Update, secret);
          expect(status).toBeLessThan(500);
        },
      ),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 40) },
    );
    expect((await fetch(`${world.server.url}/healthz`)).status).toBe(200);
  });

  it('removes the webhook when the channel is disconnected, and refuses its updates', async () => {
    const url = bot.webhook!.url;
    const secret = bot.webhook!.secretToken!;
    await world.admin.channels.update(channel.id, { status: 'disconnected' });
    expect((await telegram().syncOnce()).webhooksDeleted).toContain(channel.id);
    expect(bot.webhook).toBeNull();
    const update = fake.userSends(bot, anna, { text: 'gone' });
    expect(await fake.post(url, update, secret)).toBe(404);
    expect(fake.callsOf('getUpdates', bot)).toHaveLength(0);
  });

  it('removes the webhook at Telegram when the channel is deleted, without waiting for a sync', async () => {
    const doomed = fake.createBot();
    const gone = await connect(doomed, { updates: 'webhook' });
    await telegram().syncOnce();
    const url = doomed.webhook!.url;
    const secret = doomed.webhook!.secretToken!;
    expect(await fake.post(url, fake.userSends(doomed, anna, { text: 'before' }), secret)).toBe(200);
    await world.admin.channels.delete(gone.id, gone.name);
    expect(doomed.webhook).toBeNull();
    expect(fake.callsOf('deleteWebhook', doomed)).toHaveLength(1);
    // An unknown channel, as for any forged address.
    expect(await fake.post(url, fake.userSends(doomed, anna, { text: 'after' }), secret)).toBe(401);
  });

  it('deletes the channel even when Telegram cannot be reached to remove its webhook', async () => {
    const stuck = fake.createBot();
    const channel = await connect(stuck, { updates: 'webhook' });
    await telegram().syncOnce();
    fake.failNext('deleteWebhook', { error_code: 500, description: 'Internal Server Error' });
    await world.admin.channels.delete(channel.id);
    expect(fake.callsOf('deleteWebhook', stuck)).toHaveLength(1);
    expect(stuck.webhook).not.toBeNull();
    const row = await db()
      .selectFrom('channels')
      .select('id')
      .where('id', '=', channel.id)
      .executeTakeFirst();
    expect(row).toBeUndefined();
  });

  it("removes the webhooks of a deleted account's bots", async () => {
    const email = `tg-owner-${Date.now()}@example.test`;
    const created = await createOperatedAccount(world.server.ctx, {
      name: 'Bots Inc',
      admin: { email, name: 'Owner', password: 'owner password 123' },
    });
    const owner = await signIn(world.server, { email, password: 'owner password 123' });
    const ownLine = await owner.lines.create({ name: 'Bots' });
    const ownBot = fake.createBot();
    const { channel } = await owner.channels.create({
      kind: 'telegram',
      name: 'Bots Inc bot',
      lineId: ownLine.id,
      settings: { botToken: ownBot.token, apiRoot: fake.url, updates: 'webhook' },
    });
    const keeper = fake.createBot();
    const kept = await connect(keeper, { updates: 'webhook' });
    const sync = await telegram().syncOnce();
    expect(sync.webhooksSet).toEqual(expect.arrayContaining([channel.id, kept.id]));
    expect(ownBot.webhook).not.toBeNull();
    await deleteOperatedAccount(world.server.ctx, created.account.id);
    expect(ownBot.webhook).toBeNull();
    // The other account's bot keeps its webhook.
    expect(keeper.webhook).not.toBeNull();
    expect(fake.callsOf('deleteWebhook', keeper)).toHaveLength(0);
    await world.admin.channels.update(kept.id, { status: 'disconnected' });
  });

  it('registers a new secret after a rotation', async () => {
    const other = fake.createBot();
    const rotating = await connect(other, { updates: 'webhook' });
    await telegram().syncOnce();
    const first = other.webhook!.secretToken;
    expect((await world.admin.channels.rotateSecrets(rotating.id)).secrets).toEqual({});
    expect((await telegram().syncOnce()).webhooksSet).toContain(rotating.id);
    expect(other.webhook!.secretToken).not.toBe(first);
    await world.admin.channels.update(rotating.id, { status: 'disconnected' });
  });
});
