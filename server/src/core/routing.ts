/**
 * The routing choice (SPEC §2, Q-1..Q-10): given a line's settings, its queue, the operators' state
 * and the session's context, decide who gets the session. Pure: the service loads everything under
 * the line's lock, calls `chooseRoute`, and applies the decision with the session machine, so the
 * limit checked here is the limit that holds when the row is written (Q-7).
 *
 * Order of preference:
 * 1. the operator the dialog is pinned to (Q-10), if they can receive it;
 * 2. the client's CRM responsible when the line has CRM_FORWARD (Q-9), if they can receive it;
 * 3. the line's queue, by its distribution type (Q-2).
 * The pinned and the CRM-responsible operator need not be queue members: the pin and the CRM link
 * are explicit relationships with the client, and Bitrix forwards to them the same way. They must
 * still pass every other check below, and an operator who let the session pass is never chosen.
 *
 * An operator can receive a session when:
 * - they are active (a dismissed operator never receives anything, whatever CHECK_AVAILABLE says);
 * - with CHECK_AVAILABLE (Q-4): they are online (away counts as unavailable) and no absence covers
 *   `now`; without it, offline and absent operators still receive sessions, as in Bitrix;
 * - they are under MAX_CHAT (Q-5), counting their open sessions with `countsTowardLimit`. The limit
 *   is honoured for every queue type, `all` included, so that no offer can push anyone over it.
 */
import { countsTowardLimit, type SessionStatus, type TypeMaxChat, type UserId } from './session-machine';

export type QueueType = 'evenly' | 'strictly' | 'all';

/** The routing part of a line's settings (Bitrix QUEUE_TYPE, CHECK_AVAILABLE, MAX_CHAT, …). */
export interface RoutingSettings {
  queueType: QueueType;
  checkAvailable: boolean;
  /** Concurrent sessions per operator; 0 = unlimited. */
  maxChat: number;
  typeMaxChat: TypeMaxChat;
  /** CRM_FORWARD: a known client's session goes first to their CRM responsible. */
  crmForward: boolean;
}

export type DepartmentId = string;

/** A line's queue as configured: users and departments, in order. */
export type QueueEntry = { type: 'user'; id: UserId } | { type: 'department'; id: DepartmentId };

/**
 * The queue as an ordered list of operators: a department stands for its current members, in the
 * department's position; an operator listed twice keeps their first position. A department that
 * is missing from `departmentMembers` (deleted, or empty) contributes nobody.
 */
export function expandQueue(
  entries: readonly QueueEntry[],
  departmentMembers: ReadonlyMap<DepartmentId, readonly UserId[]>,
): UserId[] {
  const queue = new Set<UserId>();
  for (const entry of entries) {
    const members = entry.type === 'user' ? [entry.id] : (departmentMembers.get(entry.id) ?? []);
    for (const userId of members) queue.add(userId);
  }
  return [...queue];
}

export type Presence = 'online' | 'away' | 'offline';

/** A vacation or other absence: from `from` (inclusive) to `to` (exclusive). */
export interface Absence {
  from: Date;
  to: Date;
}

export interface OperatorState {
  userId: UserId;
  presence: Presence;
  /** False once the operator is dismissed or deactivated. */
  active: boolean;
  absences: readonly Absence[];
  /** The operator's open sessions on this line, counted per status (missing status = 0): the limit. */
  openSessions: Partial<Record<SessionStatus, number>>;
  /**
   * When each session the operator holds now was assigned to them, on every line of the account:
   * the load `evenly` weighs, whatever the session's status and TYPE_MAX_CHAT.
   */
  handling: readonly Date[];
  /** When the operator was last given a session on any line of the account; null if never. */
  lastAssignedAt: Date | null;
}

export interface RoutingContext {
  /** Operators who already let this session pass; they are never chosen again. */
  passedBy: readonly UserId[];
  /** The operator the dialog is pinned to. */
  pinnedOperatorId?: UserId | null;
  /** The client's responsible in the CRM; used only when the line has `crmForward`. */
  crmResponsibleId?: UserId | null;
  /** Who got the line's last `strictly` assignment; round-robin continues after them. */
  strictCursor?: UserId | null;
}

export interface RoutingInput {
  settings: RoutingSettings;
  /** Expanded queue (see `expandQueue`), in order. */
  queue: readonly UserId[];
  /** State of the queue members and of the pinned / CRM-responsible operators; others are ignored. */
  operators: readonly OperatorState[];
  context: RoutingContext;
  now: Date;
}

export type AssignReason = 'pinned' | 'crm_responsible' | 'evenly' | 'strictly';

export type WaitReason =
  /** Nobody in the queue can receive the session now (offline, absent, full, dismissed). */
  | 'no_operator_available'
  /**
   * Everyone who could receive it now has already let it pass; operators who cannot receive it now
   * (offline, full…) do not hold this back. The session waits in the queue (it can be taken by
   * hand); the routing service starts a new round once it has waited a further QUEUE_TIME there.
   */
  | 'all_passed'
  /** The line's queue has nobody in it. */
  | 'empty_queue';

export type RoutingDecision =
  | { kind: 'assign'; operatorId: UserId; reason: AssignReason }
  /** Queue type `all`: offered to every operator who can receive it, in queue order. */
  | { kind: 'offer'; operatorIds: UserId[] }
  | { kind: 'wait'; reason: WaitReason };

/** Sessions that count against the operator's MAX_CHAT under the line's TYPE_MAX_CHAT. */
export function operatorLoad(operator: OperatorState, typeMaxChat: TypeMaxChat): number {
  let load = 0;
  for (const [status, count] of Object.entries(operator.openSessions) as [SessionStatus, number][]) {
    if (countsTowardLimit(status, typeMaxChat)) load += count;
  }
  return load;
}

/**
 * The operators' states after a session of this line was given to `operatorId` with `status`: it
 * counts toward their limit, their load and their last assignment, so the next decision in the
 * same transaction (several new clients routed together) sees it as committed state would.
 */
export function withAssignment(
  operators: readonly OperatorState[],
  operatorId: UserId,
  status: SessionStatus,
  now: Date,
): OperatorState[] {
  return operators.map((operator) =>
    operator.userId !== operatorId
      ? operator
      : {
          ...operator,
          openSessions: { ...operator.openSessions, [status]: (operator.openSessions[status] ?? 0) + 1 },
          handling: [...operator.handling, now],
          lastAssignedAt: now,
        },
  );
}

export function isAbsent(operator: OperatorState, now: Date): boolean {
  const at = now.getTime();
  return operator.absences.some(({ from, to }) => from.getTime() <= at && at < to.getTime());
}

export type IneligibleReason = 'dismissed' | 'not_online' | 'absent' | 'at_limit';

/**
 * Why the operator cannot receive a new session on this line now, or null if they can.
 * Exported so that a manual take or transfer can be checked against the same rules.
 */
export function whyIneligible(
  operator: OperatorState,
  settings: RoutingSettings,
  now: Date,
): IneligibleReason | null {
  if (!operator.active) return 'dismissed';
  if (settings.checkAvailable && operator.presence !== 'online') return 'not_online';
  if (settings.checkAvailable && isAbsent(operator, now)) return 'absent';
  if (settings.maxChat > 0 && operatorLoad(operator, settings.typeMaxChat) >= settings.maxChat) {
    return 'at_limit';
  }
  return null;
}

/** A queue member who can receive the session and has not let it pass, with their queue position. */
interface Candidate {
  operator: OperatorState;
  position: number;
}

type Distributor = (candidates: readonly Candidate[], input: RoutingInput) => RoutingDecision;

/**
 * Q-2's load for `evenly`: every session the operator holds on the account, then how long they
 * have been handling them (the sum of the time since each was assigned). Two different counts
 * from the limit: an operator with four answered dialogs is busier than one with one new dialog,
 * even where TYPE_MAX_CHAT lets answered dialogs not count toward MAX_CHAT.
 */
export function evenlyLoad(operator: OperatorState, now: Date): { sessions: number; handledMs: number } {
  let handledMs = 0;
  for (const assignedAt of operator.handling) handledMs += Math.max(0, now.getTime() - assignedAt.getTime());
  return { sessions: operator.handling.length, handledMs };
}

/** Oldest last assignment first; never assigned counts as oldest of all. */
function lastAssignedOrder(a: OperatorState, b: OperatorState): number {
  const at = (operator: OperatorState) => operator.lastAssignedAt?.getTime() ?? Number.NEGATIVE_INFINITY;
  return at(a) === at(b) ? 0 : at(a) < at(b) ? -1 : 1;
}

const DISTRIBUTORS: Record<QueueType, Distributor> = {
  // Least loaded (`evenlyLoad`: fewest sessions held, then least time handling them); on a tie,
  // whoever has waited longest since their last assignment on the account; then queue order.
  evenly: (candidates, { now }) => {
    const loads = new Map(candidates.map((c) => [c.operator.userId, evenlyLoad(c.operator, now)]));
    const [chosen] = [...candidates].sort((a, b) => {
      const [loadA, loadB] = [loads.get(a.operator.userId)!, loads.get(b.operator.userId)!];
      return (
        loadA.sessions - loadB.sessions ||
        loadA.handledMs - loadB.handledMs ||
        lastAssignedOrder(a.operator, b.operator) ||
        a.position - b.position
      );
    });
    return { kind: 'assign', operatorId: chosen!.operator.userId, reason: 'evenly' };
  },
  // Round-robin in queue order, starting after the last strictly-assigned operator, whatever the
  // load. If that operator has left the queue, the round starts again from the top.
  strictly: (candidates, { queue, context }) => {
    const cursor = context.strictCursor ? queue.indexOf(context.strictCursor) : -1;
    const chosen = candidates.find((candidate) => candidate.position > cursor) ?? candidates[0]!;
    return { kind: 'assign', operatorId: chosen.operator.userId, reason: 'strictly' };
  },
  all: (candidates) => ({ kind: 'offer', operatorIds: candidates.map(({ operator }) => operator.userId) }),
};

export function chooseRoute(input: RoutingInput): RoutingDecision {
  const { settings, queue, operators, context, now } = input;
  const byId = new Map(operators.map((operator) => [operator.userId, operator]));
  const passed = new Set(context.passedBy);
  const canReceive = (operator: OperatorState) => whyIneligible(operator, settings, now) === null;
  const eligibleAndNotPassed = (userId: UserId | null | undefined): userId is UserId => {
    const operator = userId == null ? undefined : byId.get(userId);
    return operator !== undefined && !passed.has(operator.userId) && canReceive(operator);
  };

  if (eligibleAndNotPassed(context.pinnedOperatorId)) {
    return { kind: 'assign', operatorId: context.pinnedOperatorId, reason: 'pinned' };
  }
  if (settings.crmForward && eligibleAndNotPassed(context.crmResponsibleId)) {
    return { kind: 'assign', operatorId: context.crmResponsibleId, reason: 'crm_responsible' };
  }
  if (queue.length === 0) return { kind: 'wait', reason: 'empty_queue' };

  const receivers = queue.flatMap((userId, position) => {
    const operator = byId.get(userId);
    return operator && canReceive(operator) ? [{ operator, position }] : [];
  });
  if (receivers.length === 0) return { kind: 'wait', reason: 'no_operator_available' };

  const candidates = receivers.filter(({ operator }) => !passed.has(operator.userId));
  if (candidates.length === 0) return { kind: 'wait', reason: 'all_passed' };

  return DISTRIBUTORS[settings.queueType](candidates, input);
}

export interface QueuedSession {
  sessionId: string;
  queuedAt: Date;
  context: Omit<RoutingContext, 'strictCursor'>;
}

export interface RedelegationInput {
  settings: RoutingSettings;
  queue: readonly UserId[];
  operators: readonly OperatorState[];
  /** The line's waiting sessions; they are served oldest first whatever their order here. */
  sessions: readonly QueuedSession[];
  strictCursor: UserId | null;
  now: Date;
}

export interface RedelegationPlan {
  decisions: { sessionId: string; decision: RoutingDecision }[];
  /** The line's round-robin cursor after the planned strictly assignments. */
  strictCursor: UserId | null;
}

/**
 * when operators become able to take sessions (come online, free capacity, join the queue),
 * route the waiting sessions oldest first. Each planned assignment counts toward the chosen
 * operator's load before the next session is routed, so the plan never exceeds a limit.
 * Offers (queue type `all`) take no capacity until an operator takes the session.
 */
export function planRedelegation(input: RedelegationInput): RedelegationPlan {
  const { settings, queue, now } = input;
  const operators = new Map(
    input.operators.map((operator) => [
      operator.userId,
      { ...operator, openSessions: { ...operator.openSessions }, handling: [...operator.handling] },
    ]),
  );
  const sessions = [...input.sessions].sort((a, b) => a.queuedAt.getTime() - b.queuedAt.getTime());
  let strictCursor = input.strictCursor;
  const decisions: RedelegationPlan['decisions'] = [];

  for (const session of sessions) {
    const decision = chooseRoute({
      settings,
      queue,
      operators: [...operators.values()],
      context: { ...session.context, strictCursor },
      now,
    });
    decisions.push({ sessionId: session.sessionId, decision });
    if (decision.kind !== 'assign') continue;

    const operator = operators.get(decision.operatorId)!;
    operator.openSessions.assigned = (operator.openSessions.assigned ?? 0) + 1;
    operator.handling = [...operator.handling, now];
    operator.lastAssignedAt = now;
    if (decision.reason === 'strictly') strictCursor = decision.operatorId;
  }
  return { decisions, strictCursor };
}
