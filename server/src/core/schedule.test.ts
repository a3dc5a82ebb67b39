import { describe, expect, it } from 'vitest';
import { closesAt, isOpenAt, nextOpeningAt, type WorkSchedule } from './schedule';

const nineToSix = [{ from: '09:00', to: '18:00' }];

function schedule(overrides: Partial<WorkSchedule> = {}): WorkSchedule {
  return {
    timeZone: 'Europe/Berlin',
    weekly: {
      mon: nineToSix,
      tue: nineToSix,
      wed: nineToSix,
      thu: nineToSix,
      fri: nineToSix,
      sat: [],
      sun: [],
    },
    daysOff: [],
    holidays: [],
    ...overrides,
  };
}

describe('isOpenAt', () => {
  it.each<[string, WorkSchedule, string, boolean]>([
    ['Berlin Monday 09:00 local (CET, UTC+1)', schedule(), '2026-01-05T08:00:00Z', true],
    ['Berlin Monday 08:59 local', schedule(), '2026-01-05T07:59:00Z', false],
    ['Berlin Monday 18:00 local is closed (end excluded)', schedule(), '2026-01-05T17:00:00Z', false],
    ['Berlin Saturday', schedule(), '2026-01-10T10:00:00Z', false],
    ['Berlin summer Monday 09:00 local (CEST, UTC+2)', schedule(), '2026-07-06T07:00:00Z', true],
    ['Berlin summer Monday 08:30 local', schedule(), '2026-07-06T06:30:00Z', false],
    // Moscow has no DST: UTC+3 all year.
    ['Moscow Monday 09:00 local', schedule({ timeZone: 'Europe/Moscow' }), '2026-07-06T06:00:00Z', true],
    ['Moscow Monday 08:59 local', schedule({ timeZone: 'Europe/Moscow' }), '2026-07-06T05:59:00Z', false],
    ['a day off closes a weekday', schedule({ daysOff: ['mon'] }), '2026-01-05T10:00:00Z', false],
    ['a dated holiday', schedule({ holidays: ['2026-01-05'] }), '2026-01-05T10:00:00Z', false],
    ['a yearly holiday', schedule({ holidays: ['01-05'] }), '2027-01-05T10:00:00Z', false],
    [
      'the yearly holiday does not close other dates',
      schedule({ holidays: ['01-05'] }),
      '2027-01-06T10:00:00Z',
      true,
    ],
    [
      'a night shift across midnight (Mon 22:00–24:00 + Tue 00:00–06:00), just after midnight',
      schedule({
        weekly: {
          ...schedule().weekly,
          mon: [{ from: '22:00', to: '24:00' }],
          tue: [{ from: '00:00', to: '06:00' }],
        },
      }),
      '2026-01-05T23:30:00Z',
      true,
    ],
    [
      'the night shift at 23:59 local Monday',
      schedule({ weekly: { ...schedule().weekly, mon: [{ from: '22:00', to: '24:00' }] } }),
      '2026-01-05T22:59:00Z',
      true,
    ],
    [
      'two intervals with a lunch break: at lunch',
      schedule({
        weekly: {
          ...schedule().weekly,
          mon: [
            { from: '09:00', to: '13:00' },
            { from: '14:00', to: '18:00' },
          ],
        },
      }),
      '2026-01-05T12:30:00Z',
      false,
    ],
    ['New Year’s Eve is a Thursday in 2026', schedule(), '2026-12-31T10:00:00Z', true],
    ['and New Year’s Day 2027 a holiday', schedule({ holidays: ['01-01'] }), '2027-01-01T10:00:00Z', false],
  ])('%s', (_name, s, at, open) => {
    expect(isOpenAt(s, new Date(at))).toBe(open);
  });
});

describe('across daylight-saving changes (WH-4)', () => {
  // Berlin springs forward on 2026-03-29 at 02:00 → 03:00, and falls back on 2026-10-25 at 03:00 → 02:00.
  const allWeek = { from: '09:00', to: '18:00' };
  const daily = schedule({
    weekly: {
      mon: [allWeek],
      tue: [allWeek],
      wed: [allWeek],
      thu: [allWeek],
      fri: [allWeek],
      sat: [allWeek],
      sun: [allWeek],
    },
  });

  it.each<[string, string, boolean]>([
    ['the Saturday before spring-forward opens at 08:00Z (CET)', '2026-03-28T08:00:00Z', true],
    ['spring-forward Sunday opens at 07:00Z (CEST)', '2026-03-29T07:00:00Z', true],
    ['spring-forward Sunday 07:59Z is 09:59 local: open', '2026-03-29T07:59:00Z', true],
    ['spring-forward Sunday 06:59Z is 08:59 local: closed', '2026-03-29T06:59:00Z', false],
    ['fall-back Sunday 07:30Z is 08:30 local (CET again): closed', '2026-10-25T07:30:00Z', false],
    ['fall-back Sunday 08:00Z is 09:00 local: open', '2026-10-25T08:00:00Z', true],
  ])('%s', (_name, at, open) => {
    expect(isOpenAt(daily, new Date(at))).toBe(open);
  });

  it('next opening after a Saturday evening before spring-forward is Sunday 09:00 CEST', () => {
    expect(nextOpeningAt(daily, new Date('2026-03-28T20:00:00Z'))?.toISOString()).toBe(
      '2026-03-29T07:00:00.000Z',
    );
  });

  it('an interval in the skipped hour still opens (moved forward by the gap)', () => {
    const night = schedule({ weekly: { ...schedule().weekly, sun: [{ from: '02:30', to: '04:00' }] } });
    // 02:30 does not exist on 2026-03-29; it becomes 03:30 CEST = 01:30Z.
    expect(nextOpeningAt(night, new Date('2026-03-28T12:00:00Z'))?.toISOString()).toBe(
      '2026-03-29T01:30:00.000Z',
    );
  });
});

describe('nextOpeningAt and closesAt', () => {
  it.each<[string, WorkSchedule, string, string | null]>([
    ['open now returns now', schedule(), '2026-01-05T10:00:00Z', '2026-01-05T10:00:00.000Z'],
    ['Friday evening → Monday 09:00', schedule(), '2026-01-09T18:00:00Z', '2026-01-12T08:00:00.000Z'],
    ['before opening the same day', schedule(), '2026-01-05T05:00:00Z', '2026-01-05T08:00:00.000Z'],
    [
      'skips a holiday Monday',
      schedule({ holidays: ['2026-01-12'] }),
      '2026-01-09T18:00:00Z',
      '2026-01-13T08:00:00.000Z',
    ],
    [
      'across the year end',
      schedule({ holidays: ['01-01'] }),
      '2026-12-31T18:00:00Z',
      '2027-01-04T08:00:00.000Z',
    ],
    [
      'never, when no day has hours',
      schedule({ weekly: { mon: [], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [] } }),
      '2026-01-05T10:00:00Z',
      null,
    ],
  ])('%s', (_name, s, at, expected) => {
    expect(nextOpeningAt(s, new Date(at))?.toISOString() ?? null).toBe(expected);
  });

  it('closing time joins touching intervals and a midnight shift', () => {
    const s = schedule({
      weekly: {
        ...schedule().weekly,
        mon: [
          { from: '09:00', to: '13:00' },
          { from: '13:00', to: '24:00' },
        ],
        tue: [{ from: '00:00', to: '06:00' }],
      },
    });
    expect(closesAt(s, new Date('2026-01-05T10:00:00Z'))?.toISOString()).toBe('2026-01-06T05:00:00.000Z');
    expect(closesAt(s, new Date('2026-01-06T06:00:00Z'))).toBeNull();
  });
});
