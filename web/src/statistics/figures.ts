import type { SessionSubset, StatisticsSummary } from '@openlines/contract';

// What the statistics screen shows of a summary: which figures, how each is read, and how a figure
// compares with the previous period. Pure, so it is tested without a browser.

export type FigureKind = 'count' | 'seconds' | 'share' | 'rating';

export interface Figure {
  key: string;
  kind: FigureKind;
  /** True when a higher value is better (the change is then shown as good). */
  higherIsBetter: boolean | null;
  value: (s: StatisticsSummary) => number | null;
  /** The sessions behind the figure, for a drill-down (counts of sessions only). */
  subset?: SessionSubset;
}

export const FIGURES: readonly Figure[] = [
  { key: 'sessions', kind: 'count', higherIsBetter: null, value: (s) => s.sessions, subset: 'all' },
  { key: 'newSessions', kind: 'count', higherIsBetter: null, value: (s) => s.newSessions },
  {
    key: 'returningSessions',
    kind: 'count',
    higherIsBetter: null,
    value: (s) => s.returningSessions,
    subset: 'returning',
  },
  { key: 'messagesIn', kind: 'count', higherIsBetter: null, value: (s) => s.messagesIn },
  { key: 'messagesOut', kind: 'count', higherIsBetter: null, value: (s) => s.messagesOut },
  { key: 'firstAnswerAverage', kind: 'seconds', higherIsBetter: false, value: (s) => s.firstAnswer.average },
  { key: 'firstAnswerMedian', kind: 'seconds', higherIsBetter: false, value: (s) => s.firstAnswer.median },
  { key: 'firstAnswerP90', kind: 'seconds', higherIsBetter: false, value: (s) => s.firstAnswer.p90 },
  { key: 'firstAnswerMax', kind: 'seconds', higherIsBetter: false, value: (s) => s.firstAnswer.max },
  { key: 'everyAnswerAverage', kind: 'seconds', higherIsBetter: false, value: (s) => s.everyAnswer.average },
  { key: 'everyAnswerMedian', kind: 'seconds', higherIsBetter: false, value: (s) => s.everyAnswer.median },
  { key: 'everyAnswerP90', kind: 'seconds', higherIsBetter: false, value: (s) => s.everyAnswer.p90 },
  { key: 'everyAnswerMax', kind: 'seconds', higherIsBetter: false, value: (s) => s.everyAnswer.max },
  { key: 'timeToCloseAverage', kind: 'seconds', higherIsBetter: null, value: (s) => s.timeToClose.average },
  { key: 'timeToCloseMedian', kind: 'seconds', higherIsBetter: null, value: (s) => s.timeToClose.median },
  { key: 'botSeconds', kind: 'seconds', higherIsBetter: null, value: (s) => s.botSeconds },
  {
    key: 'unanswered',
    kind: 'count',
    higherIsBetter: false,
    value: (s) => s.unanswered,
    subset: 'unanswered',
  },
  { key: 'missed', kind: 'count', higherIsBetter: false, value: (s) => s.missed, subset: 'missed' },
  {
    key: 'kpiBreaches',
    kind: 'count',
    higherIsBetter: false,
    value: (s) => s.kpiBreaches,
    subset: 'kpiBreached',
  },
  { key: 'likes', kind: 'count', higherIsBetter: true, value: (s) => s.likes, subset: 'liked' },
  { key: 'dislikes', kind: 'count', higherIsBetter: false, value: (s) => s.dislikes, subset: 'disliked' },
  { key: 'likeShare', kind: 'share', higherIsBetter: true, value: (s) => s.likeShare },
  {
    key: 'supervisorRatingAverage',
    kind: 'rating',
    higherIsBetter: true,
    value: (s) => s.supervisorRatingAverage,
  },
  { key: 'insideHours', kind: 'count', higherIsBetter: null, value: (s) => s.insideHours },
  {
    key: 'outsideHours',
    kind: 'count',
    higherIsBetter: null,
    value: (s) => s.outsideHours,
    subset: 'outsideHours',
  },
  { key: 'spam', kind: 'count', higherIsBetter: null, value: (s) => s.spam, subset: 'spam' },
];

export interface Change {
  /** Relative change (0.25 = +25 %); null when there is nothing to compare with. */
  ratio: number | null;
  direction: 'up' | 'down' | 'same' | 'none';
  /** good / bad when the figure has a better direction; neutral otherwise. */
  tone: 'good' | 'bad' | 'neutral';
}

/** How `current` compares with `previous`: no ratio when either is missing or the previous is 0. */
export function changeOf(
  current: number | null,
  previous: number | null,
  higherIsBetter: boolean | null,
): Change {
  if (current === null || previous === null) return { ratio: null, direction: 'none', tone: 'neutral' };
  const direction = current > previous ? 'up' : current < previous ? 'down' : 'same';
  const ratio = previous === 0 ? null : (current - previous) / Math.abs(previous);
  const tone =
    higherIsBetter === null || direction === 'same'
      ? 'neutral'
      : (direction === 'up') === higherIsBetter
        ? 'good'
        : 'bad';
  return { ratio, direction, tone };
}

/** YYYY-MM-DD of a local date. */
export function isoDate(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** The last `days` days up to and including `today`. */
export function lastDays(today: Date, days: number): { from: string; to: string } {
  const from = new Date(today.getFullYear(), today.getMonth(), today.getDate() - (days - 1));
  return { from: isoDate(from), to: isoDate(today) };
}

export type SortKey = 'name' | string;

/** Rows sorted by a figure (nulls last) or by name; ties by name. */
export function sortRows<T extends { name: string; summary: StatisticsSummary }>(
  rows: readonly T[],
  key: SortKey,
  descending: boolean,
): T[] {
  const figure = FIGURES.find((f) => f.key === key);
  return [...rows].sort((a, b) => {
    if (!figure) return (descending ? -1 : 1) * a.name.localeCompare(b.name);
    const x = figure.value(a.summary);
    const y = figure.value(b.summary);
    if (x === y) return a.name.localeCompare(b.name);
    if (x === null) return 1;
    if (y === null) return -1;
    return descending ? y - x : x - y;
  });
}
