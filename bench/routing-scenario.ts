import { performance } from 'node:perf_hooks';
import type { SessionTransition } from '@openlines/contract';
import type { OpenlinesClient, Realtime } from '@openlines/sdk';
import { WebSocket } from 'ws';
import { DialogsApi } from '../sdk/src/api/conversations';
import { startWebhookSink } from './openlines';
import { startServerThread } from './server-thread';
import { createApiLine, createOperator, signInAdmin, signInOperator } from './setup';
import { drive } from './stats';

// The routing scenario (engine issue, "Done when"): sessions wait in a line's queue while nobody is
// online; then a shift of operators with a chat limit connects at once. How long until all their
// capacity is used, how many assignments per second, and — read back from the stored transitions —
// whether anyone was given more than the limit or any session was given twice.

export interface RoutingScenarioOptions {
  /** A fresh PostgreSQL database, or null for PGlite in memory. */
  databaseUrl: string | null;
  redisUrl: string | null;
  queued: number;
  operators: number;
  limit: number;
  log(line: string): void;
}

export interface RoutingScenarioResult {
  queued: number;
  operators: number;
  limit: number;
  /** Sessions assigned once the operators were online (capacity, or fewer if fewer waited). */
  assigned: number;
  expected: number;
  /** From the first socket opening to the last assignment reaching its operator's socket. */
  capacityUsedMs: number;
  assignmentsPerSecond: number;
  /** SQL statements the server sent from the first socket opening until capacity was used. */
  statements: number;
  /** From the stored transitions: most sessions any operator held at once, and violations. */
  mostHeldByOne: number;
  overLimitOperators: number;
  doubleAssignedSessions: number;
  /** Sessions whose stored state disagrees with their transitions (held by someone else). */
  inconsistentSessions: number;
  queueingMs: number;
}

const HELD = new Set(['assigned', 'answered', 'client_waiting']);

/**
 * Replays the stored transitions of every session: who held how many at once, and which session
 * went from one holder to another (there are no transfers in this scenario, so that is a double
 * assignment).
 */
export function checkTransitions(
  transitions: readonly SessionTransition[],
  limit: number,
): { mostHeldByOne: number; overLimitOperators: number; doubleAssignedSessions: number } {
  // Transitions of one transaction share a time; at the same instant a release is applied before
  // an assignment, so an operator freed and given a new session at once is not counted twice.
  const ordered = transitions
    .map((t, index) => ({ t, index }))
    .sort(
      (a, b) =>
        Date.parse(a.t.at) - Date.parse(b.t.at) ||
        Number(HELD.has(a.t.to)) - Number(HELD.has(b.t.to)) ||
        a.index - b.index,
    );
  const heldBy = new Map<string, string>();
  const heldCount = new Map<string, number>();
  const most = new Map<string, number>();
  const doubles = new Set<string>();
  for (const { t } of ordered) {
    const previous = heldBy.get(t.sessionId);
    const nowHeld = HELD.has(t.to) ? t.operatorId : null;
    // Nobody transfers in this scenario: a held session moving to another holder was given twice.
    if (previous && nowHeld && previous !== nowHeld) doubles.add(t.sessionId);
    if (previous && previous !== nowHeld) {
      heldCount.set(previous, (heldCount.get(previous) ?? 1) - 1);
      heldBy.delete(t.sessionId);
    }
    if (nowHeld && previous !== nowHeld) {
      const count = (heldCount.get(nowHeld) ?? 0) + 1;
      heldCount.set(nowHeld, count);
      most.set(nowHeld, Math.max(most.get(nowHeld) ?? 0, count));
      heldBy.set(t.sessionId, nowHeld);
    }
  }
  const peaks = [...most.values()];
  return {
    mostHeldByOne: Math.max(0, ...peaks),
    overLimitOperators: peaks.filter((peak) => peak > limit).length,
    doubleAssignedSessions: doubles.size,
  };
}

export async function runRoutingScenario(options: RoutingScenarioOptions): Promise<RoutingScenarioResult> {
  const sink = await startWebhookSink();
  const server = await startServerThread({
    app: 'openlines',
    databaseUrl: options.databaseUrl,
    redisUrl: options.redisUrl,
  });
  const sockets: Realtime[] = [];
  try {
    const { admin, operatorRoleId } = await signInAdmin(server.url, server.firstRun);
    const operators: { id: string; client: OpenlinesClient }[] = [];
    for (let i = 0; i < options.operators; i++) {
      const user = await createOperator(admin, operatorRoleId, 'routing', i);
      operators.push({ id: user.id, client: await signInOperator(server.url, user.email) });
    }
    const { sender } = await createApiLine(admin, server.url, {
      name: 'Routing',
      operatorIds: operators.map(({ id }) => id),
      maxChat: options.limit,
      webhookUrl: sink.url,
    });

    options.log(`  queueing ${options.queued} sessions with nobody online…`);
    const dialogIds: string[] = [];
    const queueing = await drive(
      'queueing',
      options.queued,
      20,
      async (index) => {
        const started = performance.now();
        const result = await sender.send({
          externalId: `queued-${index}`,
          user: { id: `queued-client-${index}`, name: `Client ${index}` },
          text: 'Waiting for someone',
        });
        dialogIds[index] = result.dialogId;
        const ms = performance.now() - started;
        return { ok: true, latencyMs: ms, httpMs: ms };
      },
      server,
    );
    if (queueing.failed > 0) throw new Error(`queueing failed: ${queueing.firstError}`);

    const expected = Math.min(options.queued, options.operators * options.limit);
    const assignedTo = new Map<string, string>();
    let lastAssignmentAt = 0;
    let allAssigned: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      allAssigned = resolve;
    });
    options.log(`  ${options.operators} operators with a limit of ${options.limit} connect at once…`);
    const statementsBefore = await server.statements();
    const started = performance.now();
    await Promise.all(
      operators.map(async ({ id, client }) => {
        const realtime = client.realtime({ WebSocket, reconnect: { initialDelayMs: 50, maxDelayMs: 500 } });
        sockets.push(realtime);
        realtime.on('event', (event) => {
          if (event.type !== 'dialog.updated') return;
          const session = event.data.dialog.session;
          if (session?.operatorId !== id || session.status !== 'assigned') return;
          if (assignedTo.has(event.data.dialog.id)) return;
          assignedTo.set(event.data.dialog.id, id);
          lastAssignmentAt = performance.now();
          if (assignedTo.size >= expected) allAssigned();
        });
        await realtime.once('open');
      }),
    );
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(
        () => reject(new Error(`only ${assignedTo.size} of ${expected} sessions assigned after 120 s`)),
        120_000,
      ).unref(),
    );
    await Promise.race([done, timeout]);
    const capacityUsedMs = lastAssignmentAt - started;
    const statements = (await server.statements()) - statementsBefore;

    options.log('  reading back every session’s transitions…');
    const dialogs = new DialogsApi(admin.transport);
    const transitions: SessionTransition[] = [];
    const stored = new Map<string, string | null>();
    await drive(
      'read back',
      dialogIds.length,
      10,
      async (index) => {
        const dialogId = dialogIds[index]!;
        transitions.push(...(await dialogs.transitions(dialogId)));
        stored.set(dialogId, (await dialogs.get(dialogId)).session?.operatorId ?? null);
        return { ok: true, latencyMs: 0, httpMs: 0 };
      },
      server,
    );
    const inconsistentSessions = [...assignedTo].filter(
      ([dialogId, holder]) => stored.get(dialogId) !== holder,
    ).length;
    return {
      queued: options.queued,
      operators: options.operators,
      limit: options.limit,
      assigned: assignedTo.size,
      expected,
      capacityUsedMs,
      assignmentsPerSecond: assignedTo.size / (capacityUsedMs / 1000),
      statements,
      ...checkTransitions(transitions, options.limit),
      inconsistentSessions,
      queueingMs: queueing.elapsedMs,
    };
  } finally {
    for (const socket of sockets) socket.close();
    await server.stop();
    await sink.close();
  }
}
