import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../src/core/clock';
import { createEngineWorld, type EngineWorld } from './engine-fixture';
import { clientTexts, createTestServer, durableStorage, type TestServer } from './harness';
import { FakeCloudApi } from './peers/whatsapp/fake-cloud-api';

// A WhatsApp channel across a restart of the server: a delivery stored before it and delivered
// again by Meta after it is stored once; an operator's reply queued before it goes out once after.

const clock = new FakeClock('2026-03-02T10:00:00Z');
const fake = new FakeCloudApi(() => clock.now());
const env = { SECRET_KEY: 'a-secret-key-for-the-restart-test-0123456789' };
let storage: Awaited<ReturnType<typeof durableStorage>>;
let world: EngineWorld;
let restarted: TestServer | null = null;

beforeAll(async () => {
  await fake.start();
  storage = await durableStorage();
  world = await createEngineWorld({ operatorCount: 1, clock, server: { env, ...storage.storage } });
  await world.online(world.operators[0]!);
});
afterAll(async () => {
  await restarted?.stop();
  await storage?.cleanup();
  await fake.stop();
});

describe('a WhatsApp channel across a restart', () => {
  it('loses nothing and doubles nothing', async () => {
    const number = fake.createNumber();
    const { channel } = await world.admin.channels.create({
      kind: 'whatsapp',
      name: 'WhatsApp',
      lineId: world.line.id,
      settings: {
        phoneNumberId: number.phoneNumberId,
        accessToken: number.token,
        appSecret: fake.appSecret,
        verifyToken: 'verify-token-restart',
        graphApiBase: fake.url,
      },
    });
    const url = (server: { url: string }) => `${server.url}/api/v1/channels/${channel.id}/webhook`;
    const user = fake.user('Vera');
    const first = fake.userSends(number, user, { text: 'before the restart' });
    expect((await fake.deliver(url(world.server), first.body)).status).toBe(200);
    const [stored] = await world.server.ctx.store.db
      .selectFrom('messages')
      .select('dialog_id')
      .where('channel_id', '=', channel.id)
      .execute();
    const reply = await world.operators[0]!.ws.dialogs.send(stored!.dialog_id, {
      text: 'queued before the restart',
    });
    await world.stop();

    restarted = await createTestServer({ clock, workers: false, env, ...storage.storage });
    // Meta did not see our 200 (say) and delivers the same message again, then a new one.
    expect((await fake.deliver(url(restarted), first.body)).status).toBe(200);
    const second = fake.userSends(number, user, { text: 'after the restart' });
    expect((await fake.deliver(url(restarted), second.body)).status).toBe(200);
    expect(await clientTexts(restarted, channel.id)).toEqual(['before the restart', 'after the restart']);

    await restarted.workers.outbox.runOnce();
    await restarted.workers.outbox.runOnce();
    // The line's welcome and the operator's reply, each once.
    const sent = fake.sentTo(number, user).map((m) => (m.body.text as { body: string }).body);
    expect(sent).toHaveLength(2);
    expect(sent.filter((text) => text.endsWith('queued before the restart'))).toHaveLength(1);
    const row = await restarted.ctx.store.db
      .selectFrom('messages')
      .select('delivery_state')
      .where('id', '=', reply.id)
      .executeTakeFirstOrThrow();
    expect(row.delivery_state).toBe('sent');
  });
});
