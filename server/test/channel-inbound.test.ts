import type { Channel } from '@openlines/contract';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createEngineWorld, type EngineWorld } from './engine-fixture';
import { clientTexts } from './harness';
import { type FakeBot, FakeBotApi } from './peers/telegram/fake-bot-api';

// The generic inbound path of webhook-style channels (services/channel-inbound.ts) at its generic
// URL, POST /api/v1/channels/:channelId/webhook, with Telegram as the connector and the local fake
// of the Bot API as the platform: verification before anything is read or fetched, dedupe before
// any file is fetched again, and kinds without verifyInbound refused.

const fake = new FakeBotApi();
let world: EngineWorld;
let bot: FakeBot;
let channel: Channel;
let secret: string;
const ivan = fake.user({ first_name: 'Ivan' });

beforeAll(async () => {
  await fake.start();
  world = await createEngineWorld({ operatorCount: 1 });
  await world.online(world.operators[0]!);
  bot = fake.createBot();
  ({ channel } = await world.admin.channels.create({
    kind: 'telegram',
    name: 'Telegram generic',
    lineId: world.line.id,
    settings: { botToken: bot.token, apiRoot: fake.url, updates: 'webhook' },
  }));
  await world.server.workers.telegram.syncOnce();
  secret = bot.webhook!.secretToken!;
});
afterAll(async () => {
  await world?.stop();
  await fake.stop();
});

const genericUrl = (id: string) => `${world.server.url}/api/v1/channels/${id}/webhook`;

function postRaw(url: string, body: string, token: string | null): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token === null ? {} : { 'x-telegram-bot-api-secret-token': token }),
    },
    body,
  });
}

describe('the generic webhook path', () => {
  it('stores a verified delivery at the generic URL, with its file', async () => {
    const update = fake.userSends(bot, ivan, { text: 'generic hello', photo: Buffer.from('pic') });
    bot.pending.pop();
    expect(await fake.post(genericUrl(channel.id), update, secret)).toBe(200);
    expect(await clientTexts(world.server, channel.id)).toContain('generic hello');
    expect(fake.callsOf('getFile', bot)).not.toHaveLength(0);
  });

  it('refuses a wrong or missing signature with 401 before reading further: nothing stored or fetched', async () => {
    const update = fake.userSends(bot, ivan, { text: 'forged', photo: Buffer.from('forged pic') });
    bot.pending.pop();
    const fetches = fake.callsOf('getFile', bot).length;
    expect(await fake.post(genericUrl(channel.id), update, 'wrong-secret')).toBe(401);
    expect(await fake.post(genericUrl(channel.id), update, null)).toBe(401);
    // Not JSON and not signed: still 401, not a 400 that tells a stranger about the body.
    expect((await postRaw(genericUrl(channel.id), '{not json', 'wrong-secret')).status).toBe(401);
    expect(await fake.post(genericUrl('00000000-0000-4000-8000-000000000000'), update, secret)).toBe(401);
    expect(await clientTexts(world.server, channel.id)).not.toContain('forged');
    expect(fake.callsOf('getFile', bot)).toHaveLength(fetches);
  });

  it('acknowledges a signed body that is not JSON, or not an update, and logs it (the platform would redeliver a refusal)', async () => {
    const warn = vi.spyOn(world.server.ctx.log, 'warn');
    try {
      const notJson = await postRaw(genericUrl(channel.id), '{not json', secret);
      expect(notJson.status).toBe(200);
      const notUpdate = await postRaw(genericUrl(channel.id), JSON.stringify({ hello: 1 }), secret);
      expect(notUpdate.status).toBe(200);
      const reasons = warn.mock.calls
        .filter(([fields]) => (fields as { channelId?: string } | undefined)?.channelId === channel.id)
        .map(([fields]) => JSON.stringify(fields));
      expect(reasons.some((reason) => reason.includes('is not valid JSON'))).toBe(true);
      expect(reasons.some((reason) => reason.includes('update_id') || reason.includes('unreadable'))).toBe(
        true,
      );
    } finally {
      warn.mockRestore();
    }
  });

  it('fetches no file again for an item already stored', async () => {
    const update = fake.userSends(bot, ivan, { text: 'with a file', photo: Buffer.from('once') });
    bot.pending.pop();
    expect(await fake.post(genericUrl(channel.id), update, secret)).toBe(200);
    const fetches = fake.callsOf('getFile', bot).length;
    expect(await fake.post(genericUrl(channel.id), update, secret)).toBe(200);
    expect(await fake.post(`${world.server.url}/api/v1/telegram/webhook/${channel.id}`, update, secret)).toBe(
      200,
    );
    expect(fake.callsOf('getFile', bot)).toHaveLength(fetches);
    expect(
      (await clientTexts(world.server, channel.id)).filter((text) => text === 'with a file'),
    ).toHaveLength(1);
  });

  it('refuses channels whose connector does not verify webhooks (the API channel, the widget)', async () => {
    const { channel: api } = await world.admin.channels.create({
      kind: 'api',
      name: 'API generic',
      lineId: world.line.id,
      settings: { webhookUrl: 'https://example.test/hook' },
    });
    const { channel: widget } = await world.admin.channels.create({
      kind: 'widget',
      name: 'Widget generic',
      lineId: world.line.id,
      settings: { allowedDomains: ['shop.example.test'] },
    });
    const body = JSON.stringify({ externalId: 'm1', user: { id: 'u1' }, text: 'sneaky' });
    for (const other of [api, widget]) {
      expect((await postRaw(genericUrl(other.id), body, secret)).status).toBe(401);
      expect(await clientTexts(world.server, other.id)).toEqual([]);
    }
    // The Telegram alias finds Telegram channels only.
    const update = fake.userSends(bot, ivan, { text: 'wrong door' });
    bot.pending.pop();
    expect(await fake.post(`${world.server.url}/api/v1/telegram/webhook/${api.id}`, update, secret)).toBe(
      401,
    );
  });
});
