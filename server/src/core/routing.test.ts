import { describe, expect, it } from 'vitest';
import { FakeClock } from './clock';
import {
  chooseRoute,
  evenlyLoad,
  expandQueue,
  type IneligibleReason,
  type OperatorState,
  operatorLoad,
  planRedelegation,
  type QueuedSession,
  type RoutingContext,
  type RoutingDecision,
  type RoutingSettings,
  whyIneligible,
  withAssignment,
} from './routing';
import type { UserId } from './session-machine';

const clock = new FakeClock('2026-01-05T10:00:00Z');
const NOW = clock.now();
const minutes = (n: number) => new Date(NOW.getTime() + n * 60_000);

function operator(userId: UserId, overrides: Partial<OperatorState> = {}): OperatorState {
  return {
    userId,
    presence: 'online',
    active: true,
    absences: [],
    openSessions: {},
    handling: [],
    lastAssignedAt: null,
    ...overrides,
  };
}

function settings(overrides: Partial<RoutingSettings> = {}): RoutingSettings {
  return {
    queueType: 'evenly',
    checkAvailable: true,
    maxChat: 0,
    typeMaxChat: 'answered',
    crmForward: false,
    ...overrides,
  };
}

interface RouteCase {
  name: string;
  settings?: Partial<RoutingSettings>;
  queue?: UserId[];
  operators: OperatorState[];
  context?: Partial<RoutingContext>;
  expected: RoutingDecision;
}

function route(c: Omit<RouteCase, 'name' | 'expected'>): RoutingDecision {
  return chooseRoute({
    settings: settings(c.settings),
    queue: c.queue ?? c.operators.map((o) => o.userId),
    operators: c.operators,
    context: { passedBy: [], ...c.context },
    now: NOW,
  });
}

const assign = (operatorId: UserId, reason: 'pinned' | 'crm_responsible' | 'evenly' | 'strictly') =>
  ({ kind: 'assign', operatorId, reason }) as const;
const wait = (reason: 'no_operator_available' | 'all_passed' | 'empty_queue') =>
  ({ kind: 'wait', reason }) as const;

function runTable(cases: RouteCase[]) {
  it.each(cases)('$name', ({ expected, ...input }) => {
    expect(route(input)).toEqual(expected);
  });
}

describe('expandQueue', () => {
  const departments = new Map([
    ['sales', ['u2', 'u3']],
    ['support', ['u3', 'u4', 'u1']],
    ['empty', []],
  ]);

  it.each([
    { name: 'users only, in order', entries: ['user:u2', 'user:u1'], expected: ['u2', 'u1'] },
    {
      name: 'a department is replaced by its members in its position',
      entries: ['user:u1', 'department:sales', 'user:u5'],
      expected: ['u1', 'u2', 'u3', 'u5'],
    },
    {
      name: 'duplicates keep their first position',
      entries: ['department:sales', 'department:support', 'user:u2'],
      expected: ['u2', 'u3', 'u4', 'u1'],
    },
    {
      name: 'unknown and empty departments contribute nobody',
      entries: ['department:gone', 'user:u1', 'department:empty'],
      expected: ['u1'],
    },
    { name: 'empty queue', entries: [], expected: [] },
  ])('$name', ({ entries, expected }) => {
    const parsed = entries.map((entry) => {
      const [type, id] = entry.split(':') as ['user' | 'department', string];
      return { type, id };
    });
    expect(expandQueue(parsed, departments)).toEqual(expected);
  });
});

describe('operatorLoad and limits per TYPE_MAX_CHAT', () => {
  // 1 not answered yet, 1 client waiting after an answer, 5 answered and quiet.
  const busy = operator('a', { openSessions: { assigned: 1, client_waiting: 1, answered: 5 } });

  it.each([
    { typeMaxChat: 'answered_new', load: 1, atLimitOf2: null },
    { typeMaxChat: 'answered', load: 2, atLimitOf2: 'at_limit' },
    { typeMaxChat: 'closed', load: 7, atLimitOf2: 'at_limit' },
  ] as const)('$typeMaxChat: load $load, limit 2 → $atLimitOf2', ({ typeMaxChat, load, atLimitOf2 }) => {
    expect(operatorLoad(busy, typeMaxChat)).toBe(load);
    expect(whyIneligible(busy, settings({ typeMaxChat, maxChat: 2 }), NOW)).toBe(atLimitOf2);
    expect(whyIneligible(busy, settings({ typeMaxChat, maxChat: 0 }), NOW)).toBeNull();
  });
});

describe('whyIneligible', () => {
  const absentAroundNow = { from: minutes(-60), to: minutes(60) };

  it.each<{
    name: string;
    operator: OperatorState;
    checkAvailable: boolean;
    expected: IneligibleReason | null;
  }>([
    { name: 'online', operator: operator('a'), checkAvailable: true, expected: null },
    {
      name: 'away with availability check',
      operator: operator('a', { presence: 'away' }),
      checkAvailable: true,
      expected: 'not_online',
    },
    {
      name: 'offline with availability check',
      operator: operator('a', { presence: 'offline' }),
      checkAvailable: true,
      expected: 'not_online',
    },
    {
      name: 'offline without availability check',
      operator: operator('a', { presence: 'offline' }),
      checkAvailable: false,
      expected: null,
    },
    {
      name: 'away without availability check',
      operator: operator('a', { presence: 'away' }),
      checkAvailable: false,
      expected: null,
    },
    {
      name: 'absence covering now',
      operator: operator('a', { absences: [absentAroundNow] }),
      checkAvailable: true,
      expected: 'absent',
    },
    {
      name: 'absence starting exactly now',
      operator: operator('a', { absences: [{ from: NOW, to: minutes(60) }] }),
      checkAvailable: true,
      expected: 'absent',
    },
    {
      name: 'absence that ended exactly now',
      operator: operator('a', { absences: [{ from: minutes(-60), to: NOW }] }),
      checkAvailable: true,
      expected: null,
    },
    {
      name: 'absence in the future',
      operator: operator('a', { absences: [{ from: minutes(1), to: minutes(60) }] }),
      checkAvailable: true,
      expected: null,
    },
    {
      name: 'absence without availability check',
      operator: operator('a', { absences: [absentAroundNow] }),
      checkAvailable: false,
      expected: null,
    },
    {
      name: 'dismissed with availability check',
      operator: operator('a', { active: false }),
      checkAvailable: true,
      expected: 'dismissed',
    },
    {
      name: 'dismissed without availability check',
      operator: operator('a', { active: false, presence: 'offline' }),
      checkAvailable: false,
      expected: 'dismissed',
    },
  ])('$name → $expected', ({ operator, checkAvailable, expected }) => {
    expect(whyIneligible(operator, settings({ checkAvailable }), NOW)).toBe(expected);
  });

  it('follows the clock: an absence stops applying once it ends', () => {
    const testClock = new FakeClock(NOW);
    const onLeave = operator('a', { absences: [{ from: minutes(-10), to: minutes(30) }] });
    expect(whyIneligible(onLeave, settings(), testClock.now())).toBe('absent');
    testClock.advance(30 * 60_000);
    expect(whyIneligible(onLeave, settings(), testClock.now())).toBeNull();
  });
});

describe('evenly', () => {
  /** `count` sessions held now, each assigned `minutesAgo` before NOW. */
  const held = (count: number, minutesAgo = 1) => Array.from({ length: count }, () => minutes(-minutesAgo));
  runTable([
    {
      name: 'fewest sessions held wins',
      operators: [
        operator('a', { handling: held(2) }),
        operator('b', { handling: held(1) }),
        operator('c', { handling: held(3) }),
      ],
      expected: assign('b', 'evenly'),
    },
    {
      name: 'every held session is load, whatever TYPE_MAX_CHAT counts: 4 answered weigh more than 1 new',
      settings: { typeMaxChat: 'answered' },
      operators: [
        operator('a', { openSessions: { answered: 4 }, handling: held(4) }),
        operator('b', { openSessions: { assigned: 1 }, handling: held(1) }),
      ],
      expected: assign('b', 'evenly'),
    },
    {
      name: "sessions on the account's other lines are load too",
      operators: [operator('a', { handling: held(2) }), operator('b', { handling: held(1) })],
      expected: assign('b', 'evenly'),
    },
    {
      name: 'as many sessions → whoever has spent less time handling them',
      operators: [
        operator('a', { handling: held(2, 40), lastAssignedAt: minutes(-90) }),
        operator('b', { handling: held(2, 5), lastAssignedAt: minutes(-5) }),
      ],
      expected: assign('b', 'evenly'),
    },
    {
      name: 'the limit keeps its own count: the busier operator gets it when the other is at MAX_CHAT',
      settings: { typeMaxChat: 'answered', maxChat: 2 },
      operators: [
        operator('a', { openSessions: { answered: 4 }, handling: held(4) }),
        operator('b', { openSessions: { assigned: 2 }, handling: held(2) }),
      ],
      expected: assign('a', 'evenly'),
    },
    {
      name: 'tie → whoever was assigned longest ago',
      operators: [
        operator('a', { handling: held(1), lastAssignedAt: minutes(-10) }),
        operator('b', { handling: held(1), lastAssignedAt: minutes(-30) }),
      ],
      expected: assign('b', 'evenly'),
    },
    {
      name: 'tie → never assigned comes before any assignment time',
      operators: [operator('a', { lastAssignedAt: minutes(-600) }), operator('b', { lastAssignedAt: null })],
      expected: assign('b', 'evenly'),
    },
    {
      name: 'full tie → queue order',
      queue: ['b', 'a'],
      operators: [operator('a'), operator('b')],
      expected: assign('b', 'evenly'),
    },
    {
      name: 'a lighter operator who passed is not chosen',
      operators: [operator('a'), operator('b', { handling: held(3) })],
      context: { passedBy: ['a'] },
      expected: assign('b', 'evenly'),
    },
  ]);

  it('handling time follows the clock', () => {
    const testClock = new FakeClock(NOW);
    const busy = operator('a', { handling: [minutes(-10), minutes(-2)] });
    expect(evenlyLoad(busy, testClock.now())).toEqual({ sessions: 2, handledMs: 12 * 60_000 });
    testClock.advance(60_000);
    expect(evenlyLoad(busy, testClock.now())).toEqual({ sessions: 2, handledMs: 14 * 60_000 });
  });
});

describe('strictly', () => {
  const abc = [operator('a'), operator('b'), operator('c')];
  runTable([
    {
      name: 'no cursor → first in queue',
      settings: { queueType: 'strictly' },
      operators: abc,
      expected: assign('a', 'strictly'),
    },
    {
      name: 'next after the cursor, regardless of load',
      settings: { queueType: 'strictly' },
      operators: [operator('a'), operator('b', { openSessions: { assigned: 9 } }), operator('c')],
      context: { strictCursor: 'a' },
      expected: assign('b', 'strictly'),
    },
    {
      name: 'wraps around after the last',
      settings: { queueType: 'strictly' },
      operators: abc,
      context: { strictCursor: 'c' },
      expected: assign('a', 'strictly'),
    },
    {
      name: 'skips an unavailable operator',
      settings: { queueType: 'strictly' },
      operators: [operator('a'), operator('b', { presence: 'offline' }), operator('c')],
      context: { strictCursor: 'a' },
      expected: assign('c', 'strictly'),
    },
    {
      name: 'still respects the limit',
      settings: { queueType: 'strictly', maxChat: 2 },
      operators: [operator('a'), operator('b', { openSessions: { assigned: 2 } }), operator('c')],
      context: { strictCursor: 'a' },
      expected: assign('c', 'strictly'),
    },
    {
      name: 'skips operators who passed, wrapping around',
      settings: { queueType: 'strictly' },
      operators: abc,
      context: { strictCursor: 'b', passedBy: ['c'] },
      expected: assign('a', 'strictly'),
    },
    {
      name: 'the cursor operator gets it again when nobody else can',
      settings: { queueType: 'strictly' },
      operators: [operator('a', { presence: 'away' }), operator('b'), operator('c', { active: false })],
      context: { strictCursor: 'b' },
      expected: assign('b', 'strictly'),
    },
    {
      name: 'a cursor no longer in the queue restarts from the top',
      settings: { queueType: 'strictly' },
      operators: abc,
      context: { strictCursor: 'gone' },
      expected: assign('a', 'strictly'),
    },
  ]);

  it('goes round the queue session after session', () => {
    const given: UserId[] = [];
    let strictCursor: UserId | null = null;
    for (let i = 0; i < 7; i++) {
      const decision = route({
        settings: { queueType: 'strictly' },
        operators: abc,
        context: { strictCursor },
      });
      if (decision.kind !== 'assign') throw new Error('expected an assignment');
      given.push(decision.operatorId);
      strictCursor = decision.operatorId;
    }
    expect(given).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a']);
  });
});

describe('all', () => {
  runTable([
    {
      name: 'offered to every operator who can receive it, in queue order',
      settings: { queueType: 'all', maxChat: 1 },
      queue: ['c', 'a', 'b', 'd', 'e'],
      operators: [
        operator('a'),
        operator('b', { presence: 'offline' }),
        operator('c'),
        operator('d', { openSessions: { assigned: 1 } }),
        operator('e', { active: false }),
      ],
      expected: { kind: 'offer', operatorIds: ['c', 'a'] },
    },
    {
      name: 'operators who passed are not offered it again',
      settings: { queueType: 'all' },
      operators: [operator('a'), operator('b'), operator('c')],
      context: { passedBy: ['b'] },
      expected: { kind: 'offer', operatorIds: ['a', 'c'] },
    },
    {
      name: 'a pinned operator gets it directly',
      settings: { queueType: 'all' },
      operators: [operator('a'), operator('b')],
      context: { pinnedOperatorId: 'b' },
      expected: assign('b', 'pinned'),
    },
  ]);
});

describe('passing to the next operator without loops (Q-3)', () => {
  it.each(['evenly', 'strictly', 'all'] as const)('%s: A → B → C → all_passed', (queueType) => {
    const operators = [operator('a'), operator('b'), operator('c')];
    const passedBy: UserId[] = [];
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) {
      const decision = route({ settings: { queueType }, operators, context: { passedBy } });
      if (decision.kind === 'wait') {
        seen.push(decision.reason);
        break;
      }
      const next = decision.kind === 'assign' ? decision.operatorId : decision.operatorIds[0]!;
      seen.push(next);
      passedBy.push(next);
    }
    expect(seen).toEqual(['a', 'b', 'c', 'all_passed']);
  });

  runTable([
    {
      name: 'the only available operator passed → all_passed, not no_operator_available',
      operators: [operator('a'), operator('b', { presence: 'offline' })],
      context: { passedBy: ['a'] },
      expected: wait('all_passed'),
    },
    {
      name: 'an operator who passed but is offline now does not make it all_passed',
      operators: [operator('a', { presence: 'offline' }), operator('b', { presence: 'away' })],
      context: { passedBy: ['a'] },
      expected: wait('no_operator_available'),
    },
  ]);
});

describe('waiting', () => {
  runTable([
    { name: 'empty queue', queue: [], operators: [operator('a')], expected: wait('empty_queue') },
    {
      name: 'nobody online with availability check',
      operators: [operator('a', { presence: 'away' }), operator('b', { presence: 'offline' })],
      expected: wait('no_operator_available'),
    },
    {
      name: 'everybody at the limit',
      settings: { maxChat: 1, typeMaxChat: 'closed' },
      operators: [
        operator('a', { openSessions: { answered: 1 } }),
        operator('b', { openSessions: { assigned: 1 } }),
      ],
      expected: wait('no_operator_available'),
    },
    {
      name: 'everybody absent',
      operators: [operator('a', { absences: [{ from: minutes(-1), to: minutes(1) }] })],
      expected: wait('no_operator_available'),
    },
    {
      name: 'dismissed operators never receive sessions, even without availability check',
      settings: { checkAvailable: false },
      operators: [operator('a', { active: false })],
      expected: wait('no_operator_available'),
    },
    {
      name: 'a queue member whose state was not loaded is not chosen',
      queue: ['ghost'],
      operators: [],
      expected: wait('no_operator_available'),
    },
  ]);
});

describe('availability off (Bitrix: offline operators still receive sessions)', () => {
  runTable([
    {
      name: 'offline operator is chosen',
      settings: { checkAvailable: false },
      operators: [operator('a', { presence: 'offline', openSessions: { assigned: 1 } }), operator('b')],
      queue: ['a'],
      expected: assign('a', 'evenly'),
    },
    {
      name: 'absent operator is chosen',
      settings: { checkAvailable: false },
      operators: [operator('a', { absences: [{ from: minutes(-1), to: minutes(1) }] })],
      expected: assign('a', 'evenly'),
    },
    {
      name: 'the limit still applies',
      settings: { checkAvailable: false, maxChat: 1 },
      operators: [operator('a', { presence: 'offline', openSessions: { assigned: 1 } })],
      expected: wait('no_operator_available'),
    },
  ]);
});

describe('pinned operator (Q-10)', () => {
  const queue = ['a', 'b'];
  runTable([
    {
      name: 'gets the session even when not in the queue',
      queue,
      operators: [operator('a'), operator('b'), operator('p', { openSessions: { assigned: 5 } })],
      context: { pinnedOperatorId: 'p' },
      expected: assign('p', 'pinned'),
    },
    {
      name: 'at the limit → the queue decides',
      settings: { maxChat: 2 },
      queue,
      operators: [operator('a'), operator('b'), operator('p', { openSessions: { assigned: 2 } })],
      context: { pinnedOperatorId: 'p' },
      expected: assign('a', 'evenly'),
    },
    {
      name: 'offline with availability check → the queue decides',
      queue,
      operators: [operator('a'), operator('b'), operator('p', { presence: 'offline' })],
      context: { pinnedOperatorId: 'p' },
      expected: assign('a', 'evenly'),
    },
    {
      name: 'offline without availability check → still pinned',
      settings: { checkAvailable: false },
      queue,
      operators: [operator('a'), operator('b'), operator('p', { presence: 'offline' })],
      context: { pinnedOperatorId: 'p' },
      expected: assign('p', 'pinned'),
    },
    {
      name: 'dismissed → the queue decides',
      settings: { checkAvailable: false },
      queue,
      operators: [operator('a'), operator('b'), operator('p', { active: false })],
      context: { pinnedOperatorId: 'p' },
      expected: assign('a', 'evenly'),
    },
    {
      name: 'let it pass → the queue decides',
      queue,
      operators: [operator('a'), operator('b'), operator('p')],
      context: { pinnedOperatorId: 'p', passedBy: ['p'] },
      expected: assign('a', 'evenly'),
    },
    {
      name: 'wins over the CRM responsible',
      settings: { crmForward: true },
      queue,
      operators: [operator('a'), operator('b'), operator('p'), operator('r')],
      context: { pinnedOperatorId: 'p', crmResponsibleId: 'r' },
      expected: assign('p', 'pinned'),
    },
    {
      name: 'gets the session even when the queue is empty',
      queue: [],
      operators: [operator('p')],
      context: { pinnedOperatorId: 'p' },
      expected: assign('p', 'pinned'),
    },
  ]);
});

describe('CRM responsible (Q-9)', () => {
  const queue = ['a', 'b'];
  runTable([
    {
      name: 'with CRM_FORWARD the responsible gets it, even outside the queue',
      settings: { crmForward: true, queueType: 'strictly' },
      queue,
      operators: [operator('a'), operator('b'), operator('r')],
      context: { crmResponsibleId: 'r' },
      expected: assign('r', 'crm_responsible'),
    },
    {
      name: 'without CRM_FORWARD the queue decides',
      settings: { crmForward: false },
      queue,
      operators: [operator('a'), operator('b'), operator('r')],
      context: { crmResponsibleId: 'r' },
      expected: assign('a', 'evenly'),
    },
    {
      name: 'responsible away → the queue decides',
      settings: { crmForward: true },
      queue,
      operators: [operator('a'), operator('b'), operator('r', { presence: 'away' })],
      context: { crmResponsibleId: 'r' },
      expected: assign('a', 'evenly'),
    },
    {
      name: 'responsible at the limit → the queue decides',
      settings: { crmForward: true, maxChat: 1, typeMaxChat: 'answered_new' },
      queue,
      operators: [operator('a'), operator('b'), operator('r', { openSessions: { assigned: 1 } })],
      context: { crmResponsibleId: 'r' },
      expected: assign('a', 'evenly'),
    },
    {
      name: 'responsible who is not an operator (not loaded) → the queue decides',
      settings: { crmForward: true },
      queue,
      operators: [operator('a'), operator('b')],
      context: { crmResponsibleId: 'r' },
      expected: assign('a', 'evenly'),
    },
    {
      name: 'pinned operator unavailable → falls through to the responsible',
      settings: { crmForward: true },
      queue,
      operators: [operator('a'), operator('b'), operator('p', { presence: 'offline' }), operator('r')],
      context: { pinnedOperatorId: 'p', crmResponsibleId: 'r' },
      expected: assign('r', 'crm_responsible'),
    },
  ]);
});

describe('departments in the queue', () => {
  it('routes strictly through department members in their department position', () => {
    const queue = expandQueue(
      [
        { type: 'user', id: 'a' },
        { type: 'department', id: 'support' },
        { type: 'user', id: 'b' },
      ],
      new Map([['support', ['s1', 'a', 's2']]]),
    );
    expect(queue).toEqual(['a', 's1', 's2', 'b']);
    const operators = queue.map((userId) => operator(userId));
    const decision = route({
      settings: { queueType: 'strictly' },
      queue,
      operators,
      context: { strictCursor: 'a' },
    });
    expect(decision).toEqual(assign('s1', 'strictly'));
  });
});

describe('planRedelegation (Q-6)', () => {
  const waiting = (
    sessionId: string,
    queuedMinutesAgo: number,
    context: Partial<QueuedSession['context']> = {},
  ) => ({
    sessionId,
    queuedAt: minutes(-queuedMinutesAgo),
    context: { passedBy: [], ...context },
  });
  const assignedTo = (plan: ReturnType<typeof planRedelegation>) =>
    Object.fromEntries(
      plan.decisions.map(({ sessionId, decision }) => [
        sessionId,
        decision.kind === 'assign' ? decision.operatorId : decision.kind,
      ]),
    );

  it('5 waiting, 2 operators with limit 2 → the 4 oldest assigned, nobody over the limit', () => {
    const plan = planRedelegation({
      settings: settings({ maxChat: 2 }),
      queue: ['a', 'b'],
      operators: [operator('a'), operator('b')],
      // Deliberately out of order: the plan serves them oldest first.
      sessions: [waiting('s3', 3), waiting('s5', 1), waiting('s1', 5), waiting('s4', 2), waiting('s2', 4)],
      strictCursor: null,
      now: NOW,
    });
    expect(plan.decisions.map((d) => d.sessionId)).toEqual(['s1', 's2', 's3', 's4', 's5']);
    expect(assignedTo(plan)).toEqual({ s1: 'a', s2: 'b', s3: 'a', s4: 'b', s5: 'wait' });
    expect(plan.decisions.at(-1)?.decision).toEqual(wait('no_operator_available'));
    const perOperator = plan.decisions.reduce<Record<string, number>>((counts, { decision }) => {
      if (decision.kind === 'assign') counts[decision.operatorId] = (counts[decision.operatorId] ?? 0) + 1;
      return counts;
    }, {});
    expect(perOperator).toEqual({ a: 2, b: 2 });
  });

  it('counts sessions the operators already hold', () => {
    const plan = planRedelegation({
      settings: settings({ maxChat: 2, typeMaxChat: 'answered_new' }),
      queue: ['a', 'b'],
      operators: [
        operator('a', { openSessions: { assigned: 1, answered: 3 } }),
        operator('b', { openSessions: { assigned: 2 } }),
      ],
      sessions: [waiting('s1', 3), waiting('s2', 2)],
      strictCursor: null,
      now: NOW,
    });
    expect(assignedTo(plan)).toEqual({ s1: 'a', s2: 'wait' });
  });

  it("each planned assignment is evenly's load for the next: the lighter operator catches up, then they alternate", () => {
    const plan = planRedelegation({
      settings: settings(),
      queue: ['a', 'b'],
      // a holds two sessions on another line, assigned just now; b holds none.
      operators: [operator('a', { handling: [NOW, NOW] }), operator('b')],
      sessions: [waiting('s1', 4), waiting('s2', 3), waiting('s3', 2), waiting('s4', 1)],
      strictCursor: null,
      now: NOW,
    });
    expect(assignedTo(plan)).toEqual({ s1: 'b', s2: 'b', s3: 'a', s4: 'b' });
  });

  it('advances the strictly cursor and returns it', () => {
    const plan = planRedelegation({
      settings: settings({ queueType: 'strictly' }),
      queue: ['a', 'b', 'c'],
      operators: [operator('a'), operator('b'), operator('c')],
      sessions: [waiting('s1', 3), waiting('s2', 2), waiting('s3', 1)],
      strictCursor: 'b',
      now: NOW,
    });
    expect(assignedTo(plan)).toEqual({ s1: 'c', s2: 'a', s3: 'b' });
    expect(plan.strictCursor).toBe('b');
  });

  it('honours each session’s own pin and passes, and pinned assignments do not move the cursor', () => {
    const plan = planRedelegation({
      settings: settings({ queueType: 'strictly', maxChat: 1 }),
      queue: ['a', 'b'],
      operators: [operator('a'), operator('b'), operator('p')],
      sessions: [
        waiting('s1', 3, { pinnedOperatorId: 'p' }),
        waiting('s2', 2, { passedBy: ['a'] }),
        waiting('s3', 1),
      ],
      strictCursor: null,
      now: NOW,
    });
    expect(assignedTo(plan)).toEqual({ s1: 'p', s2: 'b', s3: 'a' });
    expect(plan.strictCursor).toBe('a');
  });

  it('offers every waiting session on an "all" line; offers take no capacity', () => {
    const plan = planRedelegation({
      settings: settings({ queueType: 'all', maxChat: 1 }),
      queue: ['a', 'b'],
      operators: [operator('a'), operator('b')],
      sessions: [waiting('s1', 2), waiting('s2', 1)],
      strictCursor: null,
      now: NOW,
    });
    expect(plan.decisions.map((d) => d.decision)).toEqual([
      { kind: 'offer', operatorIds: ['a', 'b'] },
      { kind: 'offer', operatorIds: ['a', 'b'] },
    ]);
  });

  it('does not change the operator states it was given', () => {
    const operators = [operator('a')];
    planRedelegation({
      settings: settings(),
      queue: ['a'],
      operators,
      sessions: [waiting('s1', 1)],
      strictCursor: null,
      now: NOW,
    });
    expect(operators[0]).toEqual(operator('a'));
  });
});

describe('withAssignment (several new sessions routed in one transaction)', () => {
  it('counts the new session toward the limit, the load and the last assignment of that operator only', () => {
    const anna = operator('anna', { openSessions: { assigned: 1 }, handling: [minutes(-5)] });
    const boris = operator('boris');
    const [annaAfter, borisAfter] = withAssignment([anna, boris], 'anna', 'assigned', NOW);
    expect(annaAfter).toMatchObject({
      openSessions: { assigned: 2 },
      handling: [minutes(-5), NOW],
      lastAssignedAt: NOW,
    });
    expect(borisAfter).toBe(boris);
    expect(anna.openSessions).toEqual({ assigned: 1 });
  });

  it('makes the next decision of the same batch go by the new load, and stop at the limit', () => {
    let operators = [operator('anna'), operator('boris')];
    const chosen: string[] = [];
    for (let i = 0; i < 5; i++) {
      const decision = route({ settings: { maxChat: 2, typeMaxChat: 'closed' }, operators });
      if (decision.kind !== 'assign') break;
      chosen.push(decision.operatorId);
      operators = withAssignment(operators, decision.operatorId, 'assigned', NOW);
    }
    expect(chosen.sort()).toEqual(['anna', 'anna', 'boris', 'boris']);
  });
});
