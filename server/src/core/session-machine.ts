/**
 * Session lifecycle (SPEC §15) as a pure state machine.
 *
 *   new → (bot →) queued → assigned → answered ⇄ client_waiting → closed
 *   skip / queue timeout: assigned | answered | client_waiting → queued
 *   side exits: spam and closed_silently from any open status, auto_closed from answered
 *
 * The machine decides; it does not load, store or publish. The service loads a snapshot, calls
 * `transition`, persists the returned patch and an event row in one transaction, and maps a refusal
 * to HTTP 409 (or, for a durable timer that fired late, to "do nothing: the state moved on").
 *
 * Rules that are not obvious from the diagram:
 * - A client message never reopens a closed session: the service opens a new session in the same
 *   dialog, so `client_message` on a closed status is refused. On open statuses it changes nothing
 *   except `answered → client_waiting` (the client wrote after the operator's answer).
 * - An operator message needs an operator holding the session; on new/bot/queued the service first
 *   applies `assign` with mode `take` (the first operator to answer an offered session gets it, Q-2).
 * - Routing always goes through `queued`: the service applies `enqueue` (or `bot_handover`) before
 *   `assign`, so queue-wait time is measured from the same point for every session.
 * - An operator may take (`take`) or a supervisor may give (`manual`) a session still held by the
 *   bot; automatic routing (`auto`) only assigns queued sessions.
 * - `offer` (lines with queue type `all`) keeps the session queued and records who may take it.
 * - `skip` (operator) and `queue_timeout` (QUEUE_TIME elapsed, Q-3) put the session back in the
 *   queue and remember the operator in `passedBy`, so routing does not hand it back to them.
 *   A transfer is a deliberate hand-over, so it does not add to `passedBy`.
 * - The pin (Q-10; Bitrix `PAUSE`) belongs to the operator holding the session: skip and transfers
 *   drop it; closing keeps it so the dialog's next session comes back to that operator. A pinned
 *   session is neither redistributed by `queue_timeout` nor closed by `auto_close`.
 * - After closing, `operatorId` keeps the operator who handled the session (history, KPI).
 * - `bot_takeover` (AA-3's "hand to a bot") takes a queued or assigned, never answered, session
 *   from the operators to a bot; `bot_handover` gives it back to the queue.
 * - `close`, `mark_spam` and `close_silently` apply to any open session (an operator, a supervisor,
 *   or the bot per WELCOME_BOT_LEFT may close it). They check nothing else: the line's
 *   confirm-before-close is a UI/service check.
 */

/** Identifiers are opaque strings to the core; the store decides what they look like. */
export type UserId = string;
export type LineId = string;

import {
  type ClosedStatus,
  OPEN_STATUSES,
  OPERATOR_STATUSES,
  SESSION_STATUSES,
  type SessionStatus,
} from '@openlines/contract';

// The status groups (open, closed, held) are the contract's: import them from there.
export { SESSION_STATUSES, type SessionStatus };

/** Bitrix `TYPE_MAX_CHAT`: which of an operator's sessions count against `MAX_CHAT`. */
export type TypeMaxChat = 'answered_new' | 'answered' | 'closed';

/**
 * Bitrix counts a session against MAX_CHAT while its numeric STATUS is below a threshold
 * (answered_new: < 25, answered: < 40, closed: < 50). Translated to our statuses:
 * - Bitrix 0 NEW and 5 SKIP have no operator here (new/bot/queued), so they never count;
 * - Bitrix 10 ANSWER and 20 CLIENT (operator chosen, client not answered yet) are `assigned`;
 * - Bitrix 25 CLIENT_AFTER_OPERATOR (client wrote again after an answer) is `client_waiting`;
 * - Bitrix 40 OPERATOR (operator has answered) is `answered`.
 * Hence:
 * - `answered_new`: only sessions the operator has not answered yet (`assigned`);
 * - `answered`: sessions waiting for the operator's answer (`assigned`, `client_waiting`);
 * - `closed`: every open session the operator holds (`assigned`, `answered`, `client_waiting`).
 */
const STATUSES_COUNTED_TOWARD_LIMIT: Record<TypeMaxChat, readonly SessionStatus[]> = {
  answered_new: ['assigned'],
  answered: ['assigned', 'client_waiting'],
  closed: ['assigned', 'answered', 'client_waiting'],
};

export function countsTowardLimit(status: SessionStatus, typeMaxChat: TypeMaxChat): boolean {
  return STATUSES_COUNTED_TOWARD_LIMIT[typeMaxChat].includes(status);
}

/** What the machine needs to know about a session; the service builds it from its rows. */
export interface SessionSnapshot {
  status: SessionStatus;
  lineId: LineId;
  /** Set in assigned/answered/client_waiting; kept after closing; null before routing. */
  operatorId: UserId | null;
  /** Operators who let this session pass on this line, in the order they did. */
  passedBy: readonly UserId[];
  /** Operators the queued session is currently offered to (queue type `all`). */
  offeredTo: readonly UserId[];
  pinned: boolean;
}

/** How an operator came to hold a session (Bitrix transfer modes AUTO / MANUAL, plus self-take). */
export type AssignMode = 'auto' | 'manual' | 'take';

export type SessionAction =
  | { type: 'client_message' }
  | { type: 'bot_started' }
  | { type: 'bot_takeover' }
  | { type: 'bot_handover' }
  | { type: 'enqueue' }
  | { type: 'assign'; operatorId: UserId; mode: AssignMode }
  | { type: 'offer'; operatorIds: readonly UserId[] }
  | { type: 'operator_message' }
  | { type: 'skip' }
  | { type: 'queue_timeout' }
  | { type: 'transfer_operator'; operatorId: UserId }
  | { type: 'transfer_line'; lineId: LineId }
  | { type: 'close' }
  | { type: 'auto_close' }
  | { type: 'mark_spam' }
  | { type: 'close_silently' }
  | { type: 'pin' }
  | { type: 'unpin' };
export type SessionActionType = SessionAction['type'];

/** The fields of the snapshot that an action changed, other than `status`; absent = unchanged. */
export type SessionPatch = Partial<Omit<SessionSnapshot, 'status'>>;

export type TransitionFailureCode =
  /** The action is not allowed in the session's current status. */
  | 'invalid_state'
  /** Transfer to the operator who already holds the session. */
  | 'same_operator'
  /** Transfer to the line the session is already on. */
  | 'same_line'
  /** A pinned session is not redistributed or auto-closed. */
  | 'pinned';

export type TransitionResult =
  | {
      ok: true;
      from: SessionStatus;
      status: SessionStatus;
      /** False for actions that only touch fields (pin, offer, a client message while queued…). */
      statusChanged: boolean;
      patch: SessionPatch;
      session: SessionSnapshot;
    }
  | { ok: false; code: TransitionFailureCode; from: SessionStatus; action: SessionActionType };

type ActionOf<T extends SessionActionType> = Extract<SessionAction, { type: T }>;

type Outcome = { status: SessionStatus; patch?: SessionPatch } | { refuse: TransitionFailureCode };

interface ActionRule<T extends SessionActionType> {
  /** Statuses in which the action may apply; in any other status it is refused as invalid_state. */
  from: readonly SessionStatus[];
  apply(session: SessionSnapshot, action: ActionOf<T>): Outcome;
}

const ANY_OPEN: readonly SessionStatus[] = OPEN_STATUSES;

/** Back to the queue without an operator, remembering who let it pass. */
function returnToQueue(session: SessionSnapshot): Outcome {
  const passedBy =
    session.operatorId === null || session.passedBy.includes(session.operatorId)
      ? session.passedBy
      : [...session.passedBy, session.operatorId];
  return { status: 'queued', patch: { operatorId: null, passedBy, offeredTo: [], pinned: false } };
}

function closeAs(status: ClosedStatus): Outcome {
  return { status, patch: { offeredTo: [] } };
}

const RULES: { [T in SessionActionType]: ActionRule<T> } = {
  client_message: {
    from: ANY_OPEN,
    apply: (session) => ({ status: session.status === 'answered' ? 'client_waiting' : session.status }),
  },
  bot_started: {
    from: ['new'],
    apply: () => ({ status: 'bot' }),
  },
  bot_takeover: {
    // AA-3 "hand to a bot": an unanswered session leaves the queue (or the operator who did not
    // answer) for a bot. A pinned session stays with its operator.
    from: ['queued', 'assigned'],
    apply: (session) =>
      session.pinned ? { refuse: 'pinned' } : { status: 'bot', patch: { operatorId: null, offeredTo: [] } },
  },
  bot_handover: {
    from: ['bot'],
    apply: () => ({ status: 'queued' }),
  },
  enqueue: {
    from: ['new'],
    apply: () => ({ status: 'queued' }),
  },
  assign: {
    from: ['queued', 'bot'],
    apply: (session, { operatorId, mode }) =>
      session.status === 'bot' && mode === 'auto'
        ? { refuse: 'invalid_state' }
        : { status: 'assigned', patch: { operatorId, offeredTo: [] } },
  },
  offer: {
    from: ['queued'],
    apply: (_session, { operatorIds }) => ({ status: 'queued', patch: { offeredTo: [...operatorIds] } }),
  },
  operator_message: {
    from: OPERATOR_STATUSES,
    apply: () => ({ status: 'answered' }),
  },
  skip: {
    from: OPERATOR_STATUSES,
    apply: returnToQueue,
  },
  queue_timeout: {
    from: ['assigned'],
    apply: (session) => (session.pinned ? { refuse: 'pinned' } : returnToQueue(session)),
  },
  transfer_operator: {
    from: ['bot', ...OPERATOR_STATUSES],
    apply: (session, { operatorId }) =>
      operatorId === session.operatorId
        ? { refuse: 'same_operator' }
        : { status: 'assigned', patch: { operatorId, pinned: false } },
  },
  transfer_line: {
    from: ['bot', 'queued', ...OPERATOR_STATUSES],
    apply: (session, { lineId }) =>
      lineId === session.lineId
        ? { refuse: 'same_line' }
        : {
            status: 'queued',
            // Q-3 history belongs to the old line's queue; the new line starts afresh.
            patch: { lineId, operatorId: null, passedBy: [], offeredTo: [], pinned: false },
          },
  },
  close: {
    from: ANY_OPEN,
    apply: () => closeAs('closed'),
  },
  auto_close: {
    // AA-6: only after the operator's answer, when the client did not reply.
    from: ['answered'],
    apply: (session) => (session.pinned ? { refuse: 'pinned' } : closeAs('auto_closed')),
  },
  mark_spam: {
    from: ANY_OPEN,
    apply: () => closeAs('spam'),
  },
  close_silently: {
    from: ANY_OPEN,
    apply: () => closeAs('closed_silently'),
  },
  pin: {
    from: OPERATOR_STATUSES,
    apply: (session) => ({ status: session.status, patch: { pinned: true } }),
  },
  unpin: {
    from: OPERATOR_STATUSES,
    apply: (session) => ({ status: session.status, patch: { pinned: false } }),
  },
};

function ruleFor<T extends SessionActionType>(type: T): ActionRule<T> {
  return RULES[type];
}

/** Keeps only the fields whose value actually changes, so the service writes and records no noise. */
function effectivePatch(session: SessionSnapshot, patch: SessionPatch): SessionPatch {
  const changed: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(patch)) {
    const before = session[key as keyof SessionPatch];
    const same =
      Array.isArray(value) && Array.isArray(before)
        ? value.length === before.length && value.every((item, i) => item === before[i])
        : value === before;
    if (!same) changed[key] = value;
  }
  return changed as SessionPatch;
}

export function transition(session: SessionSnapshot, action: SessionAction): TransitionResult {
  const from = session.status;
  const rule = ruleFor(action.type);
  if (!rule.from.includes(from)) return { ok: false, code: 'invalid_state', from, action: action.type };

  const outcome = rule.apply(session, action);
  if ('refuse' in outcome) return { ok: false, code: outcome.refuse, from, action: action.type };

  const patch = effectivePatch(session, outcome.patch ?? {});
  return {
    ok: true,
    from,
    status: outcome.status,
    statusChanged: outcome.status !== from,
    patch,
    session: { ...session, ...patch, status: outcome.status },
  };
}

/**
 * Actions that the status alone allows, for presenters that tell the UI what may be done.
 * Argument-dependent refusals (same operator, same line, pinned, `auto` assign while the bot
 * holds the session) are only known to `transition`.
 */
export function allowedActions(status: SessionStatus): SessionActionType[] {
  return (Object.keys(RULES) as SessionActionType[]).filter((type) => ruleFor(type).from.includes(status));
}
