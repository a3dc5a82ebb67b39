import { type Static, Type } from '@sinclair/typebox';
import { IdSchema, Timestamp } from './common';
import { PresenceSchema } from './users';

// Statistics (SPEC AN-1..AN-3): reports over a period and the supervisors' live board.
// Every figure's formula: docs/analytics.md.

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

/** The longest period one report covers: a year and a day, so "this year" always fits. */
export const MAX_REPORT_DAYS = 366;

export const LocalDate = Type.String({
  pattern: '^\\d{4}-\\d{2}-\\d{2}$',
  description: "A calendar date (YYYY-MM-DD) in the account's time zone",
});

export const StatisticsBucketSchema = Type.Union(
  [Type.Literal('day'), Type.Literal('week'), Type.Literal('month')],
  { description: 'day, week (starting on Monday) or calendar month, in the account time zone' },
);
export type StatisticsBucket = Static<typeof StatisticsBucketSchema>;

const filterFields = {
  from: LocalDate,
  to: { ...LocalDate, description: 'The last day of the period, included' },
  lineId: Type.Optional(IdSchema),
  channelId: Type.Optional(IdSchema),
  channelKind: Type.Optional(Type.String({ pattern: '^[a-z][a-z0-9_]{0,39}$' })),
  operatorId: Type.Optional(IdSchema),
  format: Type.Optional(
    Type.Union([Type.Literal('json'), Type.Literal('csv')], {
      default: 'json',
      description: 'csv: the same report as text/csv (one header row, then one row per item)',
    }),
  ),
};

export const StatisticsQuery = Type.Object(filterFields, { additionalProperties: false });
export type StatisticsQuery = Static<typeof StatisticsQuery>;

export const StatisticsSeriesQuery = Type.Object(
  { ...filterFields, bucket: Type.Optional({ ...StatisticsBucketSchema, default: 'day' }) },
  { additionalProperties: false },
);
export type StatisticsSeriesQuery = Static<typeof StatisticsSeriesQuery>;

export const StatisticsDimensionSchema = Type.Union(
  [Type.Literal('operator'), Type.Literal('line'), Type.Literal('channel'), Type.Literal('channel-kind')],
  { description: 'What each table row is' },
);
export type StatisticsDimension = Static<typeof StatisticsDimensionSchema>;
export const StatisticsTableParams = Type.Object(
  { dimension: StatisticsDimensionSchema },
  { additionalProperties: false },
);

export const DistributionSchema = Type.Object(
  {
    count: Type.Integer(),
    average: Nullable(Type.Number()),
    median: Nullable(Type.Number()),
    p90: Nullable(Type.Number()),
    max: Nullable(Type.Number()),
  },
  { title: 'Distribution', description: 'Seconds; null when count is 0' },
);

export const StatisticsSummarySchema = Type.Object(
  {
    sessions: Type.Integer(),
    newSessions: Type.Integer(),
    returningSessions: Type.Integer(),
    messagesIn: Type.Integer(),
    messagesOut: Type.Integer(),
    botMessages: Type.Integer({ description: "0 in an operator's or a department's figures" }),
    firstAnswer: DistributionSchema,
    everyAnswer: DistributionSchema,
    timeToClose: DistributionSchema,
    botSeconds: Type.Number({
      description: "Time in state bot; 0 in an operator's or a department's figures",
    }),
    unanswered: Type.Integer(),
    missed: Type.Integer(),
    kpiBreaches: Type.Integer(),
    likes: Type.Integer(),
    dislikes: Type.Integer(),
    likeShare: Nullable(Type.Number()),
    supervisorRatingAverage: Nullable(Type.Number()),
    insideHours: Type.Integer(),
    outsideHours: Type.Integer(),
    spam: Type.Integer(),
  },
  { title: 'StatisticsSummary' },
);
export type StatisticsSummary = Static<typeof StatisticsSummarySchema>;

const PeriodSchema = Type.Object({ from: LocalDate, to: LocalDate });

export const StatisticsScopeSchema = Type.Union(
  [Type.Literal('own'), Type.Literal('department'), Type.Literal('all')],
  {
    description: "Whose figures these are: the caller's own, their departments' members', or everyone's",
  },
);

export const SummaryReportSchema = Type.Object(
  {
    timeZone: Type.String(),
    scope: StatisticsScopeSchema,
    period: PeriodSchema,
    previousPeriod: PeriodSchema,
    current: StatisticsSummarySchema,
    previous: StatisticsSummarySchema,
  },
  { title: 'SummaryReport' },
);
export type SummaryReport = Static<typeof SummaryReportSchema>;

export const SeriesReportSchema = Type.Object(
  {
    timeZone: Type.String(),
    scope: StatisticsScopeSchema,
    bucket: StatisticsBucketSchema,
    points: Type.Array(Type.Object({ bucket: LocalDate, summary: StatisticsSummarySchema })),
  },
  { title: 'SeriesReport' },
);
export type SeriesReport = Static<typeof SeriesReportSchema>;

export const TableReportSchema = Type.Object(
  {
    timeZone: Type.String(),
    scope: StatisticsScopeSchema,
    dimension: StatisticsDimensionSchema,
    rows: Type.Array(
      Type.Object({
        key: Type.String({ description: 'The operator, line or channel id, or the channel kind' }),
        name: Type.String(),
        summary: StatisticsSummarySchema,
      }),
    ),
  },
  { title: 'TableReport' },
);
export type TableReport = Static<typeof TableReportSchema>;

export const LiveBoardSchema = Type.Object(
  {
    generatedAt: Timestamp,
    scope: StatisticsScopeSchema,
    inProgress: Type.Integer({ description: 'Open sessions held by an operator' }),
    lines: Type.Array(
      Type.Object({
        lineId: IdSchema,
        name: Type.String(),
        queued: Type.Integer({ description: 'Sessions waiting in the queue' }),
        longestWaitSeconds: Nullable(Type.Number({ description: 'The oldest queued session, since queued' })),
        longestWaitDialogId: Nullable(IdSchema),
        firstAnswerTargetSeconds: Nullable(
          Type.Integer({ description: "The line's first-answer target (KPI-1); null when it has none" }),
        ),
        waitingFirstAnswer: Type.Integer({ description: 'Open sessions with no operator answer yet' }),
        inProgress: Type.Integer(),
        bot: Type.Integer({ description: 'Sessions with a bot now' }),
      }),
    ),
    operators: Type.Array(
      Type.Object({
        userId: IdSchema,
        name: Type.String(),
        presence: PresenceSchema,
        absent: Type.Boolean({ description: 'On a recorded absence now' }),
        load: Type.Integer({ description: 'Open sessions the operator holds' }),
        limit: Nullable(
          Type.Integer({ description: 'The largest MAX_CHAT of their lines; null = unlimited' }),
        ),
        waiting: Type.Integer({
          description: 'Of their sessions, those where the client waits for an answer',
        }),
      }),
    ),
  },
  { title: 'LiveBoard' },
);
export type LiveBoard = Static<typeof LiveBoardSchema>;

/** Which sessions behind a figure a drill-down lists. */
export const SESSION_SUBSETS = [
  'all',
  'returning',
  'unanswered',
  'missed',
  'kpiBreached',
  'spam',
  'outsideHours',
  'liked',
  'disliked',
] as const;
export type SessionSubset = (typeof SESSION_SUBSETS)[number];

export const StatisticsSessionsQuery = Type.Object(
  {
    ...filterFields,
    only: Type.Optional(
      Type.Union(
        SESSION_SUBSETS.map((s) => Type.Literal(s)),
        { default: 'all', description: 'The sessions behind one figure' },
      ),
    ),
    limit: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 500, default: 100, description: 'JSON only: sessions per page' }),
    ),
    cursor: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: "The previous page's nextCursor" }),
    ),
  },
  { additionalProperties: false },
);
export type StatisticsSessionsQuery = Static<typeof StatisticsSessionsQuery>;

export const StatisticsSessionSchema = Type.Object(
  {
    sessionId: IdSchema,
    dialogId: IdSchema,
    createdAt: Timestamp,
    lineId: IdSchema,
    channelId: IdSchema,
    channelKind: Type.String(),
    status: Type.String(),
    operatorId: Nullable(IdSchema),
    returning: Type.Boolean(),
    messagesIn: Type.Integer(),
    messagesOut: Type.Integer(),
    botMessages: Type.Integer(),
    firstAnswerSeconds: Nullable(Type.Number()),
    answers: Type.Integer({ description: 'Operator answers to a waiting client' }),
    longestAnswerSeconds: Nullable(Type.Number()),
    closeSeconds: Nullable(Type.Number()),
    botSeconds: Type.Number(),
    queueSeconds: Type.Number(),
    unanswered: Type.Boolean(),
    missed: Type.Boolean(),
    kpiBreaches: Type.Integer(),
    spam: Type.Boolean(),
    outsideHours: Type.Boolean(),
    rating: Nullable(Type.Union([Type.Literal('like'), Type.Literal('dislike')])),
    supervisorRating: Nullable(Type.Integer()),
  },
  { title: 'StatisticsSession' },
);
export type StatisticsSession = Static<typeof StatisticsSessionSchema>;

export const StatisticsSessionPageSchema = Type.Object(
  {
    items: Type.Array(StatisticsSessionSchema),
    nextCursor: Nullable(Type.String({ description: 'Pass as cursor for the next page; null on the last' })),
  },
  { title: 'StatisticsSessionPage' },
);
export type StatisticsSessionPage = Static<typeof StatisticsSessionPageSchema>;
