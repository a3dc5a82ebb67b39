import type { OpenlinesEvent } from '@openlines/contract';
import type { OpenlinesClient } from '@openlines/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createAccount } from '../src/services/accounts';
import { runInTransaction } from '../src/services/transaction';
import {
  createSignedInUser,
  createTestServer,
  openRealtime,
  type SignedInUser,
  signIn,
  TEST_PASSWORD,
  type TestServer,
  uniqueEmail,
  waitFor,
} from './harness';
import { startTcpProxy, type TcpProxy } from './tcp-proxy';

interface Handshake {
  status: number;
  body: string;
  firstFrame?: unknown;
}

/** Opens a raw WebSocket and reports how the handshake ended (and the first frame if it opened). */
function handshake(url: string, headers: Record<string, string> = {}): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    socket.on('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    socket.on('message', (data: Buffer) => {
      resolve({ status: 101, body: '', firstFrame: JSON.parse(data.toString()) });
      socket.close();
    });
    socket.on('error', (error) => {
      if (!error.message.includes('Unexpected server response')) reject(error);
    });
  });
}

let server: TestServer;
let admin: OpenlinesClient;
let wsUrl: string;

beforeAll(async () => {
  server = await createTestServer();
  admin = await signIn(server);
  wsUrl = `${server.url.replace(/^http/, 'ws')}/api/v1/ws`;
});
afterAll(async () => server?.stop());

/** Causes one event visible to the whole account. */
let counter = 0;
async function causeEvent(client: OpenlinesClient = admin): Promise<void> {
  counter += 1;
  await client.departments.create({ name: `Department ${counter}` });
}

const cursors = (events: OpenlinesEvent[]) => events.map((e) => e.cursor);

describe('WebSocket authentication', () => {
  it('rejects a socket without credentials', async () => {
    const result = await handshake(wsUrl);
    expect(result.status).toBe(401);
    expect(JSON.parse(result.body)).toMatchObject({ code: 'unauthenticated' });
  });

  it('rejects a dead session cookie and a wrong token', async () => {
    expect((await handshake(wsUrl, { cookie: 'ol_session=forged' })).status).toBe(401);
    expect((await handshake(wsUrl, { authorization: 'Bearer olt_forged' })).status).toBe(401);
  });

  it('rejects a session cookie sent from a foreign Origin', async () => {
    const result = await handshake(wsUrl, {
      cookie: `ol_session=${admin.sessionCookie}`,
      origin: 'https://evil.example',
    });
    expect(result.status).toBe(403);
    expect(JSON.parse(result.body)).toMatchObject({ code: 'forbidden' });
  });

  it('accepts a session cookie from its own origin, and an API token from anywhere', async () => {
    const me = await admin.auth.me();
    const own = await handshake(wsUrl, { cookie: `ol_session=${admin.sessionCookie}`, origin: server.url });
    expect(own).toMatchObject({ status: 101, firstFrame: { kind: 'hello', userId: me.user.id } });
    const { token } = await admin.apiTokens.create({ name: 'socket' });
    const bot = await handshake(wsUrl, { authorization: `Bearer ${token}`, origin: 'https://bot.example' });
    expect(bot).toMatchObject({ status: 101, firstFrame: { kind: 'hello', userId: me.user.id } });
  });

  it('rejects a bad resume cursor naming it', async () => {
    const result = await handshake(`${wsUrl}?after=-1`, { cookie: `ol_session=${admin.sessionCookie}` });
    expect(result.status).toBe(400);
    expect(JSON.parse(result.body).errors).toEqual([expect.objectContaining({ field: 'query.after' })]);
  });
});

describe('cursor resume', () => {
  let operator: SignedInUser;
  beforeAll(async () => {
    operator = await createSignedInUser(server, admin);
  });

  it('replays exactly the events missed between two connections', async () => {
    const first = openRealtime(operator.client);
    await first.realtime.once('open');
    for (let i = 0; i < 3; i++) await causeEvent();
    await waitFor(() => first.events.length === 3, 'three live events');
    const seen = cursors(first.events);
    expect(seen[1]).toBe(seen[0]! + 1);
    expect(seen[2]).toBe(seen[1]! + 1);
    expect(first.realtime.cursor).toBe(seen[2]);
    first.realtime.close();
    await first.realtime.once('close');

    for (let i = 0; i < 4; i++) await causeEvent();
    const second = openRealtime(operator.client, { after: first.realtime.cursor! });
    await second.realtime.once('replayed');
    expect(cursors(second.events)).toEqual([1, 2, 3, 4].map((n) => seen[2]! + n));
    expect(second.events.every((e) => e.type === 'department.changed')).toBe(true);

    // Live events continue after the replay, without gaps or repeats.
    await causeEvent();
    await waitFor(() => second.events.length === 5, 'the live event after the replay');
    expect(cursors(second.events)).toEqual([1, 2, 3, 4, 5].map((n) => seen[2]! + n));
    second.realtime.close();
  });

  it('reconnects by itself after a network loss and resumes without duplicates', async () => {
    const proxy: TcpProxy = await startTcpProxy(server.url);
    try {
      const viaProxy = await signIn(
        server,
        { email: operator.email, password: operator.password },
        {
          baseUrl: proxy.url,
        },
      );
      const live = openRealtime(viaProxy);
      const opens: number[] = [];
      live.realtime.on('open', ({ cursor }) => opens.push(cursor));
      await waitFor(() => opens.length === 1, 'the first connection');
      await causeEvent();
      await causeEvent();
      await waitFor(() => live.events.length === 2, 'two live events');

      proxy.cut();
      await waitFor(() => live.closes.length >= 1, 'the client to notice the network loss');
      expect(live.closes[0]!.reconnecting).toBe(true);
      expect(live.realtime.connected).toBe(false);
      for (let i = 0; i < 3; i++) await causeEvent();

      proxy.restore();
      await waitFor(() => live.events.length === 5, 'the missed events after reconnecting');
      await causeEvent();
      await waitFor(() => live.events.length === 6, 'a live event after reconnecting');
      const got = cursors(live.events);
      expect(got).toEqual(got.map((_, i) => got[0]! + i));
      expect(opens.length).toBeGreaterThanOrEqual(2);
      live.realtime.close();
    } finally {
      await proxy.close();
    }
  });

  it('delivers to each user only what they may see, live and on replay, and the cursor moves past the rest', async () => {
    const me = await admin.auth.me();
    const live = openRealtime(operator.client);
    await live.realtime.once('open');
    // An event meant for the administrator only, then one for everyone.
    await runInTransaction(server.ctx, async ({ events }) => {
      events.emit(
        me.account.id,
        'role.changed',
        { roleId: me.user.roleId, deleted: false },
        { users: [me.user.id] },
      );
    });
    await causeEvent();
    await waitFor(() => live.events.length === 1, 'the event for everyone');
    expect(live.events[0]).toMatchObject({ type: 'department.changed' });
    const publicCursor = live.events[0]!.cursor;
    live.realtime.close();

    const replay = openRealtime(operator.client, { after: publicCursor - 2 });
    const replayed = await replay.realtime.once('replayed');
    expect(replay.events.map((e) => e.cursor)).toEqual([publicCursor]);
    expect(replayed.cursor).toBeGreaterThanOrEqual(publicCursor);
    replay.realtime.close();

    const asAdmin = openRealtime(admin, { after: publicCursor - 2 });
    await asAdmin.realtime.once('replayed');
    expect(asAdmin.events.map((e) => e.type)).toEqual(['role.changed', 'department.changed']);
    asAdmin.realtime.close();
  });

  it('never crosses accounts', async () => {
    const email = uniqueEmail('elsewhere');
    await createAccount(server.ctx, {
      accountName: 'Elsewhere',
      admin: { email, name: 'Elsewhere admin', password: TEST_PASSWORD },
    });
    const elsewhere = await signIn(server, { email, password: TEST_PASSWORD });
    const theirs = openRealtime(elsewhere);
    const hello = await theirs.realtime.once('open');
    await causeEvent();
    await elsewhere.departments.create({ name: 'Their department' });
    await waitFor(() => theirs.events.length === 1, 'their own event');
    expect(theirs.events[0]).toMatchObject({ cursor: hello.cursor + 1, type: 'department.changed' });
    // Resuming from the start of their stream replays their events only.
    const again = openRealtime(elsewhere, { after: 0 });
    await again.realtime.once('replayed');
    expect(again.events.map((e) => e.cursor)).toEqual([hello.cursor + 1]);
    theirs.realtime.close();
    again.realtime.close();
  });
});
