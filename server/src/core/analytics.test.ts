import { describe, expect, it } from 'vitest';
import {
  bucketOf,
  bucketsBetween,
  daysIn,
  distribution,
  type FactMessage,
  type FactTransition,
  isCalendarDate,
  isTimeZone,
  periodOf,
  previousPeriod,
  type SessionInput,
  sessionFacts,
  summarize,
} from './analytics';
import { FakeClock } from './clock';

const t0 = new Date('2026-03-02T10:00:00Z');
const at = (s: number) => new Date(t0.getTime() + s * 1000);
const tr = (
  s: number,
  from: FactTransition['from'],
  to: FactTransition['to'],
  operatorId: string | null = null,
) => ({
  from,
  to,
  operatorId,
  at: at(s),
});
const msg = (
  s: number,
  author: FactMessage['author'],
  authorId: string | null = null,
  extra: Partial<FactMessage> = {},
) => ({
  author,
  authorId,
  private: false,
  spam: false,
  at: at(s),
  ...extra,
});
const input = (
  transitions: FactTransition[],
  messages: FactMessage[],
  extra: Partial<SessionInput> = {},
): SessionInput => ({
  transitions,
  messages,
  firstOfDialog: true,
  openedOffHours: false,
  rating: null,
  supervisorRating: null,
  targets: { firstAnswerSeconds: 60, furtherAnswerSeconds: 120 },
  ...extra,
});

describe('sessionFacts', () => {
  const clock = new FakeClock(at(1000));
  it.each<[string, SessionInput, Record<string, unknown>]>([
    [
      'answered once, closed',
      input(
        [tr(0, null, 'queued'), tr(10, 'queued', 'assigned', 'op1'), tr(100, 'assigned', 'closed', 'op1')],
        [msg(0, 'client'), msg(30, 'operator', 'op1')],
      ),
      {
        firstAnswerSeconds: 30,
        closeSeconds: 100,
        queueSeconds: 10,
        unanswered: false,
        missed: false,
        kpiBreaches: 0,
      },
    ],
    [
      'every answer measured from the first unanswered client message',
      input(
        [tr(0, null, 'assigned', 'op1'), tr(500, 'client_waiting', 'closed', 'op1')],
        [
          msg(0, 'client'),
          msg(20, 'operator', 'op1'),
          msg(100, 'client'),
          msg(150, 'client'),
          msg(400, 'operator', 'op1'),
        ],
      ),
      {
        answers: [
          { operatorId: 'op1', seconds: 20 },
          { operatorId: 'op1', seconds: 300 },
        ],
        kpiBreaches: 1,
        messagesIn: 3,
        messagesOut: 2,
      },
    ],
    [
      'bot hand-over: bot time kept out, waiting starts at hand-over',
      input(
        [
          tr(0, null, 'bot'),
          tr(200, 'bot', 'queued'),
          tr(210, 'queued', 'assigned', 'op1'),
          tr(300, 'assigned', 'closed', 'op1'),
        ],
        [msg(0, 'client'), msg(1, 'bot'), msg(50, 'client'), msg(250, 'operator', 'op1')],
      ),
      {
        botSeconds: 200,
        firstAnswerSeconds: 50,
        answers: [{ operatorId: 'op1', seconds: 50 }],
        botMessages: 1,
        queueSeconds: 10,
      },
    ],
    [
      'transfer: the last operator holds the session, each answer keeps its author',
      input(
        [
          tr(0, null, 'assigned', 'op1'),
          tr(40, 'assigned', 'assigned', 'op2'),
          tr(90, 'answered', 'closed', 'op2'),
        ],
        [msg(0, 'client'), msg(30, 'operator', 'op1'), msg(50, 'client'), msg(80, 'operator', 'op2')],
      ),
      {
        operatorId: 'op2',
        answers: [
          { operatorId: 'op1', seconds: 30 },
          { operatorId: 'op2', seconds: 30 },
        ],
      },
    ],
    [
      'closed with nobody answering: unanswered and missed',
      input([tr(0, null, 'queued'), tr(600, 'queued', 'auto_closed')], [msg(0, 'client')]),
      { unanswered: true, missed: true, firstAnswerSeconds: null, queueSeconds: 600 },
    ],
    [
      'closed with a later question unanswered: unanswered, not missed',
      input(
        [tr(0, null, 'assigned', 'op1'), tr(300, 'client_waiting', 'closed', 'op1')],
        [msg(0, 'client'), msg(10, 'operator', 'op1'), msg(200, 'client')],
      ),
      { unanswered: true, missed: false },
    ],
    [
      'spam is neither unanswered nor missed; spam messages are not counted',
      input([tr(0, null, 'queued'), tr(5, 'queued', 'spam')], [msg(0, 'client', null, { spam: true })]),
      { spam: true, unanswered: false, missed: false, messagesIn: 0 },
    ],
    [
      'reopen after close: time to close runs to the last closing',
      input(
        [
          tr(0, null, 'assigned', 'op1'),
          tr(100, 'assigned', 'closed', 'op1'),
          tr(200, 'closed', 'client_waiting', 'op1'),
          tr(400, 'client_waiting', 'closed', 'op1'),
        ],
        [msg(0, 'client'), msg(50, 'operator', 'op1'), msg(200, 'client'), msg(260, 'operator', 'op1')],
      ),
      {
        closeSeconds: 400,
        answers: [
          { operatorId: 'op1', seconds: 50 },
          { operatorId: 'op1', seconds: 60 },
        ],
      },
    ],
    [
      'private notes and system messages are not answers',
      input(
        [tr(0, null, 'assigned', 'op1')],
        [msg(0, 'client'), msg(10, 'operator', 'op1', { private: true }), msg(20, 'system')],
      ),
      { messagesOut: 0, firstAnswerSeconds: null, closeSeconds: null, unanswered: false },
    ],
    [
      'open bot session measures bot time up to now',
      input([tr(0, null, 'bot')], [msg(0, 'client')]),
      { botSeconds: 1000 },
    ],
  ])('%s', (_name, session, expected) => {
    expect(sessionFacts(session, clock.now())).toMatchObject(expected);
  });
});

describe('distribution', () => {
  it.each<[number[], Record<string, number | null>]>([
    [[], { count: 0, average: null, median: null, p90: null, max: null }],
    [[5], { count: 1, average: 5, median: 5, p90: 5, max: 5 }],
    [[4, 1, 3, 2], { average: 2.5, median: 2.5, p90: 4, max: 4 }],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], { median: 5.5, p90: 9, max: 10 }],
  ])('%j', (values, expected) => {
    expect(distribution(values)).toMatchObject(expected);
  });
});

describe('summarize', () => {
  const now = at(1000);
  const facts = [
    sessionFacts(
      input(
        [tr(0, null, 'bot'), tr(100, 'bot', 'assigned', 'op1'), tr(200, 'assigned', 'closed', 'op1')],
        [msg(0, 'client'), msg(150, 'operator', 'op1')],
        { rating: 'like', supervisorRating: 4 },
      ),
      now,
    ),
    sessionFacts(
      input(
        [tr(0, null, 'assigned', 'op2'), tr(100, 'assigned', 'closed', 'op2')],
        [msg(0, 'client'), msg(90, 'operator', 'op2')],
        {
          rating: 'dislike',
          firstOfDialog: false,
          openedOffHours: true,
        },
      ),
      now,
    ),
  ];
  it('whole account', () => {
    expect(summarize(facts)).toMatchObject({
      sessions: 2,
      newSessions: 1,
      returningSessions: 1,
      botSeconds: 100,
      likes: 1,
      dislikes: 1,
      likeShare: 0.5,
      supervisorRatingAverage: 4,
      insideHours: 1,
      outsideHours: 1,
      kpiBreaches: 1,
      firstAnswer: { count: 2, average: 70 },
    });
  });
  it('an operator: own sessions and answers only, no bot time', () => {
    expect(summarize(facts, 'op1')).toMatchObject({
      sessions: 1,
      botSeconds: 0,
      likeShare: 1,
      firstAnswer: { count: 1, average: 50 },
      everyAnswer: { count: 1, average: 50 },
      kpiBreaches: 0,
    });
  });
});

describe('summarize for a set of operators (a department)', () => {
  const now = at(1000);
  const facts = [
    sessionFacts(
      input(
        [tr(0, null, 'bot'), tr(40, 'bot', 'assigned', 'op1'), tr(300, 'assigned', 'closed', 'op1')],
        [msg(0, 'client'), msg(10, 'bot'), msg(20, 'client'), msg(100, 'operator', 'op1')],
      ),
      now,
    ),
    // op2 answers in op3's session (a consultation): the answer is op2's, the session op3's.
    sessionFacts(
      input(
        [tr(0, null, 'assigned', 'op3'), tr(500, 'assigned', 'closed', 'op3')],
        [msg(0, 'client'), msg(30, 'operator', 'op2'), msg(60, 'client'), msg(400, 'operator', 'op3')],
      ),
      now,
    ),
  ];
  it.each<[string, ReadonlySet<string> | undefined, Record<string, unknown>]>([
    ['everyone', undefined, { sessions: 2, botSeconds: 40, botMessages: 1, everyAnswer: { count: 3 } }],
    [
      'op1 and op2',
      new Set(['op1', 'op2']),
      { sessions: 1, botSeconds: 0, botMessages: 0, everyAnswer: { count: 2, max: 60 } },
    ],
    ['op3 alone', new Set(['op3']), { sessions: 1, everyAnswer: { count: 1, max: 340 }, kpiBreaches: 1 }],
    ['nobody of theirs', new Set(['op9']), { sessions: 0, everyAnswer: { count: 0, average: null } }],
  ])('%s', (_name, operators, expected) => {
    expect(summarize(facts, operators)).toMatchObject(expected);
  });
});

describe('bucketOf', () => {
  it.each<[string, string, 'day' | 'week' | 'month', string]>([
    ['2026-03-01T21:30:00Z', 'Europe/Moscow', 'day', '2026-03-02'],
    ['2026-03-01T21:30:00Z', 'UTC', 'day', '2026-03-01'],
    ['2026-03-04T12:00:00Z', 'UTC', 'week', '2026-03-02'],
    ['2026-03-01T12:00:00Z', 'UTC', 'week', '2026-02-23'],
    ['2026-03-31T23:30:00Z', 'Europe/Moscow', 'month', '2026-04-01'],
    // DST: 2026-03-29 01:00 UTC Europe/Berlin springs forward; the local date is still right.
    ['2026-03-29T22:30:00Z', 'Europe/Berlin', 'day', '2026-03-30'],
    ['2026-03-28T22:30:00Z', 'Europe/Berlin', 'day', '2026-03-28'],
  ])('%s in %s by %s', (instant, tz, bucket, expected) => {
    expect(bucketOf(new Date(instant), tz, bucket)).toBe(expected);
  });
});

describe('periodOf and previousPeriod', () => {
  it.each<[string, string, string, string, string, number]>([
    ['2026-03-02', '2026-03-08', 'UTC', '2026-03-02T00:00:00.000Z', '2026-03-09T00:00:00.000Z', 7 * 24],
    ['2026-03-02', '2026-03-02', 'Europe/Moscow', '2026-03-01T21:00:00.000Z', '2026-03-02T21:00:00.000Z', 24],
    // The spring-forward day in Berlin has 23 hours, the autumn one 25.
    ['2026-03-29', '2026-03-29', 'Europe/Berlin', '2026-03-28T23:00:00.000Z', '2026-03-29T22:00:00.000Z', 23],
    ['2026-10-25', '2026-10-25', 'Europe/Berlin', '2026-10-24T22:00:00.000Z', '2026-10-25T23:00:00.000Z', 25],
  ])('%s..%s in %s', (from, to, tz, start, end, hours) => {
    const period = periodOf(from, to, tz);
    expect([period.start.toISOString(), period.end.toISOString()]).toEqual([start, end]);
    expect((period.end.getTime() - period.start.getTime()) / 3_600_000).toBe(hours);
  });

  it.each<[string, string, string, string]>([
    ['2026-03-02', '2026-03-08', '2026-02-23', '2026-03-01'],
    ['2026-03-01', '2026-03-31', '2026-01-29', '2026-02-28'],
    ['2026-01-01', '2026-01-01', '2025-12-31', '2025-12-31'],
  ])('the period before %s..%s is %s..%s (as many days)', (from, to, prevFrom, prevTo) => {
    const before = previousPeriod(periodOf(from, to, 'Europe/Berlin'), 'Europe/Berlin');
    expect([before.from, before.to]).toEqual([prevFrom, prevTo]);
    expect(daysIn(before.from, before.to)).toBe(daysIn(from, to));
    expect(before.end.getTime()).toBe(periodOf(from, to, 'Europe/Berlin').start.getTime());
  });
});

describe('bucketsBetween', () => {
  it.each<[string, string, 'day' | 'week' | 'month', string[]]>([
    ['2026-02-27', '2026-03-02', 'day', ['2026-02-27', '2026-02-28', '2026-03-01', '2026-03-02']],
    ['2026-03-01', '2026-03-16', 'week', ['2026-02-23', '2026-03-02', '2026-03-09', '2026-03-16']],
    ['2026-01-31', '2026-03-01', 'month', ['2026-01-01', '2026-02-01', '2026-03-01']],
    ['2025-12-15', '2026-01-05', 'month', ['2025-12-01', '2026-01-01']],
    ['2026-03-29', '2026-03-30', 'day', ['2026-03-29', '2026-03-30']],
  ])('%s..%s by %s', (from, to, bucket, expected) => {
    expect(bucketsBetween(from, to, bucket)).toEqual(expected);
  });
});

describe('calendar dates and time zones', () => {
  it.each<[string, boolean]>([
    ['2026-02-28', true],
    ['2028-02-29', true],
    ['2026-02-29', false],
    ['2026-13-01', false],
    ['2026-3-1', false],
  ])('%s is a calendar date: %s', (date, valid) => expect(isCalendarDate(date)).toBe(valid));
  it.each<[string, boolean]>([
    ['Europe/Moscow', true],
    ['UTC', true],
    ['Mars/Olympus', false],
  ])('%s is a time zone: %s', (zone, valid) => expect(isTimeZone(zone)).toBe(valid));
});
