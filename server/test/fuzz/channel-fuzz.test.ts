import type { Channel } from '@openlines/contract';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { inboundItemsOf } from '../../src/channels/email/inbound';
import { parseMail } from '../../src/channels/email/mime';
import { createEngineWorld, type EngineWorld } from '../engine-fixture';
import { FakeMessenger, type FakePage } from '../peers/meta/fake-messenger';
import { type FakeGroup, FakeVkApi } from '../peers/vk/fake-vk-api';
import { FakeCloudApi, type FakeNumber } from '../peers/whatsapp/fake-cloud-api';
import { hostileValue, pathsIn, withAt } from './schema-values';

// Issue 20: each webhook-style channel's inbound endpoint, fed property-based malformed payloads
// WITH A VALID SIGNATURE (VK's secret, Meta's X-Hub-Signature-256 over the bytes): wrong types,
// missing fields, nulls in arrays, NUL and surrogates, huge and deep values. A verified delivery
// never gets a 5xx, is acknowledged the way its platform needs to stop redelivering it (VK: the
// text `ok`; Meta: 200), and what could not be read is logged for an admin. The API channel's
// inbound route is fuzzed with its token in api-fuzz.test.ts (its answers are for integrators:
// 4xx naming the field); e-mail has no endpoint, so its MIME parser is fuzzed with broken mail.
// FUZZ_RUNS raises the number of cases; FUZZ_SEED replays a failure.

const RUNS = Number(process.env.FUZZ_RUNS ?? 30);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
const options = { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}), endOnFailure: true };
const anyValue = hostileValue(undefined, (schema) => schema);

let world: EngineWorld;
let clock = () => new Date();
const vk = new FakeVkApi();
const whatsapp = new FakeCloudApi(() => clock());
const meta = new FakeMessenger(() => clock());

beforeAll(async () => {
  await Promise.all([vk.start(), whatsapp.start(), meta.start()]);
  world = await createEngineWorld({ operatorCount: 1 });
  clock = () => world.clock.now();
  vk.now = () => world.clock.now().getTime();
});
afterAll(async () => {
  await world?.stop();
  await Promise.all([vk.stop(), whatsapp.stop(), meta.stop()]);
});

const webhookOf = (channel: Channel) => `${world.server.url}/api/v1/channels/${channel.id}/webhook`;

async function clientTextsOf(channelId: string): Promise<string[]> {
  const rows = await world.server.ctx.store.db
    .selectFrom('messages')
    .select('text')
    .where('channel_id', '=', channelId)
    .where('author_kind', '=', 'client')
    .orderBy('seq')
    .execute();
  return rows.map((row) => row.text ?? '');
}

/** What the server logged at warn or error level for this channel while `run` ran. */
async function warningsDuring(channelId: string, run: () => Promise<void>): Promise<string[]> {
  const spies = [vi.spyOn(world.server.ctx.log, 'warn'), vi.spyOn(world.server.ctx.log, 'error')];
  try {
    await run();
    return spies.flatMap((spy) =>
      spy.mock.calls
        .filter(([fields]) => (fields as { channelId?: string } | undefined)?.channelId === channelId)
        .map(([fields, message]) => `${String(message)} ${JSON.stringify(fields)}`),
    );
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

async function healthy() {
  expect((await fetch(`${world.server.url}/healthz`)).status).toBe(200);
}

/** One mutation of a valid payload: a hostile value at some path, or that path removed. */
function mutationsOf(valid: unknown) {
  return fc.record({
    at: fc.constantFrom(...pathsIn(valid)),
    value: anyValue,
    remove: fc.boolean(),
  });
}

describe('VK Callback API with the secret', () => {
  let group: FakeGroup;
  let channel: Channel;

  beforeAll(async () => {
    group = vk.createGroup('Fuzz community');
    ({ channel } = await world.admin.channels.create({
      kind: 'vk',
      name: 'VK fuzz',
      lineId: world.line.id,
      settings: {
        groupId: String(group.id),
        accessToken: group.token,
        secretKey: group.secretKey,
        confirmation: group.confirmation,
        apiBaseUrl: vk.methodUrl,
      },
    }));
    group.callbackUrl = webhookOf(channel);
  });

  const valid = () => vk.userSends(group, 777, { text: 'hello', photo: Buffer.from('jpeg') });

  it('acknowledges poison events with `ok`, stores nothing of them, and logs them', async () => {
    const base = valid();
    group.pending.length = 0;
    const signed = { group_id: group.id, secret: group.secretKey, event_id: 'e', v: '5.199' };
    const poison: unknown[] = [
      { ...signed, type: 17, object: {} },
      { ...signed, object: base.object },
      { ...signed, type: 'message_new', object: 'a string' },
      { ...signed, type: 'message_new', object: { message: { id: 'x', peer_id: 1, from_id: 1 } } },
      { ...signed, type: 'message_new', object: { message: { id: 1, peer_id: 1, from_id: 1, text: 5 } } },
      {
        ...signed,
        type: 'message_new',
        object: { message: { id: 2, peer_id: 1, from_id: 1, attachments: [null, 'x', { type: 'photo' }] } },
      },
      { ...signed, type: 'message_edit', object: [] },
    ];
    const before = await clientTextsOf(channel.id);
    const logged = await warningsDuring(channel.id, async () => {
      for (const event of poison) {
        const answer = await vk.post(group.callbackUrl!, event);
        expect(answer, JSON.stringify(event)).toEqual({ status: 200, body: 'ok' });
      }
    });
    expect(logged.length, logged.join('\n')).toBeGreaterThanOrEqual(poison.length);
    expect(await clientTextsOf(channel.id)).toEqual(before);
  });

  it('answers every signed event below 500, and `ok` whenever it is not the handshake (fuzzed)', async () => {
    const template = valid();
    group.pending.length = 0;
    // The fields that make it VK's (secret, group) are kept: a wrong one is a stranger (401).
    const paths = pathsIn(template).filter(([head]) => head !== 'secret' && head !== 'group_id');
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.record({ at: fc.constantFrom(...paths), value: anyValue, remove: fc.boolean() }),
        async ({ at, value, remove }) => {
          const event = withAt(template, at, value, remove) as Record<string, unknown>;
          // A fresh message id each time, so the dedupe does not hide the parser.
          if (typeof event.object === 'object' && event.object && 'message' in event.object) {
            const message = (event.object as { message: unknown }).message;
            if (message && typeof message === 'object' && !Array.isArray(message) && at.at(-1) !== 'id')
              (message as { id: unknown }).id = 100_000 + n++;
          }
          const answer = await vk.post(group.callbackUrl!, event);
          const where = `${JSON.stringify(at)} → ${answer.status} ${answer.body.slice(0, 200)}`;
          expect(answer.status, where).toBeLessThan(500);
          if (event.type !== 'confirmation') expect(answer, where).toEqual({ status: 200, body: 'ok' });
        },
      ),
      options,
    );
    await healthy();
  }, 120_000);

  it('still stores a good event after the fuzzing', async () => {
    vk.userSends(group, 778, { text: 'still here' });
    expect(await vk.deliverCallbacks(group)).toEqual([200]);
    expect((await clientTextsOf(channel.id)).at(-1)).toBe('still here');
  });
});

describe('WhatsApp Cloud API webhook with X-Hub-Signature-256', () => {
  let number: FakeNumber;
  let channel: Channel;

  beforeAll(async () => {
    number = whatsapp.createNumber({ verifiedName: 'Fuzz' });
    ({ channel } = await world.admin.channels.create({
      kind: 'whatsapp',
      name: 'WhatsApp fuzz',
      lineId: world.line.id,
      settings: {
        phoneNumberId: number.phoneNumberId,
        accessToken: number.token,
        appSecret: whatsapp.appSecret,
        verifyToken: 'fuzz-verify-token',
        graphApiBase: whatsapp.url,
      },
    }));
  });

  it('acknowledges poison deliveries with 200, keeps the good message beside them, and logs them', async () => {
    const user = whatsapp.user('Fuzz user');
    const good = whatsapp.userSends(number, user, { text: 'good one' }).body;
    const poison: unknown[] = [
      { object: 'instagram', entry: [] },
      { object: 'whatsapp_business_account', entry: 'x' },
      { object: 'whatsapp_business_account', entry: [null, 1, { changes: [null, { value: 'x' }] }] },
      withAt(good, ['entry', 0, 'changes', 0, 'value', 'messages'], [null, 'x', { id: 5, type: [] }]),
      withAt(good, ['entry', 0, 'changes', 0, 'value', 'messages', 0, 'text'], { body: ['x'] }),
      withAt(
        withAt(good, ['entry', 0, 'changes', 0, 'value', 'messages'], []),
        ['entry', 0, 'changes', 0, 'value', 'statuses'],
        [{ id: null, status: {} }],
      ),
      [],
      'text',
    ];
    const logged = await warningsDuring(channel.id, async () => {
      for (const body of poison) {
        const answer = await whatsapp.deliver(webhookOf(channel), body);
        expect(answer.status, JSON.stringify(body)).toBe(200);
      }
    });
    expect(logged.length).toBeGreaterThanOrEqual(4);
    expect(await clientTextsOf(channel.id)).toEqual([]);
    // A poison message beside a good one in the same delivery, and a contact card of the wrong
    // shape: the good message is stored.
    const mixed = withAt(
      withAt(good, ['entry', 0, 'changes', 0, 'value', 'messages', 1], { id: {}, type: 'text' }),
      ['entry', 0, 'changes', 0, 'value', 'contacts'],
      { profile: null },
    );
    expect((await whatsapp.deliver(webhookOf(channel), mixed)).status).toBe(200);
    expect(await clientTextsOf(channel.id)).toEqual(['good one']);
  });

  it('answers every signed delivery with 200, however it is malformed (fuzzed)', async () => {
    const user = whatsapp.user('Fuzz user 2');
    const text = whatsapp.userSends(number, user, { text: 'hello' }).body;
    const image = whatsapp.userSends(number, user, { image: Buffer.from('png'), caption: 'pic' }).body;
    const templates = [text, image];
    await fc.assert(
      fc.asyncProperty(
        fc
          .constantFrom(...templates)
          .chain((template) => mutationsOf(template).map((m) => ({ template, ...m }))),
        async ({ template, at, value, remove }) => {
          const body = withAt(template, at, value, remove);
          const answer = await whatsapp.deliver(webhookOf(channel), body);
          expect(answer.status, `${JSON.stringify(at)} → ${await answer.text()}`).toBe(200);
        },
      ),
      options,
    );
    await healthy();
  }, 120_000);
});

describe('Messenger and Instagram webhooks with the app secret', () => {
  const connect = async (kind: 'messenger' | 'instagram', page: FakePage) =>
    (
      await world.admin.channels.create({
        kind,
        name: `${kind} fuzz`,
        lineId: world.line.id,
        settings: {
          pageId: page.id,
          pageAccessToken: page.token,
          appSecret: meta.appSecret,
          verifyToken: 'fuzz-verify',
          graphApiBase: meta.url,
        },
      })
    ).channel;

  for (const kind of ['messenger', 'instagram'] as const) {
    describe(kind, () => {
      let page: FakePage;
      let channel: Channel;

      beforeAll(async () => {
        page = meta.createPage(kind === 'messenger' ? 'page' : 'instagram', `Fuzz ${kind}`);
        channel = await connect(kind, page);
      });

      it('acknowledges poison deliveries with 200 and logs them', async () => {
        const userId = meta.user();
        const good = meta.userSends(page, userId, { text: 'good one' }).body;
        const poison: unknown[] = [
          { object: kind === 'messenger' ? 'instagram' : 'page', entry: [] },
          { object: page.object, entry: { id: page.id } },
          withAt(good, ['entry', 0, 'messaging'], [null, 'x', { sender: [] }]),
          withAt(good, ['entry', 0, 'messaging', 0, 'message'], { mid: 5, text: {} }),
          withAt(good, ['entry', 0, 'messaging', 0, 'message'], { mid: 'm_poison', attachments: [null, 7] }),
          null,
        ];
        const logged = await warningsDuring(channel.id, async () => {
          for (const body of poison) {
            const answer = await meta.deliver(webhookOf(channel), body);
            expect(answer.status, JSON.stringify(body)).toBe(200);
          }
        });
        expect(logged.length).toBeGreaterThanOrEqual(4);
        expect(await clientTextsOf(channel.id)).toEqual([]);
        expect((await meta.deliver(webhookOf(channel), good)).status).toBe(200);
        expect(await clientTextsOf(channel.id)).toEqual(['good one']);
      });

      it('answers every signed delivery with 200, however it is malformed (fuzzed)', async () => {
        const userId = meta.user();
        const templates = [
          meta.userSends(page, userId, {
            text: 'hello',
            files: [{ data: Buffer.from('jpg'), mimeType: 'image/jpeg', type: 'image', name: 'a.jpg' }],
            quickReply: 'yes',
          }).body,
          meta.postback(page, userId, 'START'),
          meta.read(page, userId, 'm_1'),
        ];
        await fc.assert(
          fc.asyncProperty(
            fc
              .constantFrom(...templates)
              .chain((template) => mutationsOf(template).map((m) => ({ template, ...m }))),
            async ({ template, at, value, remove }) => {
              const body = withAt(template, at, value, remove);
              const answer = await meta.deliver(webhookOf(channel), body);
              expect(answer.status, `${JSON.stringify(at)} → ${await answer.text()}`).toBe(200);
            },
          ),
          options,
        );
        await healthy();
      }, 120_000);
    });
  }
});

describe('e-mail: malformed MIME', () => {
  const GOOD = [
    'From: Anna <anna@example.com>',
    'To: support@example.com',
    'Subject: Order',
    'Message-ID: <m1@example.com>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"',
    '',
    '--b1',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    'Hello =E2=9C=93',
    '--b1',
    'Content-Type: application/pdf; name="a.pdf"',
    'Content-Disposition: attachment; filename="a.pdf"',
    'Content-Transfer-Encoding: base64',
    '',
    'JVBERi0xLjcK',
    '--b1--',
    '',
  ].join('\r\n');

  /** Broken mail: cut anywhere, bytes spliced in, headers repeated or garbled. */
  const brokenMail = fc.oneof(
    fc.nat({ max: GOOD.length }).map((cut) => Buffer.from(GOOD.slice(0, cut))),
    fc
      .tuple(fc.nat({ max: GOOD.length }), fc.uint8Array({ maxLength: 64 }))
      .map(([at, bytes]) =>
        Buffer.concat([Buffer.from(GOOD.slice(0, at)), Buffer.from(bytes), Buffer.from(GOOD.slice(at))]),
      ),
    fc
      .constantFrom(
        'Content-Type: multipart/mixed; boundary=""\r\n\r\n--\r\n',
        'Content-Type: multipart/mixed\r\n\r\nno boundary at all',
        `Subject: ${'=?utf-8?B?'.repeat(2000)}\r\n\r\nx`,
        `From: ${'<'.repeat(5000)}\r\n\r\nx`,
        'From: \u0000@\ud800\r\nMessage-ID: <\u0000>\r\n\r\n\u0000body\ud800',
        `${'X-H: v\r\n'.repeat(5000)}\r\nbody`,
        `Content-Type: multipart/mixed; boundary=a\r\n\r\n${'--a\r\nContent-Type: multipart/mixed; boundary=a\r\n\r\n'.repeat(300)}`,
        'Content-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!',
        '',
      )
      .map((text) => Buffer.from(text)),
    fc.uint8Array({ maxLength: 2000 }).map((bytes) => Buffer.from(bytes)),
  );

  it('parses any broken mail into a payload the inbound path reads, never throwing', async () => {
    await fc.assert(
      fc.asyncProperty(brokenMail, async (source) => {
        const payload = await parseMail(source, { uidValidity: '1', uid: 7 });
        const items = inboundItemsOf(JSON.parse(JSON.stringify(payload)));
        expect(items).toHaveLength(1);
        const message = items[0]!.message;
        if (message) expect(message.externalId.length).toBeGreaterThan(0);
      }),
      options,
    );
  }, 120_000);
});
