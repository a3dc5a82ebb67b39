import type { Session } from '@openlines/contract';
import { describe, expect, it } from 'vitest';
import {
  isPublicAddress,
  type SessionSnapshot,
  sessionChanges,
  snapshotOfSession,
  webhookUrlProblem,
} from './webhooks';

const SINCE = new Date('2026-03-02T10:00:00Z');

function session(patch: Partial<Session> = {}): Session {
  return {
    id: 's1',
    dialogId: 'd1',
    lineId: 'l1',
    status: 'queued',
    operatorId: null,
    offeredTo: [],
    participantIds: [],
    pinned: false,
    unanswered: false,
    createdAt: '2026-03-02T10:05:00.000Z',
    queuedAt: null,
    assignedAt: null,
    firstAnswerAt: null,
    lastClientMessageAt: null,
    closedAt: null,
    closeReason: null,
    openedOffHours: false,
    consent: 'not_required',
    kpi: { state: 'none', waitingSince: null, dueAt: null, firstAnswerSeconds: null, breaches: 0 },
    rating: null,
    ratingRequestedAt: null,
    supervisorRating: null,
    ...patch,
  };
}

const snap = (patch: Partial<Session> = {}): SessionSnapshot => snapshotOfSession(session(patch));
const rated = { value: 'like' as const, comment: null, at: '2026-03-02T11:00:00.000Z' };

describe('sessionChanges', () => {
  const cases: [string, SessionSnapshot | null, Session, string[]][] = [
    ['a new session in the queue', null, session(), ['session.started']],
    [
      'a new session routed at once',
      null,
      session({ status: 'assigned', operatorId: 'u1' }),
      ['session.started', 'session.assigned'],
    ],
    [
      'an old session seen for the first time',
      null,
      session({ createdAt: '2026-03-01T00:00:00.000Z', operatorId: 'u1', status: 'assigned' }),
      [],
    ],
    [
      'nothing changed',
      snap({ status: 'assigned', operatorId: 'u1' }),
      session({ status: 'answered', operatorId: 'u1' }),
      [],
    ],
    ['taken from the queue', snap(), session({ status: 'assigned', operatorId: 'u1' }), ['session.assigned']],
    [
      'passed to a colleague',
      snap({ status: 'answered', operatorId: 'u1' }),
      session({ status: 'assigned', operatorId: 'u2' }),
      ['session.transferred'],
    ],
    [
      'sent to another line',
      snap({ status: 'answered', operatorId: 'u1' }),
      session({ status: 'queued', operatorId: null, lineId: 'l2' }),
      ['session.transferred'],
    ],
    [
      'back to the queue',
      snap({ status: 'assigned', operatorId: 'u1' }),
      session({ status: 'queued', operatorId: null }),
      [],
    ],
    [
      'closed',
      snap({ status: 'answered', operatorId: 'u1' }),
      session({ status: 'closed', operatorId: 'u1' }),
      ['session.closed'],
    ],
    [
      'closed, seen again',
      snap({ status: 'closed', operatorId: 'u1' }),
      session({ status: 'closed', operatorId: 'u1' }),
      [],
    ],
    [
      'rated after closing',
      snap({ status: 'closed', operatorId: 'u1' }),
      session({ status: 'closed', operatorId: 'u1', rating: rated }),
      ['rating.received'],
    ],
    [
      'the same rating again',
      snap({ status: 'closed', operatorId: 'u1', rating: rated }),
      session({ status: 'closed', operatorId: 'u1', rating: rated }),
      [],
    ],
    [
      'a KPI target missed',
      snap({ status: 'assigned', operatorId: 'u1' }),
      session({
        status: 'assigned',
        operatorId: 'u1',
        kpi: { state: 'overdue', waitingSince: null, dueAt: null, firstAnswerSeconds: null, breaches: 1 },
      }),
      ['kpi.breached'],
    ],
    [
      'the next session of the dialog',
      snap({ status: 'closed', operatorId: 'u1' }),
      session({ id: 's2', createdAt: '2026-03-01T00:00:00.000Z' }),
      ['session.started'],
    ],
  ];
  it.each(cases)('%s', (_name, previous, next, expected) => {
    expect(sessionChanges(previous, next, SINCE).map((c) => c.type)).toEqual(expected);
  });

  it('names where a transfer came from, and which target a breach missed', () => {
    const [transfer] = sessionChanges(
      snap({ status: 'answered', operatorId: 'u1' }),
      session({ status: 'assigned', operatorId: 'u2' }),
      SINCE,
    );
    expect(transfer?.extra).toEqual({ from: { operatorId: 'u1', lineId: 'l1' } });
    const [breach] = sessionChanges(
      snap({ status: 'answered', operatorId: 'u1' }),
      session({
        status: 'client_waiting',
        operatorId: 'u1',
        firstAnswerAt: '2026-03-02T10:06:00.000Z',
        kpi: { state: 'overdue', waitingSince: null, dueAt: null, firstAnswerSeconds: 60, breaches: 1 },
      }),
      SINCE,
    );
    expect(breach).toEqual({ type: 'kpi.breached', extra: { kind: 'further_answer' } });
  });
});

describe('isPublicAddress', () => {
  const cases: [string, boolean][] = [
    ['93.184.216.34', true],
    ['2606:2800:220:1:248:1893:25c8:1946', true],
    ['127.0.0.1', false],
    ['10.0.0.1', false],
    ['172.16.5.4', false],
    ['192.168.1.1', false],
    ['169.254.169.254', false],
    ['100.64.0.1', false],
    ['0.0.0.0', false],
    ['224.0.0.1', false],
    ['::1', false],
    ['::', false],
    ['fe80::1', false],
    ['fd00::1', false],
    ['::ffff:127.0.0.1', false],
    ['::ffff:93.184.216.34', true],
    ['not an address', false],
  ];
  it.each(cases)('%s → %s', (address, expected) => {
    expect(isPublicAddress(address)).toBe(expected);
  });
});

describe('webhookUrlProblem', () => {
  const cases: [string, string | null][] = [
    ['https://example.com/hook', null],
    ['http://example.com:8080/a?b=c', null],
    ['ftp://example.com/', 'scheme'],
    ['javascript:alert(1)', 'scheme'],
    ['/relative', 'scheme'],
    ['https://user:secret@example.com/', 'credentials'],
  ];
  it.each(cases)('%s', (url, code) => {
    expect(webhookUrlProblem(url)?.code ?? null).toBe(code);
  });
});
