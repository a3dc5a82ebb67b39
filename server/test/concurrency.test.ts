import { ApiChannelSender } from '@openlines/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngineWorld, type EngineWorld, workspaceOf } from './engine-fixture';
import { createTestServer, signIn, type TestServer, usingPostgres, usingRedis } from './harness';

// 200 sessions arrive at once for 10 operators with a limit of 3. No session ever has two
// operators and no operator ever holds more than 3, checked by replaying the stored transitions;
// the rest are assigned as capacity frees. With PostgreSQL + Redis the messages arrive through two
// server processes on one database; PGlite (one process by nature) runs the same load through one.

const SESSIONS = 200;
const OPERATORS = 10;
const LIMIT = 3;

let world: EngineWorld;
let second: TestServer | null = null;
const twoProcesses = usingPostgres && usingRedis;

beforeAll(async () => {
  world = await createEngineWorld({
    operatorCount: OPERATORS,
    settings: { queue: { distribution: 'evenly', maxChat: LIMIT, typeMaxChat: 'closed' } },
    server: twoProcesses ? { busNamespace: 'concurrency' } : {},
  });
  if (twoProcesses) {
    second = await createTestServer({
      databaseUrl: world.server.databaseUrl,
      busNamespace: 'concurrency',
      clock: world.clock,
      workers: false,
    });
  }
  await world.online(...world.operators);
}, 120_000);

afterAll(async () => {
  await second?.stop();
  await world?.stop();
});

interface Transition {
  id: number;
  session_id: string;
  from_status: string | null;
  to_status: string;
  operator_id: string | null;
}

/** Replays transitions in insertion order (taken under the line lock) and checks the invariants. */
function replay(transitions: Transition[]) {
  const holder = new Map<string, string | null>();
  const load = new Map<string, number>();
  let maxLoad = 0;
  let doubleAssignments = 0;
  for (const t of transitions) {
    const previous = holder.get(t.session_id) ?? null;
    const holds = ['assigned', 'answered', 'client_waiting'].includes(t.to_status) ? t.operator_id : null;
    if (previous && holds && previous !== holds && t.from_status === 'queued') doubleAssignments += 1;
    if (previous) load.set(previous, (load.get(previous) ?? 0) - 1);
    if (holds) {
      load.set(holds, (load.get(holds) ?? 0) + 1);
      maxLoad = Math.max(maxLoad, load.get(holds)!);
    }
    holder.set(t.session_id, holds);
  }
  return { maxLoad, doubleAssignments, holder };
}

async function transitions(): Promise<Transition[]> {
  return world.server.ctx.store.db
    .selectFrom('session_transitions')
    .select(['id', 'session_id', 'from_status', 'to_status', 'operator_id'])
    .orderBy('id')
    .execute();
}

describe(`${SESSIONS} sessions for ${OPERATORS} operators with a limit of ${LIMIT}`, () => {
  it('are never double-assigned nor over the limit, and all are served as capacity frees', async () => {
    const token = (world.sender as unknown as { channelToken: string }).channelToken;
    const senders = [world.sender, ...(second ? [new ApiChannelSender(second.url, token)] : [])];
    const results = await Promise.all(
      Array.from({ length: SESSIONS }, (_, i) =>
        senders[i % senders.length]!.send({
          externalId: `burst-${i}`,
          user: { id: `burst-client-${i}` },
          text: `question ${i}`,
        }),
      ),
    );
    expect(new Set(results.map((r) => r.sessionId)).size).toBe(SESSIONS);

    let check = replay(await transitions());
    expect(check.doubleAssignments).toBe(0);
    expect(check.maxLoad).toBe(LIMIT);
    const heldNow = [...check.holder.values()].filter(Boolean).length;
    expect(heldNow).toBe(OPERATORS * LIMIT);

    // Operators close what they hold, through both processes, until every session was served.
    const servers = [world.server, ...(second ? [second] : [])];
    const closers = await Promise.all(
      world.operators.map(async (operator, index) => {
        const server = servers[index % servers.length]!;
        if (server === world.server) return operator.ws.dialogs;
        return workspaceOf(await signIn(server, { email: operator.email, password: operator.password }))
          .dialogs;
      }),
    );
    let closed = 0;
    while (closed < SESSIONS) {
      const batch = await Promise.all(
        closers.map(async (dialogs) => {
          const mine = await dialogs.list({ view: 'mine', limit: 200 });
          await Promise.all(mine.items.map((dialog) => dialogs.close(dialog.id)));
          return mine.items.length;
        }),
      );
      const round = batch.reduce((a, b) => a + b, 0);
      expect(round).toBeGreaterThan(0);
      closed += round;
    }
    expect(closed).toBe(SESSIONS);

    check = replay(await transitions());
    expect(check.doubleAssignments).toBe(0);
    expect(check.maxLoad).toBe(LIMIT);
    const sessions = await world.server.ctx.store.db.selectFrom('sessions').select('status').execute();
    expect(sessions.every((s) => s.status === 'closed')).toBe(true);
  }, 180_000);
});
