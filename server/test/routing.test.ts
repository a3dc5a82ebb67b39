import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngineWorld, type EngineWorld } from './engine-fixture';
import { problemOf } from './harness';

// Routing through real HTTP: API channel in, sessions assigned by the line's rules, the queue
// timeout passing a session on (Q-2..Q-6), on PGlite or PostgreSQL by environment.

describe('evenly with queue timeout', () => {
  let world: EngineWorld;
  beforeAll(async () => {
    world = await createEngineWorld({
      settings: { queue: { distribution: 'evenly', queueTimeSeconds: 60 } },
    });
  });
  afterAll(async () => world?.stop());

  it('queues a session while nobody is online and delegates it when an operator comes online', async () => {
    const intake = await world.clientSays('alice', 'Hello, is anyone there?');
    expect(intake.duplicate).toBe(false);
    const waiting = await world.admin.dialogs.get(intake.dialogId);
    expect(waiting.session?.status).toBe('queued');
    expect(waiting.session?.operatorId).toBeNull();

    const [first] = world.operators;
    await world.online(first!);
    const assigned = await world.admin.dialogs.get(intake.dialogId);
    expect(assigned.session).toMatchObject({ status: 'assigned', operatorId: first!.id });
  });

  it('stores a redelivered message once', async () => {
    const once = await world.clientSays('bob', 'Same message', 'ext-42');
    const again = await world.clientSays('bob', 'Same message', 'ext-42');
    expect(again).toEqual({ ...once, duplicate: true });
    const messages = await world.admin.dialogs.messages(once.dialogId);
    expect(messages.filter((m) => m.externalId === 'ext-42')).toHaveLength(1);
  });

  it('passes an unanswered session to the next operator, never back, then waits', async () => {
    const [a, b, c] = world.operators;
    await world.online(b!, c!);
    const intake = await world.clientSays('carol', 'Need help');
    const holders: (string | null)[] = [];
    for (let round = 0; round < 4; round++) {
      const dialog = await world.admin.dialogs.get(intake.dialogId);
      holders.push(dialog.session?.operatorId ?? null);
      world.clock.advance(61_000);
      await world.server.workers.timers.runOnce();
    }
    // Three different operators, each once, then nobody: the session waits in the queue.
    const firstThree = holders.slice(0, 3);
    expect(new Set(firstThree).size).toBe(3);
    expect(firstThree.every((id) => [a!.id, b!.id, c!.id].includes(id!))).toBe(true);
    const after = await world.admin.dialogs.get(intake.dialogId);
    expect(after.session?.status).toBe('queued');
    const transitions = await world.admin.dialogs.transitions(intake.dialogId);
    expect(transitions.filter((t) => t.reason === 'queue_timeout')).toHaveLength(3);
  });

  it('refuses to take a dialog that is not waiting with 409', async () => {
    const [a] = world.operators;
    const intake = await world.clientSays('dave', 'hi');
    const dialog = await world.admin.dialogs.get(intake.dialogId);
    const holder = world.operators.find((o) => o.id === dialog.session?.operatorId) ?? a!;
    const error = await problemOf(holder.ws.dialogs.take(intake.dialogId));
    expect(error.status).toBe(409);
    expect(error.code).toBe('invalid_state');
  });
});

describe('limits and the waiting queue (Q-5, Q-6)', () => {
  let world: EngineWorld;
  beforeAll(async () => {
    world = await createEngineWorld({
      operatorCount: 2,
      settings: { queue: { distribution: 'evenly', maxChat: 2, typeMaxChat: 'closed' } },
    });
  });
  afterAll(async () => world?.stop());

  it('never gives an operator more than the limit, and delegates as capacity frees', async () => {
    await world.online(...world.operators);
    const intakes = [];
    for (let i = 0; i < 6; i++) intakes.push(await world.clientSays(`client-${i}`, `question ${i}`));
    const dialogs = await Promise.all(intakes.map((i) => world.admin.dialogs.get(i.dialogId)));
    const load = new Map<string, number>();
    for (const d of dialogs)
      if (d.session?.operatorId) load.set(d.session.operatorId, (load.get(d.session.operatorId) ?? 0) + 1);
    expect([...load.values()]).toEqual([2, 2]);
    expect(dialogs.filter((d) => d.session?.status === 'queued')).toHaveLength(2);

    // Closing one frees a place: the oldest waiting session goes to that operator at once.
    const held = dialogs.find((d) => d.session?.status === 'assigned')!;
    const holder = world.operators.find((o) => o.id === held.session!.operatorId)!;
    await holder.ws.dialogs.close(held.id);
    const oldestWaiting = dialogs.find((d) => d.session?.status === 'queued')!;
    const now = await world.admin.dialogs.get(oldestWaiting.id);
    expect(now.session).toMatchObject({ status: 'assigned', operatorId: holder.id });
  });
});

describe('evenly weighs every dialog an operator holds (Q-2)', () => {
  it('an operator holding 4 answered dialogs is busier than one holding 1 new dialog, under the default TYPE_MAX_CHAT', async () => {
    // The default TYPE_MAX_CHAT ('answered') does not count answered dialogs toward MAX_CHAT; the
    // load evenly weighs must count them all the same.
    const world = await createEngineWorld({
      operatorCount: 2,
      settings: { queue: { distribution: 'evenly' } },
    });
    try {
      const [busy, light] = world.operators;
      await world.online(busy!);
      for (let i = 0; i < 4; i++) {
        const intake = await world.clientSays(`held-${i}`, 'hello');
        expect((await world.admin.dialogs.get(intake.dialogId)).session?.operatorId).toBe(busy!.id);
        await busy!.ws.dialogs.send(intake.dialogId, { text: 'On it' });
        expect((await world.admin.dialogs.get(intake.dialogId)).session?.status).toBe('answered');
      }
      world.clock.advance(60_000);
      await world.online(light!);
      const lightsOwn = await world.clientSays('light-1', 'hello');
      expect((await world.admin.dialogs.get(lightsOwn.dialogId)).session?.operatorId).toBe(light!.id);

      // 4 answered against 1 unanswered: the next ones go to the operator holding fewer…
      const holderOf = async (name: string) =>
        (await world.admin.dialogs.get((await world.clientSays(name, 'hello')).dialogId)).session?.operatorId;
      for (const name of ['second', 'third', 'fourth']) expect(await holderOf(name)).toBe(light!.id);
      // …at 4 against 4, to whoever has been handling theirs for less time (Q-2's handling time)…
      expect(await holderOf('fifth')).toBe(light!.id);
      // …and at 4 against 5, back to the operator holding fewer.
      expect(await holderOf('sixth')).toBe(busy!.id);
    } finally {
      await world.stop();
    }
  });
});

describe('strictly and all', () => {
  it('strictly hands sessions round-robin in queue order', async () => {
    const world = await createEngineWorld({ settings: { queue: { distribution: 'strictly' } } });
    try {
      await world.online(...world.operators);
      const order: string[] = [];
      for (let i = 0; i < 6; i++) {
        const intake = await world.clientSays(`rr-${i}`, 'hi');
        order.push((await world.admin.dialogs.get(intake.dialogId)).session!.operatorId!);
      }
      const ids = world.operators.map((o) => o.id);
      expect(order).toEqual([...ids, ...ids]);
    } finally {
      await world.stop();
    }
  });

  it('all offers to everyone; the first to take it gets it and it leaves the others', async () => {
    const world = await createEngineWorld({ settings: { queue: { distribution: 'all' } } });
    try {
      const [a, b, c] = world.operators;
      await world.online(a!, b!, c!);
      const intake = await world.clientSays('offer-1', 'hi all');
      const offered = await world.admin.dialogs.get(intake.dialogId);
      expect(offered.session?.status).toBe('queued');
      expect(new Set(offered.session?.offeredTo)).toEqual(new Set([a!.id, b!.id, c!.id]));
      const taken = await b!.ws.dialogs.take(intake.dialogId);
      expect(taken.session).toMatchObject({ status: 'assigned', operatorId: b!.id, offeredTo: [] });
      const late = await problemOf(c!.ws.dialogs.take(intake.dialogId));
      expect(late.status).toBe(409);
      const queueOfC = await c!.ws.dialogs.list({ view: 'queue' });
      expect(queueOfC.items.map((d) => d.id)).not.toContain(intake.dialogId);
    } finally {
      await world.stop();
    }
  });
});

describe('availability (Q-4)', () => {
  it('skips away, absent and deactivated operators when the line checks availability', async () => {
    const world = await createEngineWorld({
      settings: { queue: { distribution: 'evenly', checkAvailable: true } },
    });
    try {
      const [a, b, c] = world.operators;
      await world.online(a!, b!, c!);
      await a!.client.auth.setPresence('away');
      const now = world.clock.now().getTime();
      await world.admin.client.users.createAbsence(b!.id, {
        startsAt: new Date(now - 3_600_000).toISOString(),
        endsAt: new Date(now + 3_600_000).toISOString(),
      });
      const intake = await world.clientSays('avail', 'hi');
      expect((await world.admin.dialogs.get(intake.dialogId)).session?.operatorId).toBe(c!.id);
      await world.admin.client.users.deactivate(c!.id);
      // The dismissed operator's dialog goes back to the queue (nobody else is available).
      const released = await world.admin.dialogs.get(intake.dialogId);
      expect(released.session).toMatchObject({ status: 'queued', operatorId: null });
      const next = await world.clientSays('avail-2', 'hi');
      expect((await world.admin.dialogs.get(next.dialogId)).session?.status).toBe('queued');
    } finally {
      await world.stop();
    }
  });
});
