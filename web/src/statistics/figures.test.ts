import type { StatisticsSummary } from '@openlines/contract';
import { describe, expect, it } from 'vitest';
import { changeOf, FIGURES, lastDays, sortRows } from './figures';

describe('changeOf', () => {
  it.each<[number | null, number | null, boolean | null, ReturnType<typeof changeOf>]>([
    [12, 10, null, { ratio: 0.2, direction: 'up', tone: 'neutral' }],
    [12, 10, true, { ratio: 0.2, direction: 'up', tone: 'good' }],
    [12, 10, false, { ratio: 0.2, direction: 'up', tone: 'bad' }],
    [5, 10, false, { ratio: -0.5, direction: 'down', tone: 'good' }],
    [10, 10, true, { ratio: 0, direction: 'same', tone: 'neutral' }],
    // Nothing before: a direction, but no percentage.
    [3, 0, true, { ratio: null, direction: 'up', tone: 'good' }],
    [null, 10, false, { ratio: null, direction: 'none', tone: 'neutral' }],
    [10, null, false, { ratio: null, direction: 'none', tone: 'neutral' }],
  ])('%s against %s (higher is better: %s)', (current, previous, better, expected) => {
    expect(changeOf(current, previous, better)).toEqual(expected);
  });
});

describe('lastDays', () => {
  it.each<[Date, number, { from: string; to: string }]>([
    [new Date(2026, 2, 2, 15), 30, { from: '2026-02-01', to: '2026-03-02' }],
    [new Date(2026, 0, 1, 0, 5), 7, { from: '2025-12-26', to: '2026-01-01' }],
    [new Date(2028, 1, 29), 1, { from: '2028-02-29', to: '2028-02-29' }],
  ])('%s, %s days', (today, days, expected) => {
    expect(lastDays(today, days)).toEqual(expected);
  });
});

describe('sortRows', () => {
  const summary = (sessions: number, firstAnswer: number | null) =>
    ({
      sessions,
      firstAnswer: {
        count: firstAnswer === null ? 0 : 1,
        average: firstAnswer,
        median: null,
        p90: null,
        max: null,
      },
    }) as unknown as StatisticsSummary;
  const rows = [
    { name: 'Boris', summary: summary(3, 40) },
    { name: 'Anna', summary: summary(5, null) },
    { name: 'Vera', summary: summary(3, 20) },
  ];
  it.each<[string, boolean, string[]]>([
    ['sessions', true, ['Anna', 'Boris', 'Vera']],
    ['sessions', false, ['Boris', 'Vera', 'Anna']],
    ['firstAnswerAverage', false, ['Vera', 'Boris', 'Anna']],
    ['firstAnswerAverage', true, ['Boris', 'Vera', 'Anna']],
    ['name', false, ['Anna', 'Boris', 'Vera']],
    ['name', true, ['Vera', 'Boris', 'Anna']],
  ])('by %s, descending %s', (key, descending, names) => {
    expect(sortRows(rows, key, descending).map((r) => r.name)).toEqual(names);
  });

  it('has one label key per figure, each unique', () => {
    expect(new Set(FIGURES.map((f) => f.key)).size).toBe(FIGURES.length);
  });
});
