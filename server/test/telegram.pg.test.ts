import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../src/core/clock';
import { dropPostgresDatabase, ensurePostgresDatabase } from '../src/store/database';
import { createEngineWorld } from './engine-fixture';
import { createTestServer, isolatedDatabaseUrl, type TestServer, waitFor } from './harness';
import { FakeBotApi } from './peers/telegram/fake-bot-api';

// Telegram long polling with two server processes on one PostgreSQL database: one poller per bot
// (the lease in channel_state), so Telegram never sees two getUpdates of one bot (409).

const fake = new FakeBotApi();
const cleanups: (() => Promise<void>)[] = [];

beforeAll(() => fake.start());
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await fake.stop();
});

async function texts(server: TestServer, channelId: string): Promise<(string | null)[]> {
  const rows = await server.ctx.store.db
    .selectFrom('messages')
    .select('text')
    .where('channel_id', '=', channelId)
    .where('author_kind', '=', 'client')
    .execute();
  return rows.map((row) => row.text);
}

describe('two server processes on one database', () => {
  it('only one of them polls a bot (a lease), and a message is stored once', async () => {
    const databaseUrl = isolatedDatabaseUrl()!;
    await ensurePostgresDatabase(databaseUrl);
    cleanups.push(() => dropPostgresDatabase(databaseUrl));
    // One clock and one key for both: leases are compared in its time, secrets read with the key.
    const clock = new FakeClock('2026-03-02T10:00:00Z');
    const shared = {
      databaseUrl,
      env: { SECRET_KEY: 'telegram-two-processes-secret-key-0123456789' },
      workers: true,
      busNamespace: `tg-2p-${Date.now()}`,
    };
    const world = await createEngineWorld({ clock, operatorCount: 1, server: shared });
    cleanups.push(() => world.stop());
    const second = await createTestServer({ ...shared, clock });
    cleanups.push(() => second.stop());

    const bot = fake.createBot();
    const { channel } = await world.admin.channels.create({
      kind: 'telegram',
      name: 'Telegram',
      lineId: world.line.id,
      settings: { botToken: bot.token, apiRoot: fake.url, updates: 'polling' },
    });
    await waitFor(() => fake.isPolling(bot), 'a long poll');
    // Both processes heard of the channel; a sync of each makes sure both tried.
    await second.workers.telegram.syncOnce();
    await world.server.workers.telegram.syncOnce();
    expect([...world.server.workers.telegram.polling, ...second.workers.telegram.polling]).toEqual([
      channel.id,
    ]);

    fake.userSends(bot, fake.user({ first_name: 'Petr' }), { text: 'one of you' });
    const deadline = Date.now() + 15_000;
    while ((await texts(second, channel.id)).length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await texts(second, channel.id)).toEqual(['one of you']);
    expect(fake.conflicts).toBe(0);
  });
});
