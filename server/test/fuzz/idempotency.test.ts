import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signMetaBody } from '../../src/channels/meta/webhook';
import { createEngineWorld, type EngineWorld } from '../engine-fixture';
import { TestVisitor } from '../widget-visitor';

// Issue 20, "idempotency everywhere it is promised" (docs/api.md, docs/channels/*, contract/):
// every create that takes an idempotency key — an operator's `clientMessageId`, the widget's
// `clientMessageId`, the API channel's `externalId`, Bitrix24's `message.id`, a platform's message
// id on a webhook redelivery — retried 20 times at once gives every caller a 2xx with the one
// stored message, and the database holds exactly one row. Run on PGlite by default and on
// PostgreSQL with DATABASE_URL (where the retries really run in parallel transactions).

const RETRIES = 20;

let world: EngineWorld;

beforeAll(async () => {
  world = await createEngineWorld({ operatorCount: 1 });
  await world.online(...world.operators);
});
afterAll(() => world?.stop());

const db = () => world.server.ctx.store.db;

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, text, json: () => JSON.parse(text) as Record<string, unknown> };
}

/** Fires the same request `RETRIES` times at once. */
function atOnce<T>(request: () => Promise<T>): Promise<T[]> {
  return Promise.all(Array.from({ length: RETRIES }, request));
}

async function clientRows(channelId: string, externalId: string) {
  return db()
    .selectFrom('messages')
    .select(['id', 'dialog_id'])
    .where('channel_id', '=', channelId)
    .where('external_id', '=', externalId)
    .where('author_kind', '=', 'client')
    .execute();
}

describe('20 identical retries at once store one message and answer every caller with it', () => {
  it("the API channel's externalId: a new client's first message, then one in an open dialog", async () => {
    const { channel, secrets } = await world.admin.channels.create({
      kind: 'api',
      name: 'Idempotent shop',
      lineId: world.line.id,
      settings: { webhookUrl: 'http://127.0.0.1:9/unused' },
    });
    const token = Object.values(secrets).find((value) => value.startsWith('olc_'))!;
    const url = `${world.server.url}/api/v1/channel-api/messages`;
    for (const externalId of ['idem-first', 'idem-second']) {
      const body = { externalId, user: { id: 'idem-client', name: 'Idem' }, text: externalId };
      const answers = await atOnce(() => post(url, body, { authorization: `Bearer ${token}` }));
      expect(answers.filter((a) => a.status >= 300).map((a) => `${a.status} ${a.text}`)).toEqual([]);
      const results = answers.map((a) => a.json() as { messageId: string; duplicate: boolean });
      expect(new Set(results.map((r) => r.messageId)).size).toBe(1);
      // One caller stored it (201); every other one is told it was a duplicate (200).
      expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
      expect(results.filter((r) => r.duplicate)).toHaveLength(RETRIES - 1);
      const rows = await clientRows(channel.id, externalId);
      expect(rows.map((r) => r.id)).toEqual([results[0]!.messageId]);
    }
    const clients = await db()
      .selectFrom('client_identities')
      .select('client_id')
      .where('channel_id', '=', channel.id)
      .execute();
    expect(clients).toHaveLength(1);
  });

  it("the widget's clientMessageId", async () => {
    const widget = await world.admin.channels.create({
      kind: 'widget',
      name: 'Idempotent widget',
      lineId: world.line.id,
      settings: { allowedDomains: ['idem.test'] },
    });
    const snippet = await world.admin.channels.widgetSnippet(widget.channel.id);
    // A visitor's first message (it opens the session), and one in an open session; a visitor per
    // case, since a visitor may send 30 messages a minute and retries count (docs/channels/widget.md).
    for (const [index, clientMessageId] of ['cm-idem-000001', 'cm-idem-000002'].entries()) {
      const visitor = new TestVisitor(world.server.url, snippet.publicKey, 'https://idem.test');
      expect((await visitor.start()).status).toBe(201);
      if (index === 1) expect((await visitor.send('before')).status).toBe(201);
      const answers = await atOnce(() => visitor.send('the same words', clientMessageId));
      expect(
        answers.filter((a) => a.status >= 300).map((a) => `${a.status} ${JSON.stringify(a.body)}`),
      ).toEqual([]);
      expect(new Set(answers.map((a) => a.body.message.id)).size).toBe(1);
      expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
      expect(answers.filter((a) => a.body.duplicate)).toHaveLength(RETRIES - 1);
      const rows = await db()
        .selectFrom('messages')
        .select('id')
        .where('channel_id', '=', widget.channel.id)
        .where('author_kind', '=', 'client')
        .where('text', '=', 'the same words')
        .execute();
      expect(rows).toHaveLength(index + 1);
    }
  });

  it("an operator's clientMessageId, taking a queued dialog by answering it", async () => {
    const [operator] = world.operators;
    await world.operators[0]!.client.auth.setPresence('away');
    const intake = await world.clientSays('idem-queued', 'Anyone?');
    await operator!.client.auth.setPresence('online');
    const answers = await Promise.allSettled(
      Array.from({ length: RETRIES }, () =>
        world.admin.dialogs.send(intake.dialogId, { text: 'Here', clientMessageId: 'op-idem-1' }),
      ),
    );
    expect(answers.filter((a) => a.status === 'rejected').map((a) => String(a.reason))).toEqual([]);
    const ids = answers.map((a) => (a as PromiseFulfilledResult<{ id: string }>).value.id);
    expect(new Set(ids).size).toBe(1);
    const rows = await db()
      .selectFrom('messages')
      .select('id')
      .where('dialog_id', '=', intake.dialogId)
      .where('client_message_id', '=', 'op-idem-1')
      .execute();
    expect(rows.map((r) => r.id)).toEqual([ids[0]]);
    const outbox = await db().selectFrom('outbox').select('id').where('message_id', '=', ids[0]!).execute();
    expect(outbox).toHaveLength(1);
  });

  it("Bitrix24's imconnector.send.messages message.id", async () => {
    const { accessToken: token } = await world.admin.client.request<{ accessToken: string }>(
      'POST',
      '/bitrix24/apps',
      { body: { name: 'Idempotent app' } },
    );
    const rest = (method: string, body: object) =>
      post(`${world.server.url}/rest/${method}`, { auth: token, ...body });
    const added = (await rest('imopenlines.config.add', {
      PARAMS: { LINE_NAME: 'Idem B24', CHECK_AVAILABLE: 'N', WELCOME_MESSAGE: 'N' },
    }).then((a) => a.json())) as { result: number };
    await rest('imconnector.register', { ID: 'idem', NAME: 'Idem', ICON: {} });
    await rest('imconnector.activate', { CONNECTOR: 'idem', LINE: added.result, ACTIVE: 'Y' });
    const body = {
      CONNECTOR: 'idem',
      LINE: added.result,
      MESSAGES: [
        { user: { id: 'b24-user' }, message: { id: 'b24-m1', text: 'Hello' }, chat: { id: 'b24-chat' } },
      ],
    };
    const answers = await atOnce(() => rest('imconnector.send.messages', body));
    expect(answers.filter((a) => a.status !== 200).map((a) => `${a.status} ${a.text}`)).toEqual([]);
    const results = answers.map(
      (a) =>
        (
          a.json() as {
            result: { DATA: { RESULT: { SUCCESS: boolean; DUPLICATE?: boolean; message?: unknown }[] } };
          }
        ).result.DATA.RESULT[0]!,
    );
    expect(results.filter((r) => !r.SUCCESS)).toEqual([]);
    expect(results.filter((r) => r.DUPLICATE)).toHaveLength(RETRIES - 1);
    const rows = await db()
      .selectFrom('messages')
      .innerJoin('channels', 'channels.id', 'messages.channel_id')
      .select('messages.id')
      .where('channels.kind', '=', 'bitrix24')
      .where('messages.author_kind', '=', 'client')
      .where('messages.text', '=', 'Hello')
      .execute();
    expect(rows).toHaveLength(1);
  });

  it("a platform's webhook redelivered 20 times at once (a Messenger message)", async () => {
    const meta = await connectMessenger();
    const mid = `m_${createHash('sha1').update('idem').digest('hex')}`;
    const raw = JSON.stringify({
      object: 'page',
      entry: [
        {
          id: meta.pageId,
          time: 1,
          messaging: [
            {
              sender: { id: 'psid-idem' },
              recipient: { id: meta.pageId },
              timestamp: 1,
              message: { mid, text: 'hi' },
            },
          ],
        },
      ],
    });
    const url = `${world.server.url}/api/v1/channels/${meta.channelId}/webhook`;
    const answers = await atOnce(() =>
      post(url, raw, { 'x-hub-signature-256': signMetaBody(meta.appSecret, raw) }),
    );
    expect(answers.filter((a) => a.status !== 200).map((a) => `${a.status} ${a.text}`)).toEqual([]);
    expect(await clientRows(meta.channelId, mid)).toHaveLength(1);
  });
});

/**
 * A Messenger channel, connected against a local fake of the Graph API that is stopped afterwards:
 * a text message in needs nothing from it.
 */
async function connectMessenger() {
  const { FakeMessenger } = await import('../peers/meta/fake-messenger');
  const fake = new FakeMessenger();
  await fake.start();
  try {
    const page = fake.createPage('page', 'Idem page');
    const { channel } = await world.admin.channels.create({
      kind: 'messenger',
      name: 'Idem Messenger',
      lineId: world.line.id,
      settings: {
        pageId: page.id,
        pageAccessToken: page.token,
        appSecret: fake.appSecret,
        verifyToken: 'idem-verify',
        graphApiBase: fake.url,
      },
    });
    return { channelId: channel.id, pageId: page.id, appSecret: fake.appSecret };
  } finally {
    await fake.stop();
  }
}
