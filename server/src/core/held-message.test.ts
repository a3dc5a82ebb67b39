import { describe, expect, it } from 'vitest';
import { type HeldSessionFacts, planHeldClientMessage, planOperatorAnswer } from './held-message';

const now = new Date('2026-03-02T10:00:00Z');
const later = (seconds: number) => new Date(now.getTime() + seconds * 1000);

function session(overrides: Partial<HeldSessionFacts> = {}): HeldSessionFacts {
  return {
    status: 'answered',
    lineId: 'line',
    operatorId: 'op',
    passedBy: [],
    offeredTo: [],
    pinned: false,
    waitingSince: null,
    firstAnswerAt: new Date('2026-03-02T09:55:00Z'),
    ratingRequestedAt: null,
    rated: false,
    consentRequestedAt: null,
    consentGivenAt: null,
    armedTimers: [],
    ...overrides,
  };
}

const line = { noAnswerSeconds: 300, furtherAnswerTargetSeconds: 60, answersByReply: true };

describe('planHeldClientMessage', () => {
  const cases: {
    name: string;
    session: Partial<HeldSessionFacts>;
    line?: Partial<typeof line>;
    expected: ReturnType<typeof planHeldClientMessage>;
  }[] = [
    {
      name: 'after an answer: client_waiting, the wait starts with no-answer and further-answer timers',
      session: { armedTimers: ['auto_close'] },
      expected: {
        status: 'client_waiting',
        transition: { from: 'answered', to: 'client_waiting' },
        waitingSince: now,
        lastClientMessageAt: now,
        arm: [
          { kind: 'no_answer', dueAt: later(300) },
          { kind: 'kpi_further_answer', dueAt: later(60) },
        ],
        cancel: ['auto_close'],
      },
    },
    {
      name: 'already waiting: nothing but the time of the last message',
      session: { status: 'client_waiting', waitingSince: new Date('2026-03-02T09:59:00Z') },
      expected: {
        status: 'client_waiting',
        transition: null,
        waitingSince: null,
        lastClientMessageAt: now,
        arm: [],
        cancel: [],
      },
    },
    {
      name: 'before the first answer: no further-answer KPI, status stays assigned',
      session: { status: 'assigned', firstAnswerAt: null, waitingSince: null },
      expected: {
        status: 'assigned',
        transition: null,
        waitingSince: now,
        lastClientMessageAt: now,
        arm: [{ kind: 'no_answer', dueAt: later(300) }],
        cancel: [],
      },
    },
    {
      name: 'no further-answer target: only the no-answer timer',
      session: {},
      line: { furtherAnswerTargetSeconds: 0 },
      expected: {
        status: 'client_waiting',
        transition: { from: 'answered', to: 'client_waiting' },
        waitingSince: now,
        lastClientMessageAt: now,
        arm: [{ kind: 'no_answer', dueAt: later(300) }],
        cancel: [],
      },
    },
    { name: 'queued: not held', session: { status: 'queued', operatorId: null }, expected: null },
    { name: 'closed: not held', session: { status: 'closed' }, expected: null },
    { name: 'rating pending', session: { ratingRequestedAt: now }, expected: null },
    { name: 'consent pending in a messenger', session: { consentRequestedAt: now }, expected: null },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(planHeldClientMessage(session(c.session), { ...line, ...c.line }, now)).toEqual(c.expected);
    });
  }

  it('a consent pending in the widget (buttons) does not stop the lean path', () => {
    const plan = planHeldClientMessage(
      session({ consentRequestedAt: now }),
      { ...line, answersByReply: false },
      now,
    );
    expect(plan?.status).toBe('client_waiting');
  });

  it('a rated session takes messages plainly', () => {
    expect(planHeldClientMessage(session({ ratingRequestedAt: now, rated: true }), line, now)).not.toBeNull();
  });
});

describe('planOperatorAnswer', () => {
  const base = { unansweredBreaches: 0 };
  it('the first answer: answered, stamped, queue timeout and first-answer KPI end, auto-close starts', () => {
    expect(
      planOperatorAnswer(
        {
          ...session({
            status: 'assigned',
            firstAnswerAt: null,
            waitingSince: now,
            armedTimers: ['queue_timeout', 'no_answer', 'kpi_first_answer'],
          }),
          unansweredBreaches: 1,
        },
        { autoCloseSeconds: 600 },
        now,
      ),
    ).toEqual({
      status: 'answered',
      transition: { from: 'assigned', to: 'answered' },
      firstAnswerAt: now,
      lastOperatorMessageAt: now,
      answerBreaches: true,
      arm: [{ kind: 'auto_close', dueAt: later(600) }],
      cancel: ['no_answer', 'kpi_first_answer', 'queue_timeout'],
    });
  });

  it('a further answer: no new stamp, only armed timers are cancelled', () => {
    expect(
      planOperatorAnswer(
        {
          ...session({ status: 'client_waiting', armedTimers: ['kpi_further_answer', 'auto_close'] }),
          ...base,
        },
        { autoCloseSeconds: 60 },
        now,
      ),
    ).toMatchObject({
      status: 'answered',
      transition: { from: 'client_waiting', to: 'answered' },
      firstAnswerAt: null,
      answerBreaches: false,
      cancel: ['kpi_further_answer'],
    });
  });

  it('answering again: no transition', () => {
    expect(
      planOperatorAnswer({ ...session(), ...base }, { autoCloseSeconds: 60 }, now)?.transition,
    ).toBeNull();
  });

  it('a session nobody holds is not a plain answer', () => {
    expect(
      planOperatorAnswer(
        { ...session({ status: 'queued', operatorId: null }), ...base },
        { autoCloseSeconds: 60 },
        now,
      ),
    ).toBeNull();
  });
});
