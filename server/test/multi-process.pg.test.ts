import type { OpenlinesEvent } from '@openlines/contract';
import type { OpenlinesClient } from '@openlines/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  aboutDepartment,
  clientOf,
  createSignedInUser,
  createTestServer,
  departmentsIn,
  openRealtime,
  signIn,
  storedEvents,
  type TestServer,
  waitFor,
  waitForEvent,
} from './harness';
import { startServerProcess } from './server-process';

// Two server processes need a database and a bus they can share: PostgreSQL and Redis. PGlite is
// one process's file, so on the embedded setup there is nothing to share (CI runs both setups).
describe('two server processes on one PostgreSQL and one Redis', () => {
  let first: TestServer;
  let second: TestServer;
  let viaFirst: OpenlinesClient;
  let viaSecond: OpenlinesClient;

  beforeAll(async () => {
    // The production channel (no namespace), so that a real `npm start` process can join in.
    const busNamespace = '';
    first = await createTestServer({ busNamespace });
    second = await createTestServer({ databaseUrl: first.databaseUrl, busNamespace });
    viaFirst = await signIn(first);
    viaSecond = await signIn(second, first.admin);
  });
  afterAll(async () => {
    await second?.stop();
    await first?.stop();
  });

  it('share one database: the second process did not create another first account', async () => {
    expect(second.firstRun).toBeNull();
    const [a, b] = [await viaFirst.auth.me(), await viaSecond.auth.me()];
    expect(b.account.id).toBe(a.account.id);
  });

  it('deliver events caused on one process to sockets on the other, both ways', async () => {
    const onSecond = openRealtime(viaSecond);
    const onFirst = openRealtime(viaFirst);
    const [helloSecond, helloFirst] = await Promise.all([
      onSecond.realtime.once('open'),
      onFirst.realtime.once('open'),
    ]);

    const fromFirst = await viaFirst.departments.create({ name: 'Made on the first process' });
    const there = await waitForEvent(
      onSecond.events,
      aboutDepartment(fromFirst.id),
      "the first process's event",
    );
    expect(there).toMatchObject({
      type: 'department.changed',
      data: { departmentId: fromFirst.id, deleted: false },
    });

    const fromSecond = await viaSecond.departments.create({ name: 'Made on the second process' });
    const back = await waitForEvent(
      onFirst.events,
      aboutDepartment(fromSecond.id),
      "the second process's event",
    );
    await waitForEvent(
      onSecond.events,
      aboutDepartment(fromSecond.id),
      'its own event on the second process',
    );
    await waitForEvent(onFirst.events, aboutDepartment(fromFirst.id), 'its own event on the first process');

    // One account, one sequence of cursors, whichever process wrote the event: both sockets got
    // the same events with the same cursors.
    const from = Math.max(helloFirst.cursor, helloSecond.cursor);
    const window = (events: OpenlinesEvent[]) =>
      events.filter((e) => e.cursor > from && e.cursor <= back.cursor);
    expect(window(onFirst.events)).toEqual(window(onSecond.events));
    expect(departmentsIn(window(onFirst.events))).toEqual([fromFirst.id, fromSecond.id]);
    onFirst.realtime.close();
    onSecond.realtime.close();
  });

  it('resume on one process after events caused on the other', async () => {
    const accountId = (await viaFirst.auth.me()).account.id;
    const live = openRealtime(viaFirst);
    await live.realtime.once('open');
    const before = await viaFirst.departments.create({ name: 'Before the switch' });
    await waitForEvent(live.events, aboutDepartment(before.id), 'the first event');
    live.realtime.close();
    await live.realtime.once('close');
    const lastSeen = live.realtime.cursor!;

    const missed: string[] = [];
    for (let i = 0; i < 3; i++)
      missed.push((await viaFirst.departments.create({ name: `While away ${i}` })).id);
    const resumed = openRealtime(viaSecond, { after: lastSeen });
    await resumed.realtime.once('replayed');
    const marker = await viaFirst.departments.create({ name: 'After the switch' });
    const { cursor: markerCursor } = await waitForEvent(
      resumed.events,
      aboutDepartment(marker.id),
      'the marker',
    );
    expect(resumed.events.filter((e) => e.cursor <= markerCursor)).toEqual(
      await storedEvents(first, accountId, lastSeen, markerCursor),
    );
    expect(departmentsIn(resumed.events)).toEqual([...missed, marker.id]);
    resumed.realtime.close();
  });

  it('sign a deactivated user out on every process', async () => {
    const operator = await createSignedInUser(second, viaSecond);
    const live = openRealtime(operator.client);
    await live.realtime.once('open');
    await viaFirst.users.deactivate(operator.user.id);
    await waitFor(() => live.closes.length === 1, 'the socket on the second process to close');
    expect(live.closes[0]).toMatchObject({ code: 4401, reconnecting: false });
  });

  it('include a separate OS process started like `npm start`, which stops cleanly on SIGTERM', async () => {
    const process3 = await startServerProcess({
      DATABASE_URL: first.databaseUrl!,
      REDIS_URL: first.config.redisUrl!,
      // Login counters live in Redis per client address: every test server signs in from 127.0.0.1.
      LOGIN_RATE_LIMIT_PER_MINUTE: '100000',
    });
    try {
      const viaThird = clientOf({ url: process3.url });
      await viaThird.auth.login(first.admin);
      const onThird = openRealtime(viaThird);
      const onFirst = openRealtime(viaFirst);
      await Promise.all([onThird.realtime.once('open'), onFirst.realtime.once('open')]);

      const fromFirst = await viaFirst.departments.create({ name: 'Seen by the other process' });
      await waitForEvent(onThird.events, aboutDepartment(fromFirst.id), 'the event on the separate process');
      const fromThird = await viaThird.departments.create({ name: 'Made by the other process' });
      await waitForEvent(
        onFirst.events,
        aboutDepartment(fromThird.id),
        'the event from the separate process',
      );
      onThird.realtime.close();
      onFirst.realtime.close();
    } finally {
      expect(await process3.terminate()).toBe(0);
    }
  });
});
