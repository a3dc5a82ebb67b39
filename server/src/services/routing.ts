import { CLOSED_STATUSES, type LineSettings, OPERATOR_STATUSES } from '@openlines/contract';
import { sql } from 'kysely';
import { jsonArrayFrom } from 'kysely/helpers/postgres';
import type { AppContext } from '../context';
import {
  type AssignReason,
  chooseRoute,
  expandQueue,
  type OperatorState,
  planRedelegation,
  type RoutingDecision,
  type RoutingSettings,
} from '../core/routing';
import { type SessionStatus, transition } from '../core/session-machine';
import type { LineRow, SessionRow } from '../store/schema';
import { lineOpenNow } from './automation/schedule';
import { crmOnSessionsTaken, crmResponsibleOf } from './crm/intake';
import { touchDialog } from './dialog-events';
import { applySessionAction, SYSTEM, snapshotOf } from './sessions';
import { armTimer } from './timers';
import type { Tx, UnitOfWork } from './transaction';

// Routing service: loads a line's operators under the line's lock (services/locks), asks the pure
// core who gets a session, and applies the answer with the session state machine. Every function
// here expects the caller to hold the lock of the line it routes on.

export function routingSettingsOf(settings: LineSettings): RoutingSettings {
  return {
    queueType: settings.queue.distribution,
    checkAvailable: settings.queue.checkAvailable,
    maxChat: settings.queue.maxChat,
    typeMaxChat: settings.queue.typeMaxChat,
    crmForward: settings.crm.enabled && settings.crm.forwardToResponsible,
  };
}

/** The line's queue with departments expanded to their current members. */
export async function lineQueue(tx: Tx, line: LineRow): Promise<string[]> {
  const departmentIds = line.settings.queue.members.filter((m) => m.type === 'department').map((m) => m.id);
  const members = new Map<string, string[]>();
  if (departmentIds.length > 0) {
    const rows = await tx
      .selectFrom('department_members')
      .innerJoin('users', 'users.id', 'department_members.user_id')
      .select(['department_members.department_id', 'department_members.user_id'])
      .where('department_members.department_id', 'in', departmentIds)
      .orderBy('users.name')
      .orderBy('users.id')
      .execute();
    for (const row of rows) {
      const list = members.get(row.department_id) ?? [];
      list.push(row.user_id);
      members.set(row.department_id, list);
    }
  }
  return expandQueue(line.settings.queue.members, members);
}

/**
 * What routing needs of the given operators, in one statement of the caller's transaction:
 * presence, absences still to end, the sessions they hold now (per status on this line for the
 * limit, with their assignment times on every line for `evenly`'s load) and their last assignment
 * on the account. Each part is found by an index: sessions_operator_open for held sessions,
 * sessions_operator_assigned for the last assignment, so the cost does not grow with history.
 */
export async function loadOperatorStates(
  tx: Tx,
  line: LineRow,
  userIds: string[],
  now: Date,
): Promise<OperatorState[]> {
  const ids = [...new Set(userIds)];
  if (ids.length === 0) return [];
  const rows = await tx
    .selectFrom('users as u')
    .select((eb) => [
      'u.id',
      'u.presence',
      'u.active',
      jsonArrayFrom(
        eb
          .selectFrom('absences as a')
          .select(['a.starts_at', 'a.ends_at'])
          .whereRef('a.user_id', '=', 'u.id')
          .where('a.ends_at', '>', now),
      ).as('absences'),
      jsonArrayFrom(
        eb
          .selectFrom('sessions as s')
          .select(['s.line_id', 's.status', 's.assigned_at'])
          .whereRef('s.operator_id', '=', 'u.id')
          .where('s.status', 'not in', CLOSED_STATUSES)
          .where('s.status', 'in', OPERATOR_STATUSES),
      ).as('held'),
      eb
        .selectFrom('sessions as s')
        .select((inner) => inner.fn.max('s.assigned_at').as('last'))
        .whereRef('s.operator_id', '=', 'u.id')
        .as('last_assigned_at'),
    ])
    .where('u.account_id', '=', line.account_id)
    .where('u.id', 'in', ids)
    .execute();
  return rows.map((row) => {
    const openSessions: Partial<Record<SessionStatus, number>> = {};
    const handling: Date[] = [];
    for (const session of row.held) {
      if (session.line_id === line.id) openSessions[session.status] = (openSessions[session.status] ?? 0) + 1;
      // A held session always has its assignment time; the fallback keeps a damaged row from
      // counting as handled since 1970.
      handling.push(session.assigned_at ? new Date(session.assigned_at) : now);
    }
    return {
      userId: row.id,
      presence: row.presence,
      active: row.active,
      absences: row.absences.map((a) => ({ from: new Date(a.starts_at), to: new Date(a.ends_at) })),
      openSessions,
      handling,
      lastAssignedAt: row.last_assigned_at ? new Date(row.last_assigned_at) : null,
    };
  });
}

async function lockLineRow(tx: Tx, lineId: string): Promise<LineRow | undefined> {
  return tx.selectFrom('lines').selectAll().where('id', '=', lineId).executeTakeFirst();
}

async function pinnedOperatorOf(tx: Tx, dialogIds: string[]): Promise<Map<string, string | null>> {
  if (dialogIds.length === 0) return new Map();
  const rows = await tx
    .selectFrom('dialogs')
    .select(['id', 'pinned_operator_id'])
    .where('id', 'in', dialogIds)
    .execute();
  return new Map(rows.map((row) => [row.id, row.pinned_operator_id]));
}

/** Applies a routing decision to a queued session. */
async function applyDecision(
  ctx: AppContext,
  uow: UnitOfWork,
  line: LineRow,
  session: SessionRow,
  decision: RoutingDecision,
): Promise<SessionRow> {
  if (decision.kind === 'assign') {
    const assigned = await applySessionAction(
      ctx,
      uow,
      session,
      { type: 'assign', operatorId: decision.operatorId, mode: 'auto' },
      SYSTEM,
      `routed_${decision.reason}`,
    );
    if (decision.reason === 'strictly') {
      await uow.tx
        .updateTable('lines')
        .set({ strict_cursor: decision.operatorId })
        .where('id', '=', line.id)
        .execute();
    }
    // the operator has QUEUE_TIME to answer before the session passes to the next one.
    await armTimer(uow.tx, {
      accountId: session.account_id,
      sessionId: session.id,
      kind: 'queue_timeout',
      dueAt: new Date(ctx.clock.now().getTime() + line.settings.queue.queueTimeSeconds * 1000),
      payload: { operatorId: decision.operatorId },
    });
    return assigned;
  }
  if (decision.kind === 'offer') {
    const same =
      decision.operatorIds.length === session.offered_to.length &&
      decision.operatorIds.every((id, i) => id === session.offered_to[i]);
    if (same) return session;
    return applySessionAction(
      ctx,
      uow,
      session,
      { type: 'offer', operatorIds: decision.operatorIds },
      SYSTEM,
      'offered',
    );
  }
  let current = session;
  if (current.offered_to.length > 0) {
    current = await applySessionAction(
      ctx,
      uow,
      current,
      { type: 'offer', operatorIds: [] },
      SYSTEM,
      'offer_withdrawn',
    );
  }
  return current;
}

/**
 * Routes one queued session of an active line. The caller holds the line's lock. `newSession`: the
 * session has just opened, so a known client goes first to their CRM responsible; a transfer,
 * a skip or a timeout routes by the queue.
 */
export async function routeSession(
  ctx: AppContext,
  uow: UnitOfWork,
  session: SessionRow,
  options: {
    newSession?: boolean;
    /** Choose among these users instead of the line's queue (a bot handing to a department). */
    among?: readonly string[];
  } = {},
): Promise<SessionRow> {
  const line = await lockLineRow(uow.tx, session.line_id);
  const now = ctx.clock.now();
  // WH-2: outside working hours sessions wait in the queue; the sweep routes them once it opens.
  if (!line?.active || session.status !== 'queued' || !lineOpenNow(line, now)) return session;
  const queue = options.among ? [...options.among] : await lineQueue(uow.tx, line);
  const pinned = (await pinnedOperatorOf(uow.tx, [session.dialog_id])).get(session.dialog_id) ?? null;
  const settings = routingSettingsOf(line.settings);
  // the responsible of the client's CRM record, when the line forwards to them.
  const responsible =
    options.newSession && settings.crmForward ? await crmResponsibleOf(uow.tx, session) : null;
  const extra = [pinned, responsible].filter((id): id is string => id !== null);
  const operators = await loadOperatorStates(uow.tx, line, [...queue, ...extra], now);
  const decision = chooseRoute({
    settings,
    queue,
    operators,
    context: {
      passedBy: session.passed_by,
      pinnedOperatorId: pinned,
      crmResponsibleId: responsible,
      strictCursor: line.strict_cursor,
    },
    now,
  });
  return applyDecision(ctx, uow, line, session, decision);
}

/**
 * routes the line's waiting sessions, oldest first, as far as capacity allows. Called when
 * operators may have become able to take sessions: online, freed capacity, added to the queue,
 * the line switched on; and by the periodic sweep (absences ending). The caller holds the lock.
 */
export async function redelegateLine(
  ctx: AppContext,
  uow: UnitOfWork,
  accountId: string,
  lineId: string,
): Promise<void> {
  const line = await lockLineRow(uow.tx, lineId);
  if (!line?.active || line.account_id !== accountId) return;
  const now = ctx.clock.now();
  // Sessions that arrived while the line was off start their routing now (LN-4).
  const fresh = await uow.tx
    .selectFrom('sessions')
    .selectAll()
    .where('line_id', '=', lineId)
    .where('status', '=', 'new')
    .orderBy('created_at')
    .forUpdate()
    .execute();
  for (const session of fresh) {
    await applySessionAction(ctx, uow, session, { type: 'enqueue' }, SYSTEM, 'line_activated');
  }
  // a session that every operator let pass waits in the queue (it can be taken by hand). After
  // a further QUEUE_TIME there, a new round starts, so a client is never left without a next try.
  const roundOver = new Date(now.getTime() - line.settings.queue.queueTimeSeconds * 1000);
  await uow.tx
    .updateTable('sessions')
    .set({ passed_by: JSON.stringify([]) })
    .where('line_id', '=', lineId)
    .where('status', '=', 'queued')
    .where('queued_at', '<=', roundOver)
    .where(sql<boolean>`jsonb_array_length(passed_by) > 0`)
    .execute();
  if (!lineOpenNow(line, now)) return;
  const waiting = await uow.tx
    .selectFrom('sessions')
    .selectAll()
    .where('line_id', '=', lineId)
    .where('status', '=', 'queued')
    .orderBy('queued_at')
    .forUpdate()
    .execute();
  if (waiting.length === 0) return;
  const queue = await lineQueue(uow.tx, line);
  const pins = await pinnedOperatorOf(
    uow.tx,
    waiting.map((s) => s.dialog_id),
  );
  const pinnedIds = [...pins.values()].filter((id): id is string => id !== null);
  const operators = await loadOperatorStates(uow.tx, line, [...queue, ...pinnedIds], now);
  const plan = planRedelegation({
    settings: routingSettingsOf(line.settings),
    queue,
    operators,
    sessions: waiting.map((session) => ({
      sessionId: session.id,
      queuedAt: session.queued_at ?? session.created_at,
      context: { passedBy: session.passed_by, pinnedOperatorId: pins.get(session.dialog_id) ?? null },
    })),
    strictCursor: line.strict_cursor,
    now,
  });
  const byId = new Map(waiting.map((session) => [session.id, session]));
  const assignments: Assignment[] = [];
  for (const { sessionId, decision } of plan.decisions) {
    const session = byId.get(sessionId)!;
    if (decision.kind === 'assign')
      assignments.push({ session, operatorId: decision.operatorId, reason: decision.reason });
    else await applyDecision(ctx, uow, line, session, decision);
  }
  await assignTogether(ctx, uow, line, assignments);
}

interface Assignment {
  session: SessionRow;
  operatorId: string;
  reason: AssignReason;
}

/**
 * Applies many routing assignments of one line at once (operators coming online to a long queue):
 * the same state-machine step, transition, queue timer and dialog event as `applyDecision`, in
 * three statements for all of them instead of three each.
 */
async function assignTogether(
  ctx: AppContext,
  uow: UnitOfWork,
  line: LineRow,
  assignments: Assignment[],
): Promise<void> {
  if (assignments.length === 0) return;
  const now = ctx.clock.now();
  const rows = assignments.map(({ session, operatorId, reason }) => {
    const result = transition(snapshotOf(session), { type: 'assign', operatorId, mode: 'auto' });
    // The planner assigns only queued sessions; anything else is a bug worth a loud failure.
    if (!result.ok || result.status !== 'assigned') {
      throw new Error(`routing planned an assignment the session machine refuses (${session.status})`);
    }
    return {
      id: session.id,
      dialog_id: session.dialog_id,
      from_status: result.from,
      operator_id: operatorId,
      reason: `routed_${reason}`,
      due_at: new Date(now.getTime() + line.settings.queue.queueTimeSeconds * 1000),
    };
  });
  const json = JSON.stringify(rows);
  await sql`
    with v as (
      select * from jsonb_to_recordset(${json}::jsonb) as v(id uuid, dialog_id uuid, from_status text,
        operator_id uuid, reason text, due_at timestamptz)
    ), s as (
      update sessions set status = 'assigned', operator_id = v.operator_id, offered_to = '[]'::jsonb,
        assigned_at = ${now}::timestamptz
      from v where sessions.id = v.id
    ), t as (
      insert into session_transitions
        (account_id, session_id, dialog_id, from_status, to_status, operator_id, actor_kind, actor_id, reason, at)
      select ${line.account_id}::uuid, v.id, v.dialog_id, v.from_status, 'assigned', v.operator_id, 'system', null,
        v.reason, ${now}::timestamptz
      from v
    )
    -- Q-3: each operator has QUEUE_TIME to answer before the session passes to the next one.
    insert into timers (account_id, session_id, kind, due_at, payload)
    select ${line.account_id}::uuid, v.id, 'queue_timeout', v.due_at, jsonb_build_object('operatorId', v.operator_id)
    from v
    on conflict (session_id, kind) do update set due_at = excluded.due_at, payload = excluded.payload`.execute(
    uow.tx,
  );
  const strictly = assignments.filter((a) => a.reason === 'strictly').at(-1);
  if (strictly) {
    await uow.tx
      .updateTable('lines')
      .set({ strict_cursor: strictly.operatorId })
      .where('id', '=', line.id)
      .execute();
  }
  for (const { session } of assignments) {
    touchDialog(ctx, uow, session.account_id, session.dialog_id, { leftQueue: true });
  }
  await crmOnSessionsTaken(
    ctx,
    uow,
    assignments.map(({ session, operatorId }) => ({ ...session, operator_id: operatorId })),
  );
}
