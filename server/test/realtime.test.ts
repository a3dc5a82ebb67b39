import type { OpenlinesEvent } from '@openlines/contract';
import type { OpenlinesClient } from '@openlines/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createAccount } from '../src/services/accounts';
import { runInTransaction } from '../src/services/transaction';
import {
  aboutDepartment,
  clientOf,
  createSignedInUser,
  createTestServer,
  departmentsIn,
  openRealtime,
  type SignedInUser,
  signIn,
  storedEvents,
  TEST_PASSWORD,
  type TestServer,
  uniqueEmail,
  waitFor,
  waitForEvent,
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

/** Causes one event visible to the whole account; returns the department it names. */
let counter = 0;
async function causeEvent(client: OpenlinesClient = admin): Promise<string> {
  counter += 1;
  const department = await client.departments.create({ name: `Department ${counter}` });
  return department.id;
}

/** Waits until a stream has delivered the event about `departmentId`; returns that event's cursor. */
async function seen(events: OpenlinesEvent[], departmentId: string): Promise<number> {
  return (await waitForEvent(events, aboutDepartment(departmentId), `the event of ${departmentId}`)).cursor;
}

/** The events stored in (after, upTo] of the first account. */
async function stored(after: number, upTo: number): Promise<OpenlinesEvent[]> {
  return storedEvents(server, (await admin.auth.me()).account.id, after, upTo);
}

/** Connecting and disconnecting sockets adds presence events; cursors still never repeat or go back. */
function expectIncreasing(events: OpenlinesEvent[]): void {
  const cursors = events.map((e) => e.cursor);
  expect(cursors).toEqual([...new Set(cursors)].sort((a, b) => a - b));
}

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

  it('lets the SDK stop, not retry forever, when its token is revoked', async () => {
    const created = await admin.apiTokens.create({ name: 'short-lived bot' });
    await admin.apiTokens.revoke(created.apiToken.id);
    const live = openRealtime(clientOf(server, { token: created.token }));
    const close = await live.realtime.once('close');
    expect(close).toEqual({ code: 4401, reason: 'not signed in', reconnecting: false });
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
    const before = [await causeEvent(), await causeEvent(), await causeEvent()];
    await seen(first.events, before[2]!);
    expect(departmentsIn(first.events)).toEqual(before);
    expectIncreasing(first.events);
    first.realtime.close();
    await first.realtime.once('close');
    const lastSeen = first.realtime.cursor!;
    expect(lastSeen).toBe(first.events.at(-1)!.cursor);

    const missed = [];
    for (let i = 0; i < 4; i++) missed.push(await causeEvent());
    const second = openRealtime(operator.client, { after: lastSeen });
    await second.realtime.once('replayed');
    const marker = await causeEvent();
    const markerCursor = await seen(second.events, marker);

    // Exactly what was stored after the last cursor seen, then live events, without repeats.
    expect(second.events.filter((e) => e.cursor <= markerCursor)).toEqual(
      await stored(lastSeen, markerCursor),
    );
    expect(departmentsIn(second.events)).toEqual([...missed, marker]);
    expectIncreasing(second.events);
    second.realtime.close();
  });

  it('reconnects by itself after a network loss and resumes without duplicates', async () => {
    const proxy: TcpProxy = await startTcpProxy(server.url);
    try {
      const credentials = { email: operator.email, password: operator.password };
      const viaProxy = await signIn(server, credentials, { baseUrl: proxy.url });
      const live = openRealtime(viaProxy);
      const opens: number[] = [];
      live.realtime.on('open', ({ cursor }) => opens.push(cursor));
      await waitFor(() => opens.length === 1, 'the first connection');
      const before = [await causeEvent(), await causeEvent()];
      await seen(live.events, before[1]!);

      proxy.cut();
      await waitFor(() => live.closes.length >= 1, 'the client to notice the network loss');
      expect(live.closes[0]!.reconnecting).toBe(true);
      expect(live.realtime.connected).toBe(false);
      const missed = [await causeEvent(), await causeEvent(), await causeEvent()];

      proxy.restore();
      await waitFor(() => opens.length >= 2, 'the reconnection');
      const marker = await causeEvent();
      const markerCursor = await seen(live.events, marker);
      expect(departmentsIn(live.events)).toEqual([...before, ...missed, marker]);
      expect(live.events.filter((e) => e.cursor <= markerCursor)).toEqual(
        await stored(opens[0]!, markerCursor),
      );
      expectIncreasing(live.events);
      live.realtime.close();
    } finally {
      await proxy.close();
    }
  });

  it('delivers to each user only what they may see, live and on replay, and the cursor moves past the rest', async () => {
    const me = await admin.auth.me();
    const live = openRealtime(operator.client);
    const { cursor: start } = await live.realtime.once('open');
    // An event meant for the administrator only, then one for everyone.
    await runInTransaction(server.ctx, async ({ events }) => {
      events.emit(
        me.account.id,
        'role.changed',
        { roleId: me.user.roleId, deleted: false },
        { users: [me.user.id] },
      );
    });
    const marker = await causeEvent();
    const markerCursor = await seen(live.events, marker);
    const restricted = (await stored(start, markerCursor)).find((e) => e.type === 'role.changed')!;
    expect(live.events.map((e) => e.type)).not.toContain('role.changed');
    live.realtime.close();

    const from = restricted.cursor - 1;
    const replay = openRealtime(operator.client, { after: from });
    const replayed = await replay.realtime.once('replayed');
    const visible = (await stored(from, markerCursor)).filter((e) => e.type !== 'role.changed');
    expect(replay.events.filter((e) => e.cursor <= markerCursor)).toEqual(visible);
    expect(replayed.cursor).toBeGreaterThanOrEqual(markerCursor);
    expect(replay.realtime.cursor).toBeGreaterThanOrEqual(markerCursor);
    replay.realtime.close();

    const asAdmin = openRealtime(admin, { after: from });
    await asAdmin.realtime.once('replayed');
    expect(asAdmin.events.filter((e) => e.cursor <= markerCursor)).toEqual(await stored(from, markerCursor));
    expect(asAdmin.events[0]).toEqual(restricted);
    asAdmin.realtime.close();
  });

  it('never crosses accounts', async () => {
    const email = uniqueEmail('elsewhere');
    const created = await createAccount(server.ctx, {
      accountName: 'Elsewhere',
      admin: { email, name: 'Elsewhere admin', password: TEST_PASSWORD },
    });
    const elsewhere = await signIn(server, { email, password: TEST_PASSWORD });
    const theirs = openRealtime(elsewhere);
    await theirs.realtime.once('open');
    await causeEvent();
    const their = (await elsewhere.departments.create({ name: 'Their department' })).id;
    await seen(theirs.events, their);
    expect(departmentsIn(theirs.events)).toEqual([their]);

    // Their cursors are their own, from 1; resuming from the start replays their events only.
    const again = openRealtime(elsewhere, { after: 0 });
    await again.realtime.once('replayed');
    expect(again.events).toEqual(await storedEvents(server, created.account.id, 0, again.realtime.cursor!));
    expect(again.events[0]!.cursor).toBe(1);
    expect(departmentsIn(again.events)).toEqual([their]);
    theirs.realtime.close();
    again.realtime.close();
  });
});
