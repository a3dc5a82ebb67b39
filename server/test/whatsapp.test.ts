import type { Channel } from '@openlines/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WINDOW_CLOSED } from '../src/channels/meta/graph';
import type { OutboundMessage } from '../src/channels/types';
import { whatsAppConnector } from '../src/channels/whatsapp/connector';
import { createEngineWorld, type EngineWorld, type Operator } from './engine-fixture';
import { problemOf } from './harness';
import { FakeCloudApi, type FakeNumber, type WaUser } from './peers/whatsapp/fake-cloud-api';

// The WhatsApp Cloud API channel (issue 16) through the real server: connecting a number, Meta's
// webhook at the generic path (handshake, signature over the escaped-unicode body, messages,
// media, statuses), delivery through the outbox, against a local fake of the Graph API. The outbox
// is driven by the test with a fake clock, which is also the fake's clock for the 24-hour window.

let world: EngineWorld;
const fake = new FakeCloudApi(() => world.clock.now());
let operator: Operator;
let number: FakeNumber;
let channel: Channel;
const VERIFY_TOKEN = 'my-verify-token-42';

beforeAll(async () => {
  await fake.start();
  world = await createEngineWorld({ operatorCount: 1 });
  operator = world.operators[0]!;
  await world.online(operator);
  number = fake.createNumber({ verifiedName: 'Acme' });
  channel = await connect(number);
});
afterAll(async () => {
  await world?.stop();
  await fake.stop();
});

const db = () => world.server.ctx.store.db;
const webhookUrl = (id = channel.id) => `${world.server.url}/api/v1/channels/${id}/webhook`;

async function connect(target: FakeNumber, extra: Record<string, unknown> = {}): Promise<Channel> {
  const { channel: created } = await world.admin.channels.create({
    kind: 'whatsapp',
    name: `WhatsApp ${target.phoneNumberId}`,
    lineId: world.line.id,
    settings: {
      phoneNumberId: target.phoneNumberId,
      accessToken: target.token,
      appSecret: fake.appSecret,
      verifyToken: VERIFY_TOKEN,
      graphApiBase: fake.url,
      ...extra,
    },
  });
  return created;
}

async function clientMessages(channelId = channel.id) {
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

async function says(user: WaUser, content: Parameters<FakeCloudApi['userSends']>[2]) {
  const { body, messageId } = fake.userSends(number, user, content);
  const response = await fake.deliver(webhookUrl(), body);
  expect(response.status).toBe(200);
  return { body, messageId };
}

async function dialogOf(user: WaUser): Promise<string> {
  const identity = await db()
    .selectFrom('client_identities')
    .innerJoin('dialogs', 'dialogs.client_id', 'client_identities.client_id')
    .select('dialogs.id')
    .where('client_identities.channel_id', '=', channel.id)
    .where('client_identities.external_id', '=', user.userId)
    .executeTakeFirstOrThrow();
  return identity.id;
}

describe('connecting a number', () => {
  it('checks the token with the Graph API, names the number and never returns a secret', async () => {
    expect(channel.settings).toEqual({
      phoneNumberId: number.phoneNumberId,
      graphApiBase: fake.url,
      displayPhoneNumber: number.displayPhoneNumber,
      verifiedName: 'Acme',
    });
    const shown = JSON.stringify([channel, await world.admin.channels.list()]);
    for (const secret of [number.token, fake.appSecret, VERIFY_TOKEN]) expect(shown).not.toContain(secret);
    const row = await db()
      .selectFrom('channels')
      .select(['secrets', 'external_key'])
      .where('id', '=', channel.id)
      .executeTakeFirstOrThrow();
    expect(row.external_key).toBe(number.phoneNumberId);
    for (const secret of [number.token, fake.appSecret, VERIFY_TOKEN])
      expect(row.secrets).not.toContain(secret);
    const kinds = await world.admin.channels.kinds();
    expect(kinds.find((k) => k.kind === 'whatsapp')).toMatchObject({
      inboundPath: '/api/v1/channels/{channelId}/webhook',
      formFields: ['phoneNumberId', 'accessToken', 'appSecret', 'verifyToken', 'businessAccountId'],
    });
  });

  it('refuses a token WhatsApp does not accept, or a missing secret, naming the field', async () => {
    const other = fake.createNumber();
    fake.revoke(other);
    const revoked = await problemOf(connect(other));
    expect(revoked.status).toBe(400);
    expect(revoked.problem.errors?.[0]?.field).toBe('body.settings.accessToken');
    const missing = await problemOf(
      world.admin.channels.create({
        kind: 'whatsapp',
        name: 'no secret',
        lineId: world.line.id,
        settings: { phoneNumberId: other.phoneNumberId, accessToken: other.token, graphApiBase: fake.url },
      }),
    );
    expect(missing.problem.errors?.[0]?.field).toBe('body.settings.appSecret');
  });
});

describe('the webhook', () => {
  it("answers Meta's subscription handshake with the challenge only for the channel's verify token", async () => {
    const ok = await fake.subscribe(webhookUrl(), VERIFY_TOKEN);
    expect(ok).toMatchObject({ status: 200, body: ok.challenge });
    const wrong = await fake.subscribe(webhookUrl(), 'not-the-token');
    expect(wrong.status).toBe(401);
    expect(wrong.body).not.toContain(wrong.challenge);
  });

  it('stores a text signed over the escaped-unicode body, keyed on the user id, with the phone on the card', async () => {
    const ivan = fake.user('Иван Петров');
    const { messageId } = await says(ivan, { text: 'Здравствуйте! 👋' });
    const stored = (await clientMessages()).at(-1)!;
    expect(stored).toMatchObject({ text: 'Здравствуйте! 👋', external_id: messageId });
    const client = await db()
      .selectFrom('client_identities')
      .innerJoin('clients', 'clients.id', 'client_identities.client_id')
      .select(['clients.name', 'clients.phone', 'client_identities.external_id'])
      .where('client_identities.channel_id', '=', channel.id)
      .where('client_identities.external_id', '=', ivan.userId)
      .executeTakeFirstOrThrow();
    expect(client).toEqual({ name: 'Иван Петров', phone: `+${ivan.waId}`, external_id: ivan.userId });
  });

  it('stores a user without a phone (usernames on) by the business-scoped id', async () => {
    const anon = fake.user('Anon', { usernames: true });
    await says(anon, { text: 'no phone here' });
    expect((await clientMessages()).at(-1)?.text).toBe('no phone here');
    expect(await dialogOf(anon)).toBeTruthy();
  });

  it('stores a redelivered message once', async () => {
    const olga = fake.user('Olga');
    const { body } = fake.userSends(number, olga, { text: 'only once' });
    expect((await fake.deliver(webhookUrl(), body)).status).toBe(200);
    expect((await fake.deliver(webhookUrl(), body)).status).toBe(200);
    expect((await clientMessages()).filter((m) => m.text === 'only once')).toHaveLength(1);
  });

  it('refuses a wrong or missing signature before reading anything: nothing stored, no media fetched', async () => {
    const mallory = fake.user('Mallory');
    const { body } = fake.userSends(number, mallory, { image: Buffer.from('forged'), caption: 'forged' });
    const calls = fake.calls.length;
    expect((await fake.deliver(webhookUrl(), body, 'wrong')).status).toBe(401);
    expect((await fake.deliver(webhookUrl(), body, 'none')).status).toBe(401);
    // The same bytes with the non-ASCII left unescaped would verify too; a changed byte does not.
    const raw = FakeCloudApi.encode(body);
    const tampered = await fetch(webhookUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': 'sha256=' + '0'.repeat(64) },
      body: raw,
    });
    expect(tampered.status).toBe(401);
    expect(await clientMessages()).not.toContainEqual(expect.objectContaining({ text: 'forged' }));
    expect(fake.calls.length).toBe(calls);
  });

  it('fetches media by id and stores the bytes with the caption', async () => {
    const petr = fake.user('Petr');
    const photo = Buffer.from('a jpeg photo');
    await says(petr, { image: photo, caption: 'my receipt' });
    const stored = (await clientMessages()).at(-1)!;
    expect(stored.text).toBe('my receipt');
    const [attachment] = stored.attachments as { url: string; mimeType: string; size: number }[];
    expect(attachment).toMatchObject({ mimeType: 'image/jpeg', size: photo.length });
    const bytes = Buffer.from(await (await fetch(attachment!.url)).arrayBuffer());
    expect(bytes).toEqual(photo);

    const pdf = Buffer.from('%PDF-1.7 contract');
    await says(petr, { document: pdf, mimeType: 'application/pdf', filename: 'contract.pdf' });
    const doc = (await clientMessages()).at(-1)!.attachments as { name: string }[];
    expect(doc[0]?.name).toBe('contract.pdf');
  });

  it('reads location, contacts and button replies as text', async () => {
    const anna = fake.user('Anna');
    await says(anna, {
      location: { latitude: 55.75, longitude: 37.62, name: 'Office', address: 'Tverskaya 1' },
    });
    await says(anna, { contacts: [{ name: 'Boris', phone: '+7 900 000-00-00' }] });
    await says(anna, { buttonReply: { id: '1', title: '👍 Yes' } });
    const texts = (await clientMessages()).slice(-3).map((m) => m.text);
    expect(texts).toEqual(['📍 Office, Tverskaya 1 (55.75, 37.62)', '👤 Boris, +7 900 000-00-00', '1']);
  });

  it('acknowledges a signed body that is not a WhatsApp webhook, storing nothing (Meta would redeliver it)', async () => {
    const before = await clientMessages();
    const response = await fake.deliver(webhookUrl(), { object: 'page', entry: [] });
    expect(response.status).toBe(200);
    expect(await clientMessages()).toEqual(before);
  });
});

describe('operator replies', () => {
  let ivan: WaUser;
  let dialogId: string;

  beforeAll(async () => {
    ivan = fake.user('Ivan');
    await says(ivan, { text: 'hello, operator' });
    dialogId = await dialogOf(ivan);
  });

  it('go out through the outbox with the name in bold; statuses move them to delivered and read, never back', async () => {
    const reply = await operator.ws.dialogs.send(dialogId, { text: 'Hello! How can I help?' });
    await world.server.workers.outbox.runOnce();
    expect(await outboxRow(reply.id)).toMatchObject({ state: 'sent', attempts: 1 });
    const sent = fake.sentTo(number, ivan).at(-1)!;
    expect(sent).toMatchObject({ to: ivan.userId, type: 'text' });
    expect(sent.body.text).toEqual({
      body: `*${operator.user.name}*\nHello! How can I help?`,
      preview_url: false,
    });
    expect((await messageRow(reply.id)).external_id).toBe(sent.id);

    for (const status of ['delivered', 'read', 'delivered'] as const) {
      expect((await fake.deliver(webhookUrl(), fake.statusOf(number, sent, status))).status).toBe(200);
    }
    expect(await messageRow(reply.id)).toMatchObject({ delivery_state: 'read' });
    const messages = await operator.ws.dialogs.messages(dialogId);
    expect(messages.find((m) => m.id === reply.id)?.deliveryState).toBe('read');
  });

  it('shows an asynchronous failure the platform reports', async () => {
    const reply = await operator.ws.dialogs.send(dialogId, { text: 'this one fails later' });
    await world.server.workers.outbox.runOnce();
    const sent = fake.sentTo(number, ivan).at(-1)!;
    await fake.deliver(
      webhookUrl(),
      fake.statusOf(number, sent, 'failed', { code: 131026, title: 'Message undeliverable' }),
    );
    expect(await messageRow(reply.id)).toMatchObject({
      delivery_state: 'failed',
      delivery_error: expect.stringContaining('131026'),
    });
  });

  it('upload an attached file and send it by media id, the text as its caption', async () => {
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
    const sent = fake.sentTo(number, ivan).at(-1)!;
    expect(sent.type).toBe('document');
    const doc = sent.body.document as { id: string; filename: string; caption: string };
    expect(doc).toMatchObject({ filename: 'invoice.pdf', caption: `*${operator.user.name}*\nYour invoice` });
    expect(fake.media.get(doc.id)?.data).toEqual(bytes);
  });

  it('offer quick replies as reply buttons, pressed back as the answer', async () => {
    const question: OutboundMessage = {
      messageId: '00000000-0000-4000-8000-000000000001',
      dialogId,
      recipientId: ivan.userId,
      authorKind: 'system',
      authorName: null,
      authorAvatarUrl: null,
      text: 'Did we help?',
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
      kind: 'whatsapp',
      name: channel.name,
      settings: channel.settings as { phoneNumberId: string },
      secrets: { accessToken: number.token },
    };
    await whatsAppConnector.send(runtime, question, { clock: world.clock, timeoutMs: 5000 });
    const asked = fake.sentTo(number, ivan).at(-1)!;
    expect(asked.body.interactive).toEqual({
      type: 'button',
      body: { text: 'Did we help?' },
      action: {
        buttons: [
          { type: 'reply', reply: { id: '1', title: '👍 Yes' } },
          { type: 'reply', reply: { id: '0', title: '👎 No' } },
        ],
      },
    });
  });

  it('waits out the pair rate limit (#131056) and sends once', async () => {
    world.clock.advance(6000); // the earlier sends are out of the pair's interval
    fake.pairRateLimit = true;
    try {
      await operator.ws.dialogs.send(dialogId, { text: 'first' });
      const second = await operator.ws.dialogs.send(dialogId, { text: 'second' });
      await world.server.workers.outbox.runOnce();
      const row = await outboxRow(second.id);
      expect(row).toMatchObject({
        state: 'pending',
        attempts: 1,
        last_error: expect.stringContaining('131056'),
      });
      expect(row.next_attempt_at.getTime()).toBe(world.clock.now().getTime() + 6000);
      world.clock.advance(6000);
      await world.server.workers.outbox.runOnce();
      expect(await outboxRow(second.id)).toMatchObject({ state: 'sent', attempts: 2 });
      expect(
        fake.sentTo(number, ivan).filter((m) => (m.body.text as { body?: string })?.body?.endsWith('second')),
      ).toHaveLength(1);
    } finally {
      fake.pairRateLimit = false;
    }
  });

  it('retries a throughput error (#130429) and a 5xx', async () => {
    fake.failNext({
      status: 400,
      error: { message: '(#130429) Rate limit hit', type: 'OAuthException', code: 130429 },
    });
    const reply = await operator.ws.dialogs.send(dialogId, { text: 'after the limit' });
    await world.server.workers.outbox.runOnce();
    expect(await outboxRow(reply.id)).toMatchObject({ state: 'pending', attempts: 1 });
    world.clock.advance(60 * 60 * 1000);
    await world.server.workers.outbox.runOnce();
    expect(await outboxRow(reply.id)).toMatchObject({ state: 'sent', attempts: 2 });
  });

  it('holds messages while the token is revoked (#190), shows the channel failing, and sends them once it is fixed', async () => {
    fake.revoke(number);
    const reply = await operator.ws.dialogs.send(dialogId, { text: 'are you still there?' });
    const before = fake.sentTo(number, ivan).length;
    await world.server.workers.outbox.runOnce();
    expect(await outboxRow(reply.id)).toMatchObject({
      state: 'pending',
      attempts: 0,
      last_error: expect.stringContaining('190'),
    });
    expect(await messageRow(reply.id)).toMatchObject({ delivery_state: 'pending' });
    const failing = await world.admin.channels.get(channel.id);
    expect(failing.failure).toContain('access token');
    // However long it takes, the message is not given up on.
    for (let round = 0; round < 12; round++) {
      world.clock.advance(15 * 60 * 1000);
      await world.server.workers.outbox.runOnce();
    }
    expect(await outboxRow(reply.id)).toMatchObject({ state: 'pending', attempts: 0 });
    // A fresh message from the client keeps the window open while the admin fixes the token.
    await says(ivan, { text: 'hello again' });
    fake.restore(number);
    const fixed = await world.admin.channels.update(channel.id, { settings: { accessToken: number.token } });
    expect(fixed.failure).toBeUndefined();
    await world.server.workers.outbox.runOnce();
    expect(await outboxRow(reply.id)).toMatchObject({ state: 'sent', attempts: 1 });
    expect(fake.sentTo(number, ivan)).toHaveLength(before + 1);
  });

  it('fails a free-form reply outside the 24-hour window with the reason, sending nothing', async () => {
    world.clock.advance(25 * 60 * 60 * 1000);
    const before = fake.sentTo(number, ivan).length;
    const reply = await operator.ws.dialogs.send(dialogId, { text: 'a day later' });
    await world.server.workers.outbox.runOnce();
    expect(await outboxRow(reply.id)).toMatchObject({ state: 'failed', attempts: 1 });
    expect((await messageRow(reply.id)).delivery_error).toContain(WINDOW_CLOSED);
    expect(fake.sentTo(number, ivan)).toHaveLength(before);
  });

  it('lists the approved templates and sends one outside the window, its text kept in the history', async () => {
    number.templates.push(
      {
        name: 'order_update',
        language: 'en_US',
        status: 'APPROVED',
        category: 'UTILITY',
        body: 'Hi {{1}}, your order {{2}} is ready.',
      },
      { name: 'draft_one', language: 'en_US', status: 'PENDING', category: 'UTILITY', body: 'Not yet' },
    );
    // Without the business account id there is nothing to list from.
    expect((await problemOf(operator.ws.channels.templates(channel.id))).status).toBe(400);
    await world.admin.channels.update(channel.id, {
      settings: { businessAccountId: number.businessAccountId },
    });
    const kinds = await operator.ws.channels.kinds();
    expect(kinds.find((k) => k.kind === 'whatsapp')).toMatchObject({ replyWindowHours: 24, templates: true });
    expect(await operator.ws.channels.templates(channel.id)).toEqual([
      {
        name: 'order_update',
        language: 'en_US',
        category: 'UTILITY',
        body: 'Hi {{1}}, your order {{2}} is ready.',
        parameterCount: 2,
      },
    ]);
    const reply = await operator.ws.dialogs.send(dialogId, {
      text: 'Hi Ivan, your order 42 is ready.',
      template: { name: 'order_update', language: 'en_US', parameters: ['Ivan', '42'] },
    });
    await world.server.workers.outbox.runOnce();
    expect(await outboxRow(reply.id)).toMatchObject({ state: 'sent' });
    expect(fake.sentTo(number, ivan).at(-1)).toMatchObject({
      type: 'template',
      body: {
        template: {
          name: 'order_update',
          language: { code: 'en_US' },
          components: [
            {
              type: 'body',
              parameters: [
                { type: 'text', text: 'Ivan' },
                { type: 'text', text: '42' },
              ],
            },
          ],
        },
      },
    });
    // A wrong parameter count is the platform's refusal, shown on the message.
    const wrong = await operator.ws.dialogs.send(dialogId, {
      text: 'Hi',
      template: { name: 'order_update', language: 'en_US', parameters: ['only one'] },
    });
    await world.server.workers.outbox.runOnce();
    expect(await messageRow(wrong.id)).toMatchObject({
      delivery_state: 'failed',
      delivery_error: expect.stringContaining('132000'),
    });
    // A private note is never a template.
    const note = await problemOf(
      operator.ws.dialogs.send(dialogId, {
        text: 'x',
        private: true,
        template: { name: 'order_update', language: 'en_US', parameters: [] },
      }),
    );
    expect(note.problem.errors?.[0]?.field).toBe('body.template');
  });
});

describe('disconnecting', () => {
  it('stops intake: the webhook answers 404 channel_disconnected and nothing is stored', async () => {
    const other = fake.createNumber();
    const second = await connect(other);
    await world.admin.channels.update(second.id, { status: 'disconnected' });
    const { body } = fake.userSends(other, fake.user('Late'), { text: 'after disconnect' });
    const response = await fake.deliver(webhookUrl(second.id), body);
    expect(response.status).toBe(404);
    expect(((await response.json()) as { reason?: string }).reason).toBe('channel_disconnected');
    expect(await clientMessages(second.id)).toHaveLength(0);
  });
});
