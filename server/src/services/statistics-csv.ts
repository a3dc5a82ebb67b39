import type {
  SeriesReport,
  StatisticsSession,
  StatisticsSummary,
  SummaryReport,
  TableReport,
} from '@openlines/contract';
import { stringify } from 'csv-stringify/sync';
import { spreadsheetSafe } from '../core/csv-cells';

// CSV of every statistics report: one header row, then one row per item; seconds as numbers,
// empty cells where a figure is null. Cells that a spreadsheet would run as a formula are
// prefixed with an apostrophe (names come from users and clients).

const DISTRIBUTIONS = ['firstAnswer', 'everyAnswer', 'timeToClose'] as const;
const PARTS = ['count', 'average', 'median', 'p90', 'max'] as const;
const PLAIN = [
  'sessions',
  'newSessions',
  'returningSessions',
  'messagesIn',
  'messagesOut',
  'botMessages',
  'botSeconds',
  'unanswered',
  'missed',
  'kpiBreaches',
  'likes',
  'dislikes',
  'likeShare',
  'supervisorRatingAverage',
  'insideHours',
  'outsideHours',
  'spam',
] as const satisfies readonly (keyof StatisticsSummary)[];

/** The summary's columns, in order: plain figures, then each distribution's five parts. */
export const SUMMARY_COLUMNS: readonly string[] = [
  ...PLAIN,
  ...DISTRIBUTIONS.flatMap((d) => PARTS.map((p) => `${d}${p[0]?.toUpperCase()}${p.slice(1)}`)),
];

function summaryCells(summary: StatisticsSummary): (number | null)[] {
  return [
    ...PLAIN.map((key) => summary[key]),
    ...DISTRIBUTIONS.flatMap((d) => PARTS.map((p) => summary[d][p])),
  ];
}

const safe = spreadsheetSafe;

function csv(header: readonly string[], rows: readonly (string | number | null)[][]): string {
  return stringify(
    [[...header], ...rows.map((row) => row.map((cell) => (typeof cell === 'string' ? safe(cell) : cell)))],
    {
      cast: { number: (value) => String(value) },
      record_delimiter: 'windows',
    },
  );
}

export function summaryCsv(report: SummaryReport): string {
  return csv(
    ['period', 'from', 'to', ...SUMMARY_COLUMNS],
    [
      ['current', report.period.from, report.period.to, ...summaryCells(report.current)],
      ['previous', report.previousPeriod.from, report.previousPeriod.to, ...summaryCells(report.previous)],
    ],
  );
}

export function seriesCsv(report: SeriesReport): string {
  return csv(
    ['bucket', ...SUMMARY_COLUMNS],
    report.points.map((point) => [point.bucket, ...summaryCells(point.summary)]),
  );
}

export function tableCsv(report: TableReport): string {
  return csv(
    [report.dimension, 'name', ...SUMMARY_COLUMNS],
    report.rows.map((row) => [row.key, row.name, ...summaryCells(row.summary)]),
  );
}

/** The columns of the one-row-per-session export: every field of a StatisticsSession, in order. */
export const SESSION_COLUMNS = [
  'sessionId',
  'dialogId',
  'createdAt',
  'lineId',
  'channelId',
  'channelKind',
  'status',
  'operatorId',
  'returning',
  'messagesIn',
  'messagesOut',
  'botMessages',
  'firstAnswerSeconds',
  'answers',
  'longestAnswerSeconds',
  'closeSeconds',
  'botSeconds',
  'queueSeconds',
  'unanswered',
  'missed',
  'kpiBreaches',
  'spam',
  'outsideHours',
  'rating',
  'supervisorRating',
] as const satisfies readonly (keyof StatisticsSession)[];

const line = (cells: readonly (string | number | boolean | null)[]) =>
  stringify([cells.map((cell) => (typeof cell === 'string' ? safe(cell) : cell))], {
    cast: { number: (value) => String(value), boolean: (value) => (value ? 'true' : 'false') },
    record_delimiter: 'windows',
  });

/** The export as text chunks: the header, then one line per session as the rows come. */
export async function* sessionsCsv(rows: AsyncIterable<StatisticsSession>): AsyncGenerator<string> {
  yield line(SESSION_COLUMNS);
  for await (const row of rows) yield line(SESSION_COLUMNS.map((column) => row[column]));
}
