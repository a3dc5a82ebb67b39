import { defaultLineSettings, type LineSettings } from '@openlines/contract';
import { describe, expect, it } from 'vitest';
import { type NewSessionInput, planSessionStart } from './new-session';
import type { OperatorState } from './routing';

const now = new Date('2026-03-02T10:00:00Z');
const after = (seconds: number) => new Date(now.getTime() + seconds * 1000);

function online(userId: string, overrides: Partial<OperatorState> = {}): OperatorState {
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

function input(overrides: Partial<NewSessionInput> = {}, settings: LineSettings = defaultLineSettings('en')) {
  return {
    settings,
    routingSettings: {
      queueType: settings.queue.distribution,
      checkAvailable: settings.queue.checkAvailable,
      maxChat: settings.queue.maxChat,
      typeMaxChat: settings.queue.typeMaxChat,
      crmForward: false,
    },
    lineId: 'line',
    lineActive: true,
    offHours: false,
    channelKind: 'api',
    firstSessionOfDialog: true,
    consentNeeded: false,
    pinnedOperatorId: null,
    contactFormText: 'Leave your contacts',
    queue: ['a', 'b'],
    operators: [online('a'), online('b')],
    strictCursor: null,
    bot: null,
    now,
    ...overrides,
  } satisfies NewSessionInput;
}

describe('planSessionStart', () => {
  it('opens, enqueues and routes a new client to an operator, with the welcome and its timers', () => {
    const settings = defaultLineSettings('en');
    const plan = planSessionStart(input({}, settings));
    expect(plan.status).toBe('assigned');
    expect(['a', 'b']).toContain(plan.operatorId);
    expect(plan.transitions.map((t) => [t.from, t.to, t.actor, t.reason])).toEqual([
      [null, 'new', 'client', 'client_message'],
      ['new', 'queued', 'system', 'new_session'],
      ['queued', 'assigned', 'system', 'routed_evenly'],
    ]);
    expect(plan.texts.map((t) => t.systemKind)).toEqual(['welcome']);
    expect(plan.timers.map((t) => t.kind)).toEqual(['no_answer', 'queue_timeout']);
    expect(plan.timers.find((t) => t.kind === 'queue_timeout')).toEqual({
      kind: 'queue_timeout',
      dueAt: after(settings.queue.queueTimeSeconds),
      payload: { operatorId: plan.operatorId },
    });
    expect(plan.queuedAt).toEqual(now);
    expect(plan.assignedAt).toEqual(now);
  });

  it('nobody online: waits in the queue, greeted', () => {
    const plan = planSessionStart(
      input({ operators: [online('a', { presence: 'offline' }), online('b', { presence: 'away' })] }),
    );
    expect(plan.status).toBe('queued');
    expect(plan.operatorId).toBeNull();
    expect(plan.decision).toEqual({ kind: 'wait', reason: 'no_operator_available' });
    expect(plan.transitions.at(-1)?.to).toBe('queued');
  });

  it('off hours: queued, not routed, the off-hours reply instead of the welcome', () => {
    const plan = planSessionStart(input({ offHours: true }));
    expect(plan.status).toBe('queued');
    expect(plan.decision).toBeNull();
    expect(plan.openedOffHours).toBe(true);
    expect(plan.texts.map((t) => t.systemKind)).toEqual(['off_hours']);
    expect(plan.offHoursReplySent).toBe(true);
  });

  it('LN-4: an inactive line stores the session as new, says nothing and routes nothing', () => {
    const plan = planSessionStart(input({ lineActive: false, consentNeeded: true }));
    expect(plan.status).toBe('new');
    expect(plan.texts).toEqual([]);
    expect(plan.consentRequestedAt).toBeNull();
    expect(plan.transitions).toHaveLength(1);
  });

  it('a pinned dialog goes back to its operator, and starts pinned', () => {
    const plan = planSessionStart(input({ pinnedOperatorId: 'b', firstSessionOfDialog: false }));
    expect(plan).toMatchObject({ status: 'assigned', operatorId: 'b', pinned: true });
    expect(plan.transitions.at(-1)?.reason).toBe('routed_pinned');
    // Welcome only on the dialog's first session (default).
    expect(plan.texts).toEqual([]);
  });

  it('consent needed: the agreement first, and the session remembers it asked', () => {
    const plan = planSessionStart(input({ consentNeeded: true }));
    expect(plan.texts.map((t) => t.systemKind)).toEqual(['consent_request', 'welcome']);
    expect(plan.consentRequestedAt).toEqual(now);
  });

  it('queue type all: offered to everyone who can take it, still queued, no transition', () => {
    const settings = defaultLineSettings('en');
    settings.queue.distribution = 'all';
    const plan = planSessionStart(input({}, settings));
    expect(plan.status).toBe('queued');
    expect(plan.offeredTo).toEqual(['a', 'b']);
    expect(plan.transitions.map((t) => t.to)).toEqual(['new', 'queued']);
  });

  it('strictly: the assignment moves the line cursor', () => {
    const settings = defaultLineSettings('en');
    settings.queue.distribution = 'strictly';
    const plan = planSessionStart(input({ strictCursor: 'a' }, settings));
    expect(plan.operatorId).toBe('b');
    expect(plan.strictCursor).toBe('b');
  });

  it('a first-answer target arms its KPI timer', () => {
    const settings = defaultLineSettings('en');
    settings.kpi.firstAnswer.targetSeconds = 120;
    const plan = planSessionStart(input({}, settings));
    expect(plan.timers).toContainEqual({ kind: 'kpi_first_answer', dueAt: after(120), payload: {} });
  });
});
