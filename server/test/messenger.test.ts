import type { Channel } from '@openlines/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WINDOW_CLOSED } from '../src/channels/meta/graph';
import { createEngineWorld, type EngineWorld, type Operator } from './engine-fixture';
import { problemOf } from './harness';
import { FakeMessenger, type FakePage } from './peers/meta/fake-messenger';

// Facebook Messenger and Instagram Direct (issue 16) through the real server: Meta's webhook at
// the generic path, the Send API through the outbox, against a local fake of the Messenger
// Platform whose clock (the 24-hour window, HUMAN_AGENT's 7 days) is the test's.

let world: EngineWorld;
const fake = new FakeMessenger(() => world.clock.now());
let operator: Operator;
const VERIFY = 'messenger-verify-token';

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
const hook = (channel: Channel) => `${world.server.url}/api/v1/channels/${channel.id}/webhook`;

async function connect(kind: 'messenger' | 'instagram', page: FakePage, extra: Record<string, unknown> = {}) {
  const { channel } = await world.admin.channels.create({
    kind,
    name: `${kind} ${page.id}`,
    lineId: world.line.id,
    settings: {
      pageId: page.id,
      pageAccessToken: page.token,
      appSecret: fake.appSecret,
      verifyToken: VERIFY,
      graphApiBase: fake.url,
      ...extra,
    },
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

async function messageRow(id: string) {
  return db()
    .selectFrom('messages')
    .select(['delivery_state', 'delivery_error', 'external_id'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
}

async function outboxRow(messageId: string) {
  return db().selectFrom('outbox').selectAll().where('message_id', '=', messageId).executeTakeFirstOrThrow();
}

describe('Facebook Messenger', () => {
  let page: FakePage;
  let channel: Channel;
  let psid: string;
  let dialogId: string;

  beforeAll(async () => {
    page = fake.createPage('page', 'Acme Page');
    channel = await connect('messenger', page);
  });

  it('checks the token on save and names the page; a revoked token names the field', async () => {
    expect(channel.settings).toEqual({
      pageId: page.id,
      humanAgentTag: false,
      graphApiBase: fake.url,
      name: 'Acme Page',
    });
    expect(JSON.stringify(channel)).not.toContain(page.token);
    const other = fake.createPage('page');
    fake.revoke(other);
    const refused = await problemOf(connect('messenger', other));
    expect(refused.status).toBe(400);
    expect(refused.problem.errors?.[0]?.field).toBe('body.settings.pageAccessToken');
  });

  it('answers the handshake, and refuses wrong or missing signatures storing nothing', async () => {
    const query = new URLSearchParams({
      'hub.mode': 'subscribe',
      'hub.verify_token': VERIFY,
      'hub.challenge': '4242',
    });
    const ok = await fetch(`${hook(channel)}?${query}`);
    expect([ok.status, await ok.text()]).toEqual([200, '4242']);
    query.set('hub.verify_token', 'wrong-token');
    expect((await fetch(`${hook(channel)}?${query}`)).status).toBe(401);
    const forged = fake.userSends(page, fake.user(), { text: 'forged' });
    expect((await fake.deliver(hook(channel), forged.body, 'wrong')).status).toBe(401);
    expect((await fake.deliver(hook(channel), forged.body, 'none')).status).toBe(401);
    expect(await clientMessages(channel.id)).toHaveLength(0);
  });

  it('stores a message with its photo once, ignores echoes, reads postbacks and reactions', async () => {
    psid = fake.user();
    const photo = Buffer.from('a photo');
    const first = fake.userSends(page, psid, {
      text: 'Привет, вот фото',
      files: [{ data: photo, mimeType: 'image/jpeg', type: 'image', name: 'photo.jpg' }],
    });
    expect((await fake.deliver(hook(channel), first.body)).status).toBe(200);
    expect((await fake.deliver(hook(channel), first.body)).status).toBe(200);
    expect((await fake.deliver(hook(channel), fake.echoOf(page, psid, 'echoed'))).status).toBe(200);
    expect((await fake.deliver(hook(channel), fake.postback(page, psid, 'GET_STARTED'))).status).toBe(200);
    expect((await fake.deliver(hook(channel), fake.reaction(page, psid, first.mid, '❤️'))).status).toBe(200);
    const stored = await clientMessages(channel.id);
    expect(stored.map((m) => m.text)).toEqual(['Привет, вот фото', 'GET_STARTED', '❤️']);
    expect(stored[0]!.external_id).toBe(first.mid);
    const [attachment] = stored[0]!.attachments as { url: string; name: string }[];
    expect(attachment?.name).toBe('photo.jpg');
    expect(Buffer.from(await (await fetch(attachment!.url)).arrayBuffer())).toEqual(photo);
    dialogId = stored[0]!.dialog_id;
  });

  it("sends an operator's reply as RESPONSE with a file uploaded as filedata; a read watermark marks it read", async () => {
    const bytes = Buffer.from('%PDF-1.7 menu');
    const attachment = await operator.client.files.upload(
      new Blob([bytes], { type: 'application/pdf' }),
      'menu.pdf',
    );
    const reply = await operator.ws.dialogs.send(dialogId, {
      text: 'Here is the menu',
      attachments: [attachment],
    });
    await world.server.workers.outbox.runOnce();
    expect(await outboxRow(reply.id)).toMatchObject({ state: 'sent' });
    const [text, file] = fake.sentTo(page, psid).slice(-2);
    expect(text).toMatchObject({
      messagingType: 'RESPONSE',
      message: { text: `${operator.user.name}:\nHere is the menu` },
    });
    expect(file?.message).toEqual({ attachment: { type: 'file', payload: { is_reusable: false } } });
    expect(file?.file).toEqual({ name: 'menu.pdf', data: bytes });
    expect((await messageRow(reply.id)).external_id).toBe(text!.id);
    world.clock.advance(1000);
    expect((await fake.deliver(hook(channel), fake.read(page, psid))).status).toBe(200);
    expect((await messageRow(reply.id)).delivery_state).toBe('read');
  });

  it('retries a rate limit (#613) and sends once', async () => {
    fake.failNext({
      status: 400,
      error: {
        message: '(#613) Calls to this api have exceeded the rate limit.',
        type: 'OAuthException',
        code: 613,
      },
    });
    const reply = await operator.ws.dialogs.send(dialogId, { text: 'after the limit' });
    await world.server.workers.outbox.runOnce();
    expect(await outboxRow(reply.id)).toMatchObject({
      state: 'pending',
      attempts: 1,
      last_error: expect.stringContaining('613'),
    });
    world.clock.advance(60 * 60 * 1000);
    await world.server.workers.outbox.runOnce();
    expect(await outboxRow(reply.id)).toMatchObject({ state: 'sent', attempts: 2 });
    expect(
      fake.sentTo(page, psid).filter((m) => String(m.message.text).endsWith('after the limit')),
    ).toHaveLength(1);
  });

  it('holds replies while the token is revoked (#190) and sends them once it is fixed', async () => {
    fake.revoke(page);
    const reply = await operator.ws.dialogs.send(dialogId, { text: 'held' });
    await world.server.workers.outbox.runOnce();
    expect(await outboxRow(reply.id)).toMatchObject({ state: 'pending', attempts: 0 });
    expect((await world.admin.channels.get(channel.id)).failure).toContain('190');
    fake.restore(page);
    await world.admin.channels.update(channel.id, { settings: { pageAccessToken: page.token } });
    await world.server.workers.outbox.runOnce();
    expect(await outboxRow(reply.id)).toMatchObject({ state: 'sent' });
  });

  it('outside the 24-hour window fails without the HUMAN_AGENT permission, and sends with the tag up to 7 days when allowed', async () => {
    world.clock.advance(25 * 60 * 60 * 1000);
    const refused = await operator.ws.dialogs.send(dialogId, { text: 'a day later' });
    await world.server.workers.outbox.runOnce();
    expect(await outboxRow(refused.id)).toMatchObject({ state: 'failed' });
    expect((await messageRow(refused.id)).delivery_error).toContain(WINDOW_CLOSED);

    await world.admin.channels.update(channel.id, { settings: { humanAgentTag: true } });
    const tagged = await operator.ws.dialogs.send(dialogId, { text: 'a human answers' });
    await world.server.workers.outbox.runOnce();
    expect(await outboxRow(tagged.id)).toMatchObject({ state: 'sent' });
    expect(fake.sentTo(page, psid).at(-1)).toMatchObject({
      messagingType: 'MESSAGE_TAG',
      tag: 'HUMAN_AGENT',
    });

    world.clock.advance(7 * 24 * 60 * 60 * 1000);
    const late = await operator.ws.dialogs.send(dialogId, { text: 'too late even for a human' });
    await world.server.workers.outbox.runOnce();
    expect(await outboxRow(late.id)).toMatchObject({ state: 'failed' });
    expect((await messageRow(late.id)).delivery_error).toContain(WINDOW_CLOSED);
  });

  it('stops intake when disconnected', async () => {
    await world.admin.channels.update(channel.id, { status: 'disconnected' });
    const { body } = fake.userSends(page, psid, { text: 'after disconnect' });
    const response = await fake.deliver(hook(channel), body);
    expect(response.status).toBe(404);
    expect((await clientMessages(channel.id)).map((m) => m.text)).not.toContain('after disconnect');
  });
});

describe('Instagram Direct', () => {
  let account: FakePage;
  let channel: Channel;
  let igsid: string;

  beforeAll(async () => {
    account = fake.createPage('instagram');
    channel = await connect('instagram', account);
  });

  it('names the account by its username', () => {
    expect(channel.settings.name).toBe('@acme.support');
  });

  it('stores story replies and mentions with their link, and a message of another object is not stored', async () => {
    igsid = fake.user();
    const reply = fake.userSends(account, igsid, {
      text: 'love it!',
      storyReply: 'https://lookaside.fbsbx.com/story/1',
    });
    expect((await fake.deliver(hook(channel), reply.body)).status).toBe(200);
    const mention = fake.userSends(account, igsid, { storyMention: 'https://lookaside.fbsbx.com/story/2' });
    expect((await fake.deliver(hook(channel), mention.body)).status).toBe(200);
    expect((await clientMessages(channel.id)).map((m) => m.text)).toEqual([
      '↩️ Reply to your story: https://lookaside.fbsbx.com/story/1\nlove it!',
      '📖 Mentioned you in a story: https://lookaside.fbsbx.com/story/2',
    ]);
    // Signed, so Meta's: acknowledged (a refusal would only be redelivered), and nothing stored.
    const wrong = await fake.deliver(hook(channel), { object: 'page', entry: [] });
    expect(wrong.status).toBe(200);
    expect(await clientMessages(channel.id)).toHaveLength(2);
  });

  it('sends a reply and its file by URL; a read receipt by mid marks it read', async () => {
    const dialogId = (await clientMessages(channel.id))[0]!.dialog_id;
    const attachment = await operator.client.files.upload(
      new Blob([Buffer.from('png')], { type: 'image/png' }),
      'map.png',
    );
    const reply = await operator.ws.dialogs.send(dialogId, { text: 'Thanks!', attachments: [attachment] });
    await world.server.workers.outbox.runOnce();
    expect(await outboxRow(reply.id)).toMatchObject({ state: 'sent' });
    const [text, image] = fake.sentTo(account, igsid).slice(-2);
    expect(text?.message.text).toBe(`${operator.user.name}:\nThanks!`);
    expect(image?.message).toEqual({ attachment: { type: 'image', payload: { url: attachment.url } } });
    await fake.deliver(hook(channel), fake.read(account, igsid, text!.id));
    expect((await messageRow(reply.id)).delivery_state).toBe('read');
  });
});
