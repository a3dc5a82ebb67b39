import { describe, expect, it } from 'vitest';
import {
  bucketOf,
  distribution,
  type FactMessage,
  type FactTransition,
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
