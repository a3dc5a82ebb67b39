import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Channel } from '@openlines/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../src/core/clock';
import { dropPostgresDatabase, ensurePostgresDatabase } from '../src/store/database';
import { createEngineWorld, type EngineWorld, workspaceOf } from './engine-fixture';
import {
  clientTexts,
  createTestServer,
  isolatedDatabaseUrl,
  signIn,
  type TestServer,
  usingPostgres,
  waitFor,
} from './harness';
import { type FakeBot, FakeBotApi } from './peers/telegram/fake-bot-api';

// Telegram long polling as it runs in production: across a restart (the offset is durable), and
// live, with the worker's own long-poll loop that a disconnect stops (LN-5).

const fake = new FakeBotApi();
const cleanups: (() => Promise<void>)[] = [];
/** Both servers of a restart must read the same encrypted secrets. */
const SECRET_KEY = 'telegram-polling-test-secret-key-0123456789';

beforeAll(() => fake.start());
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await fake.stop();
});

/** Where the data lives across the restart: a PGlite directory, or a PostgreSQL database. */
async function durableStorage(): Promise<{ databaseUrl: string } | { dataDir: string }> {
  if (usingPostgres) {
    const databaseUrl = isolatedDatabaseUrl()!;
    await ensurePostgresDatabase(databaseUrl);
    cleanups.push(() => dropPostgresDatabase(databaseUrl));
    return { databaseUrl };
  }
  const dataDir = await mkdtemp(path.join(tmpdir(), 'openlines-telegram-'));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  return { dataDir };
}

async function connect(world: Pick<EngineWorld, 'admin' | 'line'>, bot: FakeBot): Promise<Channel> {
  const { channel } = await world.admin.channels.create({
    kind: 'telegram',
    name: 'Telegram',
    lineId: world.line.id,
    settings: { botToken: bot.token, apiRoot: fake.url, updates: 'polling' },
  });
  return channel;
}

/** The channel's client messages once there are `count` of them (fails after 15 s; not a timing assertion). */
async function storedTexts(server: TestServer, channelId: string, count: number): Promise<(string | null)[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const found = await clientTexts(server, channelId);
    if (found.length >= count) return found;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${count} messages, have ${found.length}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('polling across a restart', () => {
  it('resumes at the saved offset: nothing read twice, nothing skipped', async () => {
    const clock = new FakeClock('2026-03-02T10:00:00Z');
    const storage = await durableStorage();
    const env = { SECRET_KEY };
    const server = await createTestServer({ clock, workers: false, ...storage, env });
    const admin = workspaceOf(await signIn(server));
    const line = await admin.lines.create({ name: 'Support' });
    const bot = fake.createBot();
    const ivan = fake.user({ first_name: 'Ivan' });
    const channel = await connect({ admin, line }, bot);
    const first = fake.userSends(bot, ivan, { text: 'before the restart' });
    expect(await server.workers.telegram.pollOnce(channel.id)).toMatchObject({ stored: 1 });
    await server.stop();

    // Telegram keeps the update until a getUpdates with a higher offset confirms it.
    expect(bot.pending.map((u) => u.update_id)).toEqual([first.update_id]);
    fake.userSends(bot, ivan, { text: 'while we were down' });

    const restarted = await createTestServer({ clock, workers: false, ...storage, env });
    cleanups.push(() => restarted.stop());
    const report = await restarted.workers.telegram.pollOnce(channel.id);
    expect(fake.callsOf('getUpdates', bot).at(-1)?.params.offset).toBe(first.update_id + 1);
    expect(report).toMatchObject({ received: 1, stored: 1, duplicates: 0 });
    expect(await clientTexts(restarted, channel.id)).toEqual(['before the restart', 'while we were down']);
    // Two PGlite starts on disk: slow on a busy machine, not a timing assertion.
  }, 120_000);
});

describe('live long polling', () => {
  let world: EngineWorld;

  beforeAll(async () => {
    world = await createEngineWorld({ operatorCount: 1, server: { workers: true } });
    cleanups.push(() => world.stop());
  });

  it('receives messages as they come and stops polling when the channel is disconnected', async () => {
    const bot = fake.createBot();
    const anna = fake.user({ first_name: 'Anna' });
    const channel = await connect(world, bot);
    const worker = world.server.workers.telegram;

    // The channel's creation wakes the worker; its getUpdates waits at the peer for updates.
    await waitFor(() => fake.isPolling(bot), 'a long poll');
    fake.userSends(bot, anna, { text: 'live one' });
    expect(await storedTexts(world.server, channel.id, 1)).toEqual(['live one']);

    await world.admin.channels.update(channel.id, { status: 'disconnected' });
    await waitFor(() => worker.polling.length === 0 && !fake.isPolling(bot), 'polling to stop');
    const missed = fake.userSends(bot, anna, { text: 'while disconnected' });
    await worker.syncOnce();
    expect(worker.polling).toEqual([]);
    // A getUpdates sent just before the abort may still reach the peer; none stays waiting, and the
    // update stays with Telegram, unconfirmed and not stored. (So may 'live one', if the getUpdates
    // that would have confirmed it was the aborted one: it comes again and is found stored.)
    await waitFor(() => !fake.isPolling(bot), 'no long poll left');
    expect(bot.pending.map((u) => u.update_id)).toContain(missed.update_id);
    expect(await clientTexts(world.server, channel.id)).toEqual(['live one']);

    // Connected again: the update Telegram kept arrives.
    await world.admin.channels.update(channel.id, { status: 'connected', lineId: world.line.id });
    expect(await storedTexts(world.server, channel.id, 2)).toEqual(['live one', 'while disconnected']);
  });
});
