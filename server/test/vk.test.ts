import type { Channel, Message } from '@openlines/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutboundMessage } from '../src/channels/types';
import { vkConnector } from '../src/channels/vk/connector';
import { randomIdOf } from '../src/channels/vk/outbound';
import { FakeClock } from '../src/core/clock';
import { createEngineWorld, type EngineWorld, type Operator } from './engine-fixture';
import { createTestServer, durableStorage, problemOf } from './harness';
import { type FakeGroup, FakeVkApi } from './peers/vk/fake-vk-api';

// The VK community channel (issue 16) through the real server: connecting a community, the
// Callback API into the generic webhook, delivery through the outbox, against a local fake of the
// VK API that posts callbacks with the community's secret. The outbox is driven by the test with a
// fake clock (the fake's rate limit counts on the same clock).

const fake = new FakeVkApi();
let world: EngineWorld;
let operator: Operator;

beforeAll(async () => {
  await fake.start();
  world = await createEngineWorld({ operatorCount: 1 });
  fake.now = () => world.clock.now().getTime();
  operator = world.operators[0]!;
  await world.online(operator);
});
afterAll(async () => {
  await world?.stop();
  await fake.stop();
});

const db = () => world.server.ctx.store.db;
const webhookOf = (serverUrl: string, channelId: string) =>
  `${serverUrl}/api/v1/channels/${channelId}/webhook`;

function settingsOf(group: FakeGroup, extra: Record<string, unknown> = {}) {
  return {
    groupId: String(group.id),
    accessToken: group.token,
    secretKey: group.secretKey,
    confirmation: group.confirmation,
    apiBaseUrl: fake.methodUrl,
    ...extra,
  };
}

async function connect(group: FakeGroup): Promise<Channel> {
  const { channel } = await world.admin.channels.create({
    kind: 'vk',
    name: `VK ${group.name}`,
    lineId: world.line.id,
    settings: settingsOf(group),
  });
  group.callbackUrl = webhookOf(world.server.url, channel.id);
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

async function outboxRow(messageId: string) {
  return db().selectFrom('outbox').selectAll().where('message_id', '=', messageId).executeTakeFirstOrThrow();
}

describe('connecting a community', () => {
  it('checks the token against the community, names it, and keeps the secrets encrypted', async () => {
    const group = fake.createGroup('Acme Support');
    const created = await world.admin.channels.create({
      kind: 'vk',
      name: 'Acme VK',
      lineId: world.line.id,
      settings: settingsOf(group),
    });
    expect(created.channel.settings).toEqual({
      groupId: String(group.id),
      groupName: 'Acme Support',
      apiBaseUrl: fake.methodUrl,
    });
    const shown = JSON.stringify([created, await world.admin.channels.get(created.channel.id)]);
    for (const secret of [group.token, group.secretKey, group.confirmation])
      expect(shown).not.toContain(secret);
    const row = await db()
      .selectFrom('channels')
      .select(['secrets', 'external_key'])
      .where('id', '=', created.channel.id)
      .executeTakeFirstOrThrow();
    expect(row.external_key).toBe(String(group.id));
    for (const secret of [group.token, group.secretKey, group.confirmation])
      expect(row.secrets).not.toContain(secret);
    expect(fake.callsOf('groups.getById', group)).toHaveLength(1);

    // One community is connected once.
    const again = await problemOf(
      world.admin.channels.create({
        kind: 'vk',
        name: 'again',
        lineId: world.line.id,
        settings: settingsOf(group),
      }),
    );
    expect(again.status).toBe(409);
    await world.admin.channels.update(created.channel.id, { status: 'disconnected' });
  });

  it('refuses a revoked token, a token of another community, or none, naming the field', async () => {
    const revoked = fake.createGroup();
    fake.revoke(revoked);
    const other = fake.createGroup();
    const cases: [Record<string, unknown>, string][] = [
      [settingsOf(revoked), 'body.settings.accessToken'],
      [settingsOf(other, { groupId: String(revoked.id) }), 'body.settings.accessToken'],
      [settingsOf(other, { accessToken: undefined }), 'body.settings.accessToken'],
      [settingsOf(other, { secretKey: undefined }), 'body.settings.secretKey'],
      [settingsOf(other, { groupId: '-5' }), 'body.settings.groupId'],
    ];
    for (const [settings, field] of cases) {
      const error = await problemOf(
        world.admin.channels.create({ kind: 'vk', name: 'Bad', lineId: world.line.id, settings }),
      );
      expect(error.status).toBe(400);
      expect(error.problem.errors?.map((e) => e.field)).toEqual([field]);
    }
  });
});

describe('Callback API in, messages.send out', () => {
  let group: FakeGroup;
  let channel: Channel;
  const ivan = 501;

  beforeAll(async () => {
    group = fake.createGroup('Shop');
    channel = await connect(group);
  });

  it('answers the confirmation with the string, and only with the right secret', async () => {
    expect(await fake.confirm(group)).toEqual({ status: 200, body: group.confirmation });
    expect((await fake.confirm(group, 'wrong')).status).toBe(401);
    expect((await fake.confirm(group, null)).status).toBe(401);
  });

  it('stores a message with a photo and a document, answering ok after commit', async () => {
    const photo = Buffer.from('JPEG photo bytes');
    const pdf = Buffer.from('%PDF-1.7 order');
    fake.userSends(group, ivan, { text: 'Hello, my order', photo, doc: { name: 'order.pdf', data: pdf } });
    expect(await fake.deliverCallbacks(group)).toEqual([200]);
    const [message] = await clientMessages(channel.id);
    expect(message).toMatchObject({ text: 'Hello, my order', external_id: `${ivan}:1` });
    const attachments = message!.attachments as { name: string; mimeType: string; url: string }[];
    expect(attachments.map((a) => [a.name, a.mimeType])).toEqual([
      [expect.stringMatching(/^photo1_\d+\.jpg$/), 'image/jpeg'],
      ['order.pdf', 'application/pdf'],
    ]);
    // The largest photo size was fetched, not the thumbnail.
    const bytes = await fetch(attachments[0]!.url).then(async (r) => Buffer.from(await r.arrayBuffer()));
    expect(bytes).toEqual(photo);
  });

  it('stores a redelivered event once', async () => {
    const event = fake.userSends(group, ivan, { text: 'twice' });
    fake.redeliver(group, event);
    expect(await fake.deliverCallbacks(group)).toEqual([200, 200]);
    expect((await clientMessages(channel.id)).filter((m) => m.text === 'twice')).toHaveLength(1);
  });

  it('refuses a wrong or missing secret, or another community, and stores nothing', async () => {
    const event = fake.userSends(group, ivan, { text: 'forged' });
    group.pending.pop();
    const url = group.callbackUrl!;
    expect((await fake.post(url, { ...event, secret: 'wrong' })).status).toBe(401);
    const { secret: _secret, ...unsigned } = event;
    expect((await fake.post(url, unsigned)).status).toBe(401);
    expect((await fake.post(url, { ...event, group_id: 1 })).status).toBe(401);
    expect((await clientMessages(channel.id)).map((m) => m.text)).not.toContain('forged');
  });

  it('stores an edit as a new message marked edited, and acknowledges other events', async () => {
    const sent = fake.userSends(group, ivan, { text: 'typo' });
    fake.userEdits(group, sent, 'fixed');
    fake.userDenies(group, 999);
    expect(await fake.deliverCallbacks(group)).toEqual([200, 200, 200]);
    expect((await clientMessages(channel.id)).slice(-2).map((m) => m.text)).toEqual([
      'typo',
      '(edited) fixed',
    ]);
  });

  it("delivers an operator's reply with their name and a stable random_id", async () => {
    const dialogId = (await clientMessages(channel.id))[0]!.dialog_id;
    const reply = await operator.ws.dialogs.send(dialogId, { text: 'Your order ships today' });
    await world.server.workers.outbox.runOnce();
    expect(await outboxRow(reply.id)).toMatchObject({ state: 'sent', attempts: 1 });
    const delivered = group.sent.at(-1)!;
    expect(delivered).toMatchObject({
      peer_id: ivan,
      message: `${operator.user.name}:\nYour order ships today`,
      random_id: randomIdOf(reply.id, 0),
    });
    const row = await db()
      .selectFrom('messages')
      .select(['delivery_state', 'external_id'])
      .where('id', '=', reply.id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ delivery_state: 'sent', external_id: `${ivan}:${delivered.id}` });
  });

  it('uploads a photo and a document through the upload servers', async () => {
    const dialogId = (await clientMessages(channel.id))[0]!.dialog_id;
    const png = Buffer.from('\x89PNG fake image');
    const pdf = Buffer.from('%PDF-1.7 invoice');
    const image = await operator.client.files.upload(new Blob([png], { type: 'image/png' }), 'label.png');
    const doc = await operator.client.files.upload(
      new Blob([pdf], { type: 'application/pdf' }),
      'invoice.pdf',
    );
    const reply = await operator.ws.dialogs.send(dialogId, { text: 'Attached', attachments: [image, doc] });
    await world.server.workers.outbox.runOnce();
    expect(await outboxRow(reply.id)).toMatchObject({ state: 'sent', last_error: null });
    const delivered = group.sent.at(-1)!;
    expect(delivered.attachment).toEqual([
      expect.stringMatching(new RegExp(`^photo-${group.id}_\\d+_abc123$`)),
      expect.stringMatching(new RegExp(`^doc-${group.id}_\\d+$`)),
    ]);
    expect(fake.fileData(delivered.attachment[0]!)).toEqual(png);
    expect(fake.fileData(delivered.attachment[1]!)).toEqual(pdf);
    expect(fake.callsOf('photos.saveMessagesPhoto', group).length).toBeGreaterThan(0);
    expect(fake.callsOf('docs.save', group).length).toBeGreaterThan(0);
  });

  it("sends quick replies as a keyboard, and takes a press as the button's reply", async () => {
    const question: OutboundMessage = {
      messageId: 'rating-request',
      dialogId: (await clientMessages(channel.id))[0]!.dialog_id,
      recipientId: String(ivan),
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
      kind: 'vk',
      name: channel.name,
      settings: channel.settings as never,
      secrets: { accessToken: group.token },
    };
    await vkConnector.send(runtime, question, { clock: world.clock, timeoutMs: 5000 });
    expect(group.sent.at(-1)!.keyboard).toEqual({
      one_time: true,
      buttons: [
        [
          { action: { type: 'text', label: '👍 Yes', payload: '{"reply":"1"}' }, color: 'secondary' },
          { action: { type: 'text', label: '👎 No', payload: '{"reply":"0"}' }, color: 'secondary' },
        ],
      ],
    });
    fake.userSends(group, ivan, { text: '👍 Yes', payload: '{"reply":"1"}' });
    expect(await fake.deliverCallbacks(group)).toEqual([200]);
    expect((await clientMessages(channel.id)).at(-1)!.text).toBe('1');
  });

  it('honours error 6 (too many requests per second): retried after a second, sent once', async () => {
    const dialogId = (await clientMessages(channel.id))[0]!.dialog_id;
    await world.server.workers.outbox.runOnce();
    fake.perSecond = 1;
    try {
      const reply = await operator.ws.dialogs.send(dialogId, { text: 'one moment' });
      // Spend this second's one call, so the send is refused with VK's error 6.
      await fetch(`${fake.methodUrl}/groups.getById`, {
        method: 'POST',
        body: new URLSearchParams({ access_token: group.token, v: '5.199' }),
      });
      await world.server.workers.outbox.runOnce();
      const row = await outboxRow(reply.id);
      expect(row).toMatchObject({
        state: 'pending',
        attempts: 1,
        last_error: expect.stringContaining('VK error 6'),
      });
      // At least VK's second (the outbox's own backoff may be longer); nothing is tried before.
      expect(row.next_attempt_at.getTime()).toBeGreaterThanOrEqual(world.clock.now().getTime() + 1000);
      await world.server.workers.outbox.runOnce();
      expect(await outboxRow(reply.id)).toMatchObject({ state: 'pending', attempts: 1 });
      world.clock.set(row.next_attempt_at);
      await world.server.workers.outbox.runOnce();
      expect(await outboxRow(reply.id)).toMatchObject({ state: 'sent', attempts: 2 });
      expect(group.sent.filter((m) => m.message.endsWith('one moment'))).toHaveLength(1);
    } finally {
      fake.perSecond = Number.POSITIVE_INFINITY;
    }
  });

  it('sends once when VK sent the message but its answer was lost (the retry has the same random_id)', async () => {
    const dialogId = (await clientMessages(channel.id))[0]!.dialog_id;
    fake.dropResponseNext('messages.send');
    const reply = await operator.ws.dialogs.send(dialogId, { text: 'lost answer' });
    await world.server.workers.outbox.runOnce();
    const row = await outboxRow(reply.id);
    expect(row).toMatchObject({ state: 'pending', attempts: 1 });
    world.clock.set(row.next_attempt_at);
    await world.server.workers.outbox.runOnce();
    expect(await outboxRow(reply.id)).toMatchObject({ state: 'sent', attempts: 2 });
    expect(
      fake.callsOf('messages.send', group).filter((c) => c.params.message?.endsWith('lost answer')),
    ).toHaveLength(2);
    expect(group.sent.filter((m) => m.message.endsWith('lost answer'))).toHaveLength(1);
  });

  it('marks the dialog unreachable on error 901 (the user denied messages), without retrying', async () => {
    const olga = 777;
    fake.userSends(group, olga, { text: 'hi' });
    await fake.deliverCallbacks(group);
    const dialogId = (await clientMessages(channel.id)).at(-1)!.dialog_id;
    group.allowed.delete(olga);
    const reply = await operator.ws.dialogs.send(dialogId, { text: 'hello?' });
    await world.server.workers.outbox.runOnce();
    expect(await outboxRow(reply.id)).toMatchObject({ state: 'failed', attempts: 1 });
    const messages: Message[] = await operator.ws.dialogs.messages(dialogId);
    expect(messages.find((m) => m.id === reply.id)).toMatchObject({
      deliveryState: 'failed',
      deliveryError: expect.stringContaining('901'),
    });
    expect((await world.admin.dialogs.get(dialogId)).unreachable).toBe(true);
  });

  it('marks the dialog unreachable on message_deny, and a new message clears it', async () => {
    const petr = 888;
    fake.userSends(group, petr, { text: 'question' });
    await fake.deliverCallbacks(group);
    const dialogId = (await clientMessages(channel.id)).at(-1)!.dialog_id;
    expect((await world.admin.dialogs.get(dialogId)).unreachable).toBe(false);
    fake.userDenies(group, petr);
    expect(await fake.deliverCallbacks(group)).toEqual([200]);
    expect((await world.admin.dialogs.get(dialogId)).unreachable).toBe(true);
    fake.userSends(group, petr, { text: 'allowed again' });
    await fake.deliverCallbacks(group);
    expect((await world.admin.dialogs.get(dialogId)).unreachable).toBe(false);
  });

  it('stops taking callbacks when disconnected (VK keeps them), and takes them when connected again', async () => {
    await world.admin.channels.update(channel.id, { status: 'disconnected' });
    fake.userSends(group, ivan, { text: 'while away' });
    expect(await fake.deliverCallbacks(group)).toEqual([404]);
    expect((await clientMessages(channel.id)).map((m) => m.text)).not.toContain('while away');
    await world.admin.channels.update(channel.id, { status: 'connected', lineId: world.line.id });
    expect(await fake.deliverCallbacks(group)).toEqual([200]);
    expect((await clientMessages(channel.id)).filter((m) => m.text === 'while away')).toHaveLength(1);
  });

  it('fails a reply with a visible reason when the token was revoked (error 5)', async () => {
    const dialogId = (await clientMessages(channel.id))[0]!.dialog_id;
    fake.revoke(group);
    const reply = await operator.ws.dialogs.send(dialogId, { text: 'after revoke' });
    await world.server.workers.outbox.runOnce();
    expect(await outboxRow(reply.id)).toMatchObject({
      state: 'failed',
      last_error: expect.stringContaining('VK error 5'),
    });
    expect(group.sent.filter((m) => m.message.endsWith('after revoke'))).toHaveLength(0);
    const messages: Message[] = await operator.ws.dialogs.messages(dialogId);
    expect(messages.find((m) => m.id === reply.id)?.deliveryError).toContain('authorization failed');
  });
});

describe('a restart in the middle', () => {
  it('neither loses nor doubles a callback or a reply', async () => {
    const { storage, cleanup } = await durableStorage();
    const clock = new FakeClock('2026-03-02T10:00:00Z');
    // The same SECRET_KEY on both sides of the restart, or the channel's secrets cannot be read.
    const env = { SECRET_KEY: 'vk-restart-test-secret-key-0123456789abcdef' };
    const first = await createEngineWorld({ clock, operatorCount: 1, server: { ...storage, env } });
    try {
      const group = fake.createGroup('Restart');
      const { channel } = await first.admin.channels.create({
        kind: 'vk',
        name: 'VK restart',
        lineId: first.line.id,
        settings: settingsOf(group),
      });
      await first.online(first.operators[0]!);
      group.callbackUrl = webhookOf(first.server.url, channel.id);
      fake.userSends(group, 42, { text: 'before' });
      expect(await fake.deliverCallbacks(group)).toEqual([200]);
      const dialogId = (
        await first.server.ctx.store.db
          .selectFrom('messages')
          .select('dialog_id')
          .where('channel_id', '=', channel.id)
          .executeTakeFirstOrThrow()
      ).dialog_id;
      // VK takes the reply, the answer is lost, and the server stops before its retry.
      fake.dropResponseNext('messages.send');
      const reply = await first.operators[0]!.ws.dialogs.send(dialogId, { text: 'across restart' });
      await first.server.workers.outbox.runOnce();
      await first.server.stop();
      // While it is down VK cannot deliver: it keeps the event.
      fake.userSends(group, 42, { text: 'while down' });
      expect(await fake.deliverCallbacks(group)).toEqual([0]);

      const second = await createTestServer({ clock, workers: false, ...storage, env });
      try {
        group.callbackUrl = webhookOf(second.url, channel.id);
        expect(await fake.deliverCallbacks(group)).toEqual([200]);
        clock.advance(60 * 60 * 1000);
        await second.workers.outbox.runOnce();
        const db2 = second.ctx.store.db;
        const row = await db2
          .selectFrom('outbox')
          .selectAll()
          .where('message_id', '=', reply.id)
          .executeTakeFirstOrThrow();
        expect(row.state).toBe('sent');
        expect(group.sent.filter((m) => m.message.endsWith('across restart'))).toHaveLength(1);
        const texts = await db2
          .selectFrom('messages')
          .select('text')
          .where('channel_id', '=', channel.id)
          .where('author_kind', '=', 'client')
          .orderBy('seq')
          .execute();
        expect(texts.map((t) => t.text)).toEqual(['before', 'while down']);
      } finally {
        await second.stop();
      }
    } finally {
      await cleanup();
    }
    // Two server starts on PGlite files: well over the default 30 s when the machine is busy
    // (it timed out at ~46 s under a load average of 25 on 2 cores).
  }, 120_000);
});
