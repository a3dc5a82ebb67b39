import { hasOperator, isClosed, isOpen, OPEN_STATUSES } from '@openlines/contract';
import { describe, expect, it } from 'vitest';
import {
  allowedActions,
  countsTowardLimit,
  SESSION_STATUSES,
  type SessionAction,
  type SessionActionType,
  type SessionSnapshot,
  type SessionStatus,
  type TypeMaxChat,
  transition,
} from './session-machine';

function snapshot(status: SessionStatus, overrides: Partial<SessionSnapshot> = {}): SessionSnapshot {
  return {
    status,
    lineId: 'line-1',
    operatorId: hasOperator(status) || isClosed(status) ? 'op-a' : null,
    passedBy: [],
    offeredTo: [],
    pinned: false,
    ...overrides,
  };
}

/** One representative action of every type; argument-specific rules are tested further down. */
const ACTIONS: Record<SessionActionType, SessionAction> = {
  client_message: { type: 'client_message' },
  bot_started: { type: 'bot_started' },
  bot_takeover: { type: 'bot_takeover' },
  bot_handover: { type: 'bot_handover' },
  enqueue: { type: 'enqueue' },
  assign: { type: 'assign', operatorId: 'op-b', mode: 'manual' },
  offer: { type: 'offer', operatorIds: ['op-a', 'op-b'] },
  operator_message: { type: 'operator_message' },
  skip: { type: 'skip' },
  queue_timeout: { type: 'queue_timeout' },
  transfer_operator: { type: 'transfer_operator', operatorId: 'op-b' },
  transfer_line: { type: 'transfer_line', lineId: 'line-2' },
  close: { type: 'close' },
  auto_close: { type: 'auto_close' },
  mark_spam: { type: 'mark_spam' },
  close_silently: { type: 'close_silently' },
  pin: { type: 'pin' },
  unpin: { type: 'unpin' },
};

const everyOpen = (to: (from: SessionStatus) => SessionStatus) =>
  Object.fromEntries(OPEN_STATUSES.map((from) => [from, to(from)]));
const holding = (to: (from: SessionStatus) => SessionStatus) => ({
  assigned: to('assigned'),
  answered: to('answered'),
  client_waiting: to('client_waiting'),
});

/** from → to for every status in which the action is valid; any status not listed is invalid_state. */
const VALID_TRANSITIONS: Record<SessionActionType, Partial<Record<SessionStatus, SessionStatus>>> = {
  client_message: everyOpen((from) => (from === 'answered' ? 'client_waiting' : from)),
  bot_started: { new: 'bot' },
  bot_takeover: { queued: 'bot', assigned: 'bot' },
  bot_handover: { bot: 'queued' },
  enqueue: { new: 'queued' },
  assign: { queued: 'assigned', bot: 'assigned' },
  offer: { queued: 'queued' },
  operator_message: holding(() => 'answered'),
  skip: holding(() => 'queued'),
  queue_timeout: { assigned: 'queued' },
  transfer_operator: { bot: 'assigned', ...holding(() => 'assigned') },
  transfer_line: { bot: 'queued', queued: 'queued', ...holding(() => 'queued') },
  close: everyOpen(() => 'closed'),
  auto_close: { answered: 'auto_closed' },
  mark_spam: everyOpen(() => 'spam'),
  close_silently: everyOpen(() => 'closed_silently'),
  pin: holding((from) => from),
  unpin: holding((from) => from),
};

describe('status groups', () => {
  it.each(SESSION_STATUSES)('%s is either open or closed, never both', (status) => {
    expect(isOpen(status)).toBe(!isClosed(status));
  });

  it('lists the open statuses', () => {
    expect(OPEN_STATUSES).toEqual(['new', 'bot', 'queued', 'assigned', 'answered', 'client_waiting']);
    expect(SESSION_STATUSES.filter(isClosed)).toEqual(['closed', 'spam', 'closed_silently', 'auto_closed']);
  });
});

describe('transition table: every status × every action', () => {
  const cases = SESSION_STATUSES.flatMap((from) =>
    (Object.keys(ACTIONS) as SessionActionType[]).map((type) => ({
      from,
      type,
      expected: VALID_TRANSITIONS[type][from] ?? 'invalid_state',
    })),
  );

  it.each(cases)('$from + $type → $expected', ({ from, type, expected }) => {
    const result = transition(snapshot(from), ACTIONS[type]);
    if (expected === 'invalid_state') {
      expect(result).toEqual({ ok: false, code: 'invalid_state', from, action: type });
    } else {
      expect(result).toMatchObject({ ok: true, from, status: expected, statusChanged: expected !== from });
    }
  });

  it.each(SESSION_STATUSES)('allowedActions(%s) agrees with the table', (status) => {
    const expected = (Object.keys(VALID_TRANSITIONS) as SessionActionType[]).filter(
      (type) => VALID_TRANSITIONS[type][status] !== undefined,
    );
    expect(allowedActions(status).sort()).toEqual(expected.sort());
  });
});

describe('what each transition changes', () => {
  it.each([
    {
      name: 'auto assign sets the operator and withdraws offers',
      session: snapshot('queued', { offeredTo: ['op-a', 'op-b'] }),
      action: { type: 'assign', operatorId: 'op-b', mode: 'auto' },
      patch: { operatorId: 'op-b', offeredTo: [] },
    },
    {
      name: 'an operator takes a session from the bot',
      session: snapshot('bot'),
      action: { type: 'assign', operatorId: 'op-b', mode: 'take' },
      patch: { operatorId: 'op-b' },
    },
    {
      name: 'offer records who may take the session',
      session: snapshot('queued'),
      action: { type: 'offer', operatorIds: ['op-a', 'op-c'] },
      patch: { offeredTo: ['op-a', 'op-c'] },
    },
    {
      name: 'offer to the same operators changes nothing',
      session: snapshot('queued', { offeredTo: ['op-a'] }),
      action: { type: 'offer', operatorIds: ['op-a'] },
      patch: {},
    },
    {
      name: 'skip clears the operator, remembers them and drops their pin',
      session: snapshot('answered', { passedBy: ['op-z'], pinned: true }),
      action: { type: 'skip' },
      patch: { operatorId: null, passedBy: ['op-z', 'op-a'], pinned: false },
    },
    {
      name: 'skip does not list the same operator twice',
      session: snapshot('client_waiting', { passedBy: ['op-a'] }),
      action: { type: 'skip' },
      patch: { operatorId: null },
    },
    {
      name: 'queue timeout passes the session on like a skip (Q-3)',
      session: snapshot('assigned'),
      action: { type: 'queue_timeout' },
      patch: { operatorId: null, passedBy: ['op-a'] },
    },
    {
      name: 'transfer to an operator replaces the holder without marking a pass',
      session: snapshot('answered', { pinned: true, passedBy: ['op-z'] }),
      action: { type: 'transfer_operator', operatorId: 'op-b' },
      patch: { operatorId: 'op-b', pinned: false },
    },
    {
      name: 'transfer to a line starts afresh in the new queue',
      session: snapshot('client_waiting', { passedBy: ['op-z'], pinned: true }),
      action: { type: 'transfer_line', lineId: 'line-2' },
      patch: { lineId: 'line-2', operatorId: null, passedBy: [], pinned: false },
    },
    {
      name: 'closing keeps the operator and the pin for the next session (Q-10)',
      session: snapshot('answered', { pinned: true }),
      action: { type: 'close' },
      patch: {},
    },
    {
      name: 'closing a queued session withdraws its offers',
      session: snapshot('queued', { offeredTo: ['op-a'] }),
      action: { type: 'mark_spam' },
      patch: { offeredTo: [] },
    },
    {
      name: 'pin',
      session: snapshot('assigned'),
      action: { type: 'pin' },
      patch: { pinned: true },
    },
    {
      name: 'pin is idempotent',
      session: snapshot('assigned', { pinned: true }),
      action: { type: 'pin' },
      patch: {},
    },
    {
      name: 'unpin',
      session: snapshot('client_waiting', { pinned: true }),
      action: { type: 'unpin' },
      patch: { pinned: false },
    },
  ] satisfies { name: string; session: SessionSnapshot; action: SessionAction; patch: object }[])(
    '$name',
    ({ session, action, patch }) => {
      const result = transition(session, action);
      expect(result.ok).toBe(true);
      if (!result.ok) return;
      expect(result.patch).toEqual(patch);
      expect(result.session).toEqual({ ...session, ...patch, status: result.status });
    },
  );

  it('does not mutate the snapshot it was given', () => {
    const session = snapshot('answered', { passedBy: ['op-z'] });
    const copy = structuredClone(session);
    transition(session, { type: 'skip' });
    expect(session).toEqual(copy);
  });
});

describe('refusals that depend on the action', () => {
  it.each([
    {
      name: 'automatic routing does not take a session from the bot',
      session: snapshot('bot'),
      action: { type: 'assign', operatorId: 'op-b', mode: 'auto' },
      code: 'invalid_state',
    },
    {
      name: 'transfer to the current operator',
      session: snapshot('answered'),
      action: { type: 'transfer_operator', operatorId: 'op-a' },
      code: 'same_operator',
    },
    {
      name: 'transfer to the current line',
      session: snapshot('queued'),
      action: { type: 'transfer_line', lineId: 'line-1' },
      code: 'same_line',
    },
    {
      name: 'a pinned session is not redistributed on queue timeout',
      session: snapshot('assigned', { pinned: true }),
      action: { type: 'queue_timeout' },
      code: 'pinned',
    },
    {
      name: 'a pinned session is not auto-closed',
      session: snapshot('answered', { pinned: true }),
      action: { type: 'auto_close' },
      code: 'pinned',
    },
  ] satisfies { name: string; session: SessionSnapshot; action: SessionAction; code: string }[])(
    '$name → $code',
    ({ session, action, code }) => {
      expect(transition(session, action)).toEqual({
        ok: false,
        code,
        from: session.status,
        action: action.type,
      });
    },
  );

  it('a pinned session may still be skipped by its operator', () => {
    expect(transition(snapshot('assigned', { pinned: true }), { type: 'skip' })).toMatchObject({
      ok: true,
      status: 'queued',
    });
  });
});

describe('a whole session', () => {
  it('walks new → bot → queued → assigned → answered ⇄ client_waiting → closed', () => {
    const steps: [SessionAction, SessionStatus][] = [
      [{ type: 'bot_started' }, 'bot'],
      [{ type: 'client_message' }, 'bot'],
      [{ type: 'bot_handover' }, 'queued'],
      [{ type: 'assign', operatorId: 'op-a', mode: 'auto' }, 'assigned'],
      [{ type: 'queue_timeout' }, 'queued'],
      [{ type: 'assign', operatorId: 'op-b', mode: 'auto' }, 'assigned'],
      [{ type: 'operator_message' }, 'answered'],
      [{ type: 'client_message' }, 'client_waiting'],
      [{ type: 'operator_message' }, 'answered'],
      [{ type: 'close' }, 'closed'],
    ];
    let session = snapshot('new');
    for (const [action, expected] of steps) {
      const result = transition(session, action);
      if (!result.ok) throw new Error(`${action.type} refused in ${session.status}`);
      expect(result.status).toBe(expected);
      session = result.session;
    }
    expect(session).toMatchObject({ status: 'closed', operatorId: 'op-b', passedBy: ['op-a'] });
  });
});

describe('countsTowardLimit', () => {
  const counted: Record<TypeMaxChat, SessionStatus[]> = {
    answered_new: ['assigned'],
    answered: ['assigned', 'client_waiting'],
    closed: ['assigned', 'answered', 'client_waiting'],
  };
  const cases = (Object.keys(counted) as TypeMaxChat[]).flatMap((typeMaxChat) =>
    SESSION_STATUSES.map((status) => ({
      typeMaxChat,
      status,
      counts: counted[typeMaxChat].includes(status),
    })),
  );

  it.each(cases)('$typeMaxChat: $status counts = $counts', ({ typeMaxChat, status, counts }) => {
    expect(countsTowardLimit(status, typeMaxChat)).toBe(counts);
  });
});
