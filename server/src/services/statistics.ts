import {
  CLOSED_STATUSES,
  isClosed,
  isUuid,
  type LineSettings,
  MAX_REPORT_DAYS,
  OPERATOR_STATUSES,
  type SessionStatus,
  type SessionSubset,
  type StatisticsBucket,
  type StatisticsDimension,
  type StatisticsQuery,
  type StatisticsSession,
  type StatisticsSessionPage,
  type StatisticsSessionsQuery,
  type StatisticsSummary,
} from '@openlines/contract';
import { type ExpressionBuilder, sql } from 'kysely';
import { connectorKinds } from '../channels/registry';
import type { AppContext } from '../context';
import {
  addTotals,
  bucketOf,
  bucketsBetween,
  type DistributionParts,
  daysIn,
  distributionOf,
  FACTS_VERSION,
  type FactMessage,
  type FactTransition,
  isCalendarDate,
  NO_TOTALS,
  type Period,
  periodOf,
  previousPeriod,
  type SessionFacts,
  sessionFacts,
  summaryOf,
  type Totals,
  totalsOf,
} from '../core/analytics';
import { AppError, forbidden, invalidField } from '../errors';
import type { Database } from '../store/database';
import type { DB } from '../store/schema';
import { type Actor, authorizeScope } from './actor';
import {
  coveredDays,
  distributionRows,
  type ExtraValue,
  type Grouping,
  groupOfDay,
  type Metric,
  type RollupScope,
  rollupRows,
} from './statistics-rollup';

// Statistics reports (SPEC AN-1/AN-2): the sessions of a period, their facts (core/analytics)
// from `session_facts` or computed now, aggregated for the caller's statistics scope.

export type ReportScope = 'own' | 'department' | 'all';

/** Whose figures a caller sees: everyone's (`operators` undefined) or a set of operators'. */
export interface Audience {
  scope: ReportScope;
  operators: ReadonlySet<string> | undefined;
}

export interface ReportFilter {
  period: Period;
  /** The account's time zone: the days of the period, and of the stored facts. */
  timeZone: string;
  lineId?: string | undefined;
  channelId?: string | undefined;
  channelKind?: string | undefined;
  operatorId?: string | undefined;
}

/** One session of a report: its facts, and what it is grouped by. */
export interface ReportSession {
  sessionId: string;
  dialogId: string;
  createdAt: Date;
  lineId: string;
  channelId: string;
  channelKind: string;
  status: SessionStatus;
  facts: SessionFacts;
}

/** How many sessions are computed (and their facts written) per round trip. */
const BATCH = 200;

async function accountTimeZone(db: Database, accountId: string): Promise<string> {
  const row = await db
    .selectFrom('accounts')
    .select('time_zone')
    .where('id', '=', accountId)
    .executeTakeFirstOrThrow();
  return row.time_zone;
}

/** The caller's statistics scope (AR-1); `none` is refused. */
async function audienceOf(ctx: AppContext, actor: Actor, operatorId: string | undefined): Promise<Audience> {
  authorizeScope(actor, 'statistics', 'own');
  const scope = actor.permissions.statistics as ReportScope;
  let operators: Set<string> | undefined;
  if (scope === 'own') operators = new Set([actor.userId]);
  if (scope === 'department') {
    const rows = await ctx.store.db
      .selectFrom('department_members as mine')
      .innerJoin('department_members as colleague', 'colleague.department_id', 'mine.department_id')
      .select('colleague.user_id')
      .distinct()
      .where('mine.account_id', '=', actor.accountId)
      .where('mine.user_id', '=', actor.userId)
      .execute();
    operators = new Set([actor.userId, ...rows.map((r) => r.user_id)]);
  }
  if (operatorId !== undefined) {
    if (operators && !operators.has(operatorId)) {
      throw forbidden(`Your "statistics" scope (${scope}) does not include this operator`);
    }
    operators = new Set([operatorId]);
  }
  return { scope, operators };
}

/** Checks a request's period and filters; every refusal names its field. */
async function filterOf(
  ctx: AppContext,
  actor: Actor,
  query: Omit<StatisticsQuery, 'format'>,
  timeZone: string,
): Promise<ReportFilter> {
  for (const field of ['from', 'to'] as const) {
    if (!isCalendarDate(query[field])) throw invalidField(`query.${field}`, 'is not a calendar date');
  }
  if (query.to < query.from) throw invalidField('query.to', 'must not be before from');
  if (daysIn(query.from, query.to) > MAX_REPORT_DAYS) {
    throw new AppError('validation_failed', `query.to: a period covers at most ${MAX_REPORT_DAYS} days`, [
      {
        field: 'query.to',
        message: `a period covers at most ${MAX_REPORT_DAYS} days`,
        rule: 'maxDays',
        limit: MAX_REPORT_DAYS,
      },
    ]);
  }
  const { db } = ctx.store;
  const accountId = actor.accountId;
  const owned = async (
    table: 'lines' | 'channels' | 'users',
    id: string | undefined,
    field: string,
    what: string,
  ) => {
    if (id === undefined) return;
    const row = await db
      .selectFrom(table)
      .select('id')
      .where('account_id', '=', accountId)
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw invalidField(field, `no such ${what} in this account`);
  };
  await owned('lines', query.lineId, 'query.lineId', 'line');
  await owned('channels', query.channelId, 'query.channelId', 'channel');
  await owned('users', query.operatorId, 'query.operatorId', 'user');
  if (query.channelKind !== undefined && !connectorKinds().includes(query.channelKind)) {
    throw invalidField('query.channelKind', 'is not a channel kind');
  }
  return {
    period: periodOf(query.from, query.to, timeZone),
    timeZone,
    lineId: query.lineId,
    channelId: query.channelId,
    channelKind: query.channelKind,
    operatorId: query.operatorId,
  };
}

type FactsRow = {
  [K in keyof SessionFacts]: SessionFacts[K];
};

function factsFromRow(row: {
  created_at: Date;
  is_returning: boolean;
  messages_in: number;
  messages_out: number;
  bot_messages: number;
  first_answer_seconds: number | null;
  answers: { operatorId: string | null; seconds: number }[];
  close_seconds: number | null;
  bot_seconds: number;
  queue_seconds: number;
  unanswered: boolean;
  missed: boolean;
  kpi_breaches: number;
  spam: boolean;
  operator_id: string | null;
}): Omit<FactsRow, 'offHours' | 'rating' | 'supervisorRating'> {
  return {
    // The stored start is not read back: no aggregate uses it (it is the session's creation).
    startedAt: row.created_at,
    returning: row.is_returning,
    messagesIn: row.messages_in,
    messagesOut: row.messages_out,
    botMessages: row.bot_messages,
    firstAnswerSeconds: row.first_answer_seconds,
    answers: row.answers,
    closeSeconds: row.close_seconds,
    botSeconds: row.bot_seconds,
    queueSeconds: row.queue_seconds,
    unanswered: row.unanswered,
    missed: row.missed,
    kpiBreaches: row.kpi_breaches,
    spam: row.spam,
    operatorId: row.operator_id,
  };
}

interface SessionRowForFacts {
  id: string;
  dialog_id: string;
  line_id: string;
  seq: number;
  opened_off_hours: boolean;
  rating: 'like' | 'dislike' | null;
  supervisor_rating: number | null;
}

/**
 * Computes the facts of sessions from their transitions and messages (three statements per batch
 * however many sessions it holds).
 */
export async function computeFacts(
  db: Database,
  sessions: readonly SessionRowForFacts[],
  kpiOf: (lineId: string) => LineSettings['kpi'] | undefined,
  now: Date,
): Promise<Map<string, SessionFacts>> {
  const result = new Map<string, SessionFacts>();
  if (sessions.length === 0) return result;
  const ids = sessions.map((s) => s.id);
  const dialogIds = [...new Set(sessions.map((s) => s.dialog_id))];
  const [transitions, messages, returning] = await Promise.all([
    db
      .selectFrom('session_transitions')
      .select(['session_id', 'from_status', 'to_status', 'operator_id', 'at'])
      .where('session_id', 'in', ids)
      .orderBy('session_id')
      .orderBy('id')
      .execute(),
    db
      .selectFrom('messages')
      .select(['session_id', 'author_kind', 'author_id', 'private', 'spam', 'created_at', 'seq'])
      .where('dialog_id', 'in', dialogIds)
      .where('session_id', 'in', ids)
      .orderBy('created_at')
      .orderBy('seq')
      .execute(),
    db
      .selectFrom('sessions as s')
      .select('s.id')
      .where('s.id', 'in', ids)
      .where(({ exists, selectFrom }) =>
        exists(
          selectFrom('sessions as p')
            .select(sql.lit(1).as('one'))
            .whereRef('p.dialog_id', '=', 's.dialog_id')
            .whereRef('p.seq', '<', 's.seq'),
        ),
      )
      .execute(),
  ]);
  const returningIds = new Set(returning.map((r) => r.id));
  const transitionsOf = new Map<string, FactTransition[]>();
  for (const t of transitions) {
    const list = transitionsOf.get(t.session_id) ?? [];
    list.push({
      from: t.from_status as SessionStatus | null,
      to: t.to_status as SessionStatus,
      operatorId: t.operator_id,
      at: t.at,
    });
    transitionsOf.set(t.session_id, list);
  }
  const messagesOf = new Map<string, FactMessage[]>();
  for (const m of messages) {
    if (m.session_id === null) continue;
    const list = messagesOf.get(m.session_id) ?? [];
    list.push({
      author: m.author_kind,
      authorId: m.author_id,
      private: m.private,
      spam: m.spam,
      at: m.created_at,
    });
    messagesOf.set(m.session_id, list);
  }
  for (const s of sessions) {
    const kpi = kpiOf(s.line_id);
    result.set(
      s.id,
      sessionFacts(
        {
          transitions: transitionsOf.get(s.id) ?? [],
          messages: messagesOf.get(s.id) ?? [],
          firstOfDialog: !returningIds.has(s.id),
          openedOffHours: s.opened_off_hours,
          rating: s.rating,
          supervisorRating: s.supervisor_rating,
          targets: {
            firstAnswerSeconds: kpi?.firstAnswer.targetSeconds ?? 0,
            furtherAnswerSeconds: kpi?.furtherAnswer.targetSeconds ?? 0,
          },
        },
        now,
      ),
    );
  }
  return result;
}

/**
 * Whether a session's stored facts row still holds: same definitions (`FACTS_VERSION`), the
 * session was not reopened and closed again since, and its day is a day in this time zone (the
 * roll-up's too). Compared in SQL, so the timestamps are neither sent nor parsed.
 */
function freshFacts(timeZone: string) {
  return sql<boolean>`coalesce(f.version = ${FACTS_VERSION} and f.closed_at = s.closed_at and f.time_zone = ${timeZone}, false)`;
}

/** The keyset step of a scan of sessions `s` in (created_at, id) order: the rows after `after`. */
function createdAfter(after: { createdAt: Date; id: string }) {
  return (eb: ExpressionBuilder<{ s: DB['sessions'] }, 's'>) =>
    eb.or([
      eb('s.created_at', '>', after.createdAt),
      eb.and([eb('s.created_at', '=', after.createdAt), eb('s.id', '>', after.id)]),
    ]);
}

/**
 * The sessions created in the period (matching the filters) with their facts. Closed sessions
 * read their stored facts; those without (or with stale ones) are computed and stored for the
 * next report; open sessions are computed up to now and not stored.
 */
export async function loadReportSessions(
  ctx: AppContext,
  accountId: string,
  filter: ReportFilter,
  page?: { after: { createdAt: Date; id: string } | null; limit: number },
): Promise<ReportSession[]> {
  const { db } = ctx.store;
  let query = db
    .selectFrom('sessions as s')
    .innerJoin('dialogs as d', 'd.id', 's.dialog_id')
    .innerJoin('channels as c', 'c.id', 'd.channel_id')
    .leftJoin('session_facts as f', 'f.session_id', 's.id')
    .select([
      's.id',
      's.dialog_id',
      's.line_id',
      's.seq',
      's.status',
      's.created_at',
      's.closed_at',
      's.opened_off_hours',
      's.rating',
      's.supervisor_rating',
      'd.channel_id',
      'c.kind as channel_kind',
      freshFacts(filter.timeZone).as('fresh'),
      'f.is_returning',
      'f.messages_in',
      'f.messages_out',
      'f.bot_messages',
      'f.first_answer_seconds',
      'f.answers',
      'f.close_seconds',
      'f.bot_seconds',
      'f.queue_seconds',
      'f.unanswered',
      'f.missed',
      'f.kpi_breaches',
      'f.spam',
      'f.operator_id',
    ])
    .where('s.account_id', '=', accountId)
    .where('s.created_at', '>=', filter.period.start)
    .where('s.created_at', '<', filter.period.end);
  if (filter.lineId) query = query.where('s.line_id', '=', filter.lineId);
  if (filter.channelId) query = query.where('d.channel_id', '=', filter.channelId);
  if (filter.channelKind) query = query.where('c.kind', '=', filter.channelKind);
  if (page?.after) query = query.where(createdAfter(page.after));
  if (page) query = query.limit(page.limit);
  const rows = await query.orderBy('s.created_at').orderBy('s.id').execute();

  const fresh = (row: (typeof rows)[number]) => isClosed(row.status) && row.fresh;
  const toCompute = rows.filter((row) => !fresh(row));
  const computed = new Map<string, SessionFacts>();
  if (toCompute.length) {
    const lines = await db
      .selectFrom('lines')
      .select(['id', 'settings'])
      .where('account_id', '=', accountId)
      .execute();
    const kpi = new Map(lines.map((l) => [l.id, l.settings.kpi]));
    const now = ctx.clock.now();
    for (let i = 0; i < toCompute.length; i += BATCH) {
      const batch = toCompute.slice(i, i + BATCH);
      const facts = await computeFacts(db, batch, (lineId) => kpi.get(lineId), now);
      for (const [id, f] of facts) computed.set(id, f);
      const closed = batch.filter((row) => isClosed(row.status) && row.closed_at !== null);
      if (closed.length) await storeFacts(db, accountId, filter.timeZone, closed, facts);
    }
  }
  return rows.map((row) => {
    const facts: SessionFacts = computed.get(row.id) ?? {
      ...factsFromRow(row as Parameters<typeof factsFromRow>[0]),
      offHours: row.opened_off_hours,
      rating: row.rating,
      supervisorRating: row.supervisor_rating,
    };
    return {
      sessionId: row.id,
      dialogId: row.dialog_id,
      createdAt: row.created_at,
      lineId: row.line_id,
      channelId: row.channel_id,
      channelKind: row.channel_kind,
      status: row.status,
      // Ratings may change after the close: always the session's current ones.
      facts: {
        ...facts,
        offHours: row.opened_off_hours,
        rating: row.rating,
        supervisorRating: row.supervisor_rating,
      },
    };
  });
}

/**
 * Stores closed sessions' facts: one upsert for the batch. Each row written adds its figures to
 * the daily roll-up (and an overwritten row first takes its old ones away) through the
 * `session_facts_rollup` trigger, inside this same statement (migration 0032).
 */
export async function storeFacts(
  db: Database,
  accountId: string,
  timeZone: string,
  sessions: readonly { id: string; closed_at: Date | null; created_at: Date; channel_id: string }[],
  facts: Map<string, SessionFacts>,
): Promise<void> {
  const values = sessions.flatMap((s) => {
    const f = facts.get(s.id);
    if (!f || !s.closed_at) return [];
    return [
      {
        session_id: s.id,
        account_id: accountId,
        version: FACTS_VERSION,
        // The session's own value, copied in SQL: a JS Date would drop its microseconds, and the
        // facts would never compare equal to it again.
        closed_at: sql<Date>`(select closed_at from sessions where id = ${s.id})`,
        // What the roll-up contribution depends on, read from the session in this statement so a
        // rating written in between is not lost (later changes: the sessions_facts_sync trigger).
        time_zone: timeZone,
        day: bucketOf(s.created_at, timeZone, 'day'),
        line_id: sql<string>`(select line_id from sessions where id = ${s.id})`,
        channel_id: s.channel_id,
        rating: sql<'like' | 'dislike' | null>`(select rating from sessions where id = ${s.id})`,
        supervisor_rating: sql<number | null>`(select supervisor_rating from sessions where id = ${s.id})`,
        off_hours: sql<boolean>`(select opened_off_hours from sessions where id = ${s.id})`,
        started_at: f.startedAt,
        is_returning: f.returning,
        messages_in: f.messagesIn,
        messages_out: f.messagesOut,
        bot_messages: f.botMessages,
        first_answer_seconds: f.firstAnswerSeconds,
        answers: JSON.stringify(f.answers),
        close_seconds: f.closeSeconds,
        bot_seconds: f.botSeconds,
        queue_seconds: f.queueSeconds,
        unanswered: f.unanswered,
        missed: f.missed,
        kpi_breaches: f.kpiBreaches,
        spam: f.spam,
        operator_id: f.operatorId,
      },
    ];
  });
  if (!values.length) return;
  await db
    .insertInto('session_facts')
    .values(values)
    .onConflict((oc) =>
      oc.column('session_id').doUpdateSet((eb) => ({
        version: eb.ref('excluded.version'),
        closed_at: eb.ref('excluded.closed_at'),
        started_at: eb.ref('excluded.started_at'),
        is_returning: eb.ref('excluded.is_returning'),
        messages_in: eb.ref('excluded.messages_in'),
        messages_out: eb.ref('excluded.messages_out'),
        bot_messages: eb.ref('excluded.bot_messages'),
        first_answer_seconds: eb.ref('excluded.first_answer_seconds'),
        answers: eb.ref('excluded.answers'),
        close_seconds: eb.ref('excluded.close_seconds'),
        bot_seconds: eb.ref('excluded.bot_seconds'),
        queue_seconds: eb.ref('excluded.queue_seconds'),
        unanswered: eb.ref('excluded.unanswered'),
        missed: eb.ref('excluded.missed'),
        kpi_breaches: eb.ref('excluded.kpi_breaches'),
        spam: eb.ref('excluded.spam'),
        operator_id: eb.ref('excluded.operator_id'),
        time_zone: eb.ref('excluded.time_zone'),
        day: eb.ref('excluded.day'),
        line_id: eb.ref('excluded.line_id'),
        channel_id: eb.ref('excluded.channel_id'),
        rating: eb.ref('excluded.rating'),
        supervisor_rating: eb.ref('excluded.supervisor_rating'),
        off_hours: eb.ref('excluded.off_hours'),
      })),
    )
    .execute();
}

// ---------------------------------------------------------------------------------------------
// Reports
// ---------------------------------------------------------------------------------------------

interface Prepared {
  timeZone: string;
  audience: Audience;
  filter: ReportFilter;
}

async function prepare(
  ctx: AppContext,
  actor: Actor,
  query: Omit<StatisticsQuery, 'format'>,
): Promise<Prepared> {
  const timeZone = await accountTimeZone(ctx.store.db, actor.accountId);
  const filter = await filterOf(ctx, actor, query, timeZone);
  const audience = await audienceOf(ctx, actor, query.operatorId);
  return { timeZone, audience, filter };
}

const EMPTY_PARTS: DistributionParts = {
  count: 0,
  sumMs: 0,
  lowMiddle: null,
  highMiddle: null,
  p90: null,
  max: null,
};

/**
 * The figures of a period per group. Days the daily roll-up covers completely (every session
 * created that day has its stored facts: `coveredDays`) are read from the roll-up — a few rows per
 * day — and their medians, p90 and maxima from their facts rows in SQL; the other days (a session
 * still open, or closed since the last report) are read session by session as before, their facts
 * computed (and stored, which adds them to the roll-up for the next report), and their values
 * merged into the same SQL sort. The numbers equal `summarize` over every session of the period
 * (server/test/statistics-rollup.test.ts compares them on random data).
 */
export async function aggregate(
  ctx: AppContext,
  accountId: string,
  filter: ReportFilter,
  audience: Audience,
  grouping: Grouping,
): Promise<Map<string, StatisticsSummary>> {
  const { db } = ctx.store;
  const { timeZone } = filter;
  const scope: RollupScope = {
    accountId,
    timeZone,
    lineId: filter.lineId,
    channelId: filter.channelId,
    channelKind: filter.channelKind,
    operators: audience.operators,
  };
  const days = await coveredDays(db, accountId, timeZone, filter.period);
  const covered = days.filter((d) => d.covered).map((d) => d.day);
  // Runs of consecutive days the roll-up does not cover, each read as one period.
  const runs: { from: string; to: string }[] = [];
  let previous: string | null = null;
  for (const [i, d] of days.entries()) {
    if (d.covered) continue;
    const last = runs[runs.length - 1];
    if (last && previous === days[i - 1]?.day) last.to = d.day;
    else runs.push({ from: d.day, to: d.day });
    previous = d.day;
  }
  const raw: ReportSession[] = [];
  for (const run of runs) {
    raw.push(
      ...(await loadReportSessions(ctx, accountId, {
        ...filter,
        period: periodOf(run.from, run.to, timeZone),
      })),
    );
  }

  const ours = (id: string | null) => !audience.operators || (id !== null && audience.operators.has(id));
  const keyOf = (
    day: string,
    at: { lineId: string; channelId: string; channelKind: string },
    operatorId: string | null,
  ): string | null => {
    switch (grouping.by) {
      case 'all':
      case 'bucket':
        return groupOfDay(grouping, day);
      case 'line':
        return at.lineId;
      case 'channel':
        return at.channelId;
      case 'channel-kind':
        return at.channelKind;
      case 'operator':
        return operatorId;
    }
  };
  const totals = new Map<string, Totals>();
  const add = (key: string | null, t: Totals) => {
    if (key !== null) totals.set(key, addTotals(totals.get(key) ?? NO_TOTALS, t));
  };
  for (const row of await rollupRows(db, scope, covered)) {
    if (ours(row.operatorId)) add(keyOf(row.day, row, row.operatorId), row.totals);
  }
  const extra: ExtraValue[] = [];
  for (const s of raw) {
    const day = bucketOf(s.createdAt, timeZone, 'day');
    const f = s.facts;
    const key = keyOf(day, s, f.operatorId);
    if (ours(f.operatorId) && key !== null) {
      add(key, totalsOf(f));
      if (f.firstAnswerSeconds !== null) extra.push({ g: key, m: 'firstAnswer', v: f.firstAnswerSeconds });
      if (f.closeSeconds !== null) extra.push({ g: key, m: 'timeToClose', v: f.closeSeconds });
    }
    for (const answer of f.answers) {
      const by = keyOf(day, s, answer.operatorId);
      if (ours(answer.operatorId) && by !== null) extra.push({ g: by, m: 'everyAnswer', v: answer.seconds });
    }
  }
  const parts = await distributionRows(db, scope, grouping, covered, extra);
  const operatorView = audience.operators !== undefined || grouping.by === 'operator';
  const result = new Map<string, StatisticsSummary>();
  for (const key of new Set([...totals.keys(), ...parts.keys()])) {
    const of = (metric: Metric) => distributionOf(parts.get(key)?.get(metric) ?? EMPTY_PARTS);
    result.set(
      key,
      summaryOf(
        totals.get(key) ?? NO_TOTALS,
        { firstAnswer: of('firstAnswer'), everyAnswer: of('everyAnswer'), timeToClose: of('timeToClose') },
        operatorView,
      ),
    );
  }
  return result;
}

const EMPTY_SUMMARY = summaryOf(
  NO_TOTALS,
  {
    firstAnswer: distributionOf(EMPTY_PARTS),
    everyAnswer: distributionOf(EMPTY_PARTS),
    timeToClose: distributionOf(EMPTY_PARTS),
  },
  false,
);

/** An empty group's figures: zeros, and bot figures 0 as for any group. */
const emptySummary = (): StatisticsSummary => structuredClone(EMPTY_SUMMARY);

export async function summaryReport(ctx: AppContext, actor: Actor, query: Omit<StatisticsQuery, 'format'>) {
  const { timeZone, audience, filter } = await prepare(ctx, actor, query);
  const before = previousPeriod(filter.period, timeZone);
  const current = await aggregate(ctx, actor.accountId, filter, audience, { by: 'all' });
  const previous = await aggregate(ctx, actor.accountId, { ...filter, period: before }, audience, {
    by: 'all',
  });
  return {
    timeZone,
    scope: audience.scope,
    period: { from: filter.period.from, to: filter.period.to },
    previousPeriod: { from: before.from, to: before.to },
    current: current.get('') ?? emptySummary(),
    previous: previous.get('') ?? emptySummary(),
  };
}

export async function seriesReport(
  ctx: AppContext,
  actor: Actor,
  query: Omit<StatisticsQuery, 'format'> & { bucket?: StatisticsBucket | undefined },
) {
  const { timeZone, audience, filter } = await prepare(ctx, actor, query);
  const bucket = query.bucket ?? 'day';
  const groups = await aggregate(ctx, actor.accountId, filter, audience, { by: 'bucket', bucket });
  return {
    timeZone,
    scope: audience.scope,
    bucket,
    points: bucketsBetween(filter.period.from, filter.period.to, bucket).map((label) => ({
      bucket: label,
      summary: groups.get(label) ?? emptySummary(),
    })),
  };
}

export async function tableReport(
  ctx: AppContext,
  actor: Actor,
  dimension: StatisticsDimension,
  query: Omit<StatisticsQuery, 'format'>,
) {
  const { timeZone, audience, filter } = await prepare(ctx, actor, query);
  const groups = await aggregate(ctx, actor.accountId, filter, audience, { by: dimension });
  const { db } = ctx.store;
  const keys = [...groups.keys()];
  const names =
    dimension === 'operator'
      ? await namesOf(db, 'users', actor.accountId, keys)
      : dimension === 'line'
        ? await namesOf(db, 'lines', actor.accountId, keys)
        : dimension === 'channel'
          ? await namesOf(db, 'channels', actor.accountId, keys)
          : new Map(keys.map((k) => [k, k]));
  const rows = keys
    .map((key) => ({ key, name: names.get(key) ?? '', summary: groups.get(key) as StatisticsSummary }))
    // Only groups with figures: a department's or an operator's view lists the groups where they
    // have some (everyone's view: every group has its sessions).
    .filter(
      (row) => dimension === 'operator' || row.summary.sessions > 0 || row.summary.everyAnswer.count > 0,
    );
  rows.sort(
    (a, b) =>
      b.summary.sessions - a.summary.sessions || a.name.localeCompare(b.name) || a.key.localeCompare(b.key),
  );
  return { timeZone, scope: audience.scope, dimension, rows };
}

async function namesOf(
  db: Database,
  table: 'users' | 'lines' | 'channels',
  accountId: string,
  ids: readonly string[],
): Promise<Map<string, string>> {
  if (!ids.length) return new Map();
  const rows = await db
    .selectFrom(table)
    .select(['id', 'name'])
    .where('account_id', '=', accountId)
    .where('id', 'in', ids)
    .execute();
  return new Map(rows.map((r) => [r.id, r.name]));
}

// ---------------------------------------------------------------------------------------------
// Settings and the live board
// ---------------------------------------------------------------------------------------------

/**
 * The backfill job: computes and stores the facts of every closed session of the account that has
 * none (or stale ones: another facts version, another time zone, closed again), oldest first,
 * `batch` sessions per round (four statements each: three reads and the one upsert whose trigger
 * adds them to the daily roll-up). Reports do the same for the days they read; this fills the
 * roll-up ahead of them, e.g. after an upgrade or a change of the account's time zone
 * (`npm run cli -- statistics-backfill`). Returns how many sessions it stored.
 */
export async function backfillStatistics(
  ctx: AppContext,
  accountId: string,
  options: { batch?: number; onBatch?: (stored: number) => void } = {},
): Promise<number> {
  const { db } = ctx.store;
  const batch = options.batch ?? 500;
  const timeZone = await accountTimeZone(db, accountId);
  const lines = await db
    .selectFrom('lines')
    .select(['id', 'settings'])
    .where('account_id', '=', accountId)
    .execute();
  const kpi = new Map(lines.map((l) => [l.id, l.settings.kpi]));
  let after: { createdAt: Date; id: string } | null = null;
  let stored = 0;
  for (;;) {
    let query = db
      .selectFrom('sessions as s')
      .innerJoin('dialogs as d', 'd.id', 's.dialog_id')
      .leftJoin('session_facts as f', 'f.session_id', 's.id')
      .select([
        's.id',
        's.dialog_id',
        's.line_id',
        's.seq',
        's.created_at',
        's.closed_at',
        's.opened_off_hours',
        's.rating',
        's.supervisor_rating',
        'd.channel_id',
      ])
      .where('s.account_id', '=', accountId)
      .where('s.status', 'in', CLOSED_STATUSES)
      .where(sql<boolean>`not ${freshFacts(timeZone)}`);
    if (after) query = query.where(createdAfter(after));
    const rows = await query.orderBy('s.created_at').orderBy('s.id').limit(batch).execute();
    if (!rows.length) return stored;
    const facts = await computeFacts(db, rows, (lineId) => kpi.get(lineId), ctx.clock.now());
    await storeFacts(db, accountId, timeZone, rows, facts);
    stored += rows.length;
    options.onBatch?.(stored);
    const last = rows[rows.length - 1] as (typeof rows)[number];
    after = { createdAt: last.created_at, id: last.id };
    if (rows.length < batch) return stored;
  }
}

export async function statisticsSettings(ctx: AppContext, actor: Actor) {
  authorizeScope(actor, 'statistics', 'own');
  return { timeZone: await accountTimeZone(ctx.store.db, actor.accountId) };
}

export async function updateStatisticsSettings(ctx: AppContext, actor: Actor, input: { timeZone: string }) {
  authorizeScope(actor, 'statistics', 'all');
  if (!actor.permissions.manageUsers) throw forbidden('This needs the "manageUsers" permission');
  await ctx.store.db
    .updateTable('accounts')
    .set({ time_zone: input.timeZone })
    .where('id', '=', actor.accountId)
    .execute();
  return { timeZone: input.timeZone };
}

/**
 * The supervisors' live board (AN-3): the queue and the operators now. Four statements over the
 * open sessions (an index of their own: sessions_account_open_status), the account's lines and
 * its active users; nothing scans history.
 */
export async function liveBoard(ctx: AppContext, actor: Actor) {
  const audience = await audienceOf(ctx, actor, undefined);
  const { db } = ctx.store;
  const now = ctx.clock.now();
  const [open, lines, users, absent] = await Promise.all([
    db
      .selectFrom('sessions')
      .select([
        'line_id',
        'status',
        'operator_id',
        'queued_at',
        'created_at',
        'first_answer_at',
        'waiting_since',
        'dialog_id',
      ])
      .where('account_id', '=', actor.accountId)
      .where('status', 'not in', CLOSED_STATUSES)
      .execute(),
    db
      .selectFrom('lines')
      .select(['id', 'name', 'settings'])
      .where('account_id', '=', actor.accountId)
      .orderBy('name')
      .execute(),
    db
      .selectFrom('users')
      .select(['id', 'name', 'presence'])
      .where('account_id', '=', actor.accountId)
      .where('active', '=', true)
      .orderBy('name')
      .execute(),
    db
      .selectFrom('absences')
      .select('user_id')
      .where('account_id', '=', actor.accountId)
      .where('starts_at', '<=', now)
      .where('ends_at', '>', now)
      .execute(),
  ]);
  const absentIds = new Set(absent.map((a) => a.user_id));
  const held = (status: SessionStatus) => (OPERATOR_STATUSES as readonly SessionStatus[]).includes(status);
  const visible = open.filter(
    (s) => !audience.operators || (s.operator_id !== null && audience.operators.has(s.operator_id)),
  );
  // The largest MAX_CHAT among the lines whose queue names the operator; 0 anywhere = unlimited.
  const limitOf = (userId: string): number | null => {
    const limits = lines
      .filter((l) => l.settings.queue.members.some((m) => m.type === 'user' && m.id === userId))
      .map((l) => l.settings.queue.maxChat);
    if (!limits.length || limits.includes(0)) return null;
    return Math.max(...limits);
  };
  const secondsSince = (at: Date) => Math.max(0, (now.getTime() - at.getTime()) / 1000);
  return {
    generatedAt: now.toISOString(),
    scope: audience.scope,
    inProgress: visible.filter((s) => held(s.status)).length,
    lines: lines.map((line) => {
      const mine = open.filter((s) => s.line_id === line.id);
      const queued = mine.filter((s) => s.status === 'queued');
      const oldest = queued.reduce<{ since: Date; dialogId: string } | null>((min, s) => {
        const since = s.queued_at ?? s.created_at;
        return !min || since < min.since ? { since, dialogId: s.dialog_id } : min;
      }, null);
      const target = line.settings.kpi.firstAnswer.targetSeconds;
      const ours = visible.filter((s) => s.line_id === line.id);
      // An operator's or a department's view: the queue is shared, the rest is theirs.
      return {
        lineId: line.id,
        name: line.name,
        queued: queued.length,
        longestWaitSeconds: oldest ? secondsSince(oldest.since) : null,
        longestWaitDialogId: oldest?.dialogId ?? null,
        firstAnswerTargetSeconds: target > 0 ? target : null,
        waitingFirstAnswer: (audience.operators ? ours : mine).filter(
          (s) => s.first_answer_at === null && s.status !== 'bot' && s.status !== 'new',
        ).length,
        inProgress: ours.filter((s) => held(s.status)).length,
        bot: audience.operators ? 0 : mine.filter((s) => s.status === 'bot').length,
      };
    }),
    operators: users
      .filter((u) => !audience.operators || audience.operators.has(u.id))
      .map((u) => {
        const theirs = open.filter((s) => s.operator_id === u.id && held(s.status));
        return {
          userId: u.id,
          name: u.name,
          presence: u.presence,
          absent: absentIds.has(u.id),
          load: theirs.length,
          limit: limitOf(u.id),
          waiting: theirs.filter((s) => s.waiting_since !== null).length,
        };
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// The sessions behind a figure (drill-down, one row per session export)
// ---------------------------------------------------------------------------------------------

const SUBSETS: Record<SessionSubset, (f: SessionFacts) => boolean> = {
  all: () => true,
  returning: (f) => f.returning,
  unanswered: (f) => f.unanswered,
  missed: (f) => f.missed,
  kpiBreached: (f) => f.kpiBreaches > 0,
  spam: (f) => f.spam,
  outsideHours: (f) => f.offHours,
  liked: (f) => f.rating === 'like',
  disliked: (f) => f.rating === 'dislike',
};

/** The sessions a caller's figures count: everyone's, or those their operators held or answered in. */
function counted(audience: Audience, f: SessionFacts): boolean {
  const { operators } = audience;
  if (!operators) return true;
  return (
    (f.operatorId !== null && operators.has(f.operatorId)) ||
    f.answers.some((a) => a.operatorId !== null && operators.has(a.operatorId))
  );
}

function presentSession(s: ReportSession): StatisticsSession {
  const f = s.facts;
  return {
    sessionId: s.sessionId,
    dialogId: s.dialogId,
    createdAt: s.createdAt.toISOString(),
    lineId: s.lineId,
    channelId: s.channelId,
    channelKind: s.channelKind,
    status: s.status,
    operatorId: f.operatorId,
    returning: f.returning,
    messagesIn: f.messagesIn,
    messagesOut: f.messagesOut,
    botMessages: f.botMessages,
    firstAnswerSeconds: f.firstAnswerSeconds,
    answers: f.answers.length,
    longestAnswerSeconds: f.answers.length ? Math.max(...f.answers.map((a) => a.seconds)) : null,
    closeSeconds: f.closeSeconds,
    botSeconds: f.botSeconds,
    queueSeconds: f.queueSeconds,
    unanswered: f.unanswered,
    missed: f.missed,
    kpiBreaches: f.kpiBreaches,
    spam: f.spam,
    outsideHours: f.offHours,
    rating: f.rating,
    supervisorRating: f.supervisorRating,
  };
}

const encodeCursor = (s: { createdAt: Date; sessionId: string }) =>
  Buffer.from(`${s.createdAt.toISOString()}|${s.sessionId}`).toString('base64url');

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at ?? '');
  if (!id || !isUuid(id) || Number.isNaN(createdAt.getTime())) {
    throw invalidField('query.cursor', 'is not a cursor of this list');
  }
  return { createdAt, id };
}

/** How many sessions one round trip of the export reads (the facts of each batch computed once). */
const EXPORT_BATCH = 500;

/**
 * The sessions of the period one by one, in creation order, each page read by keyset: a page of
 * `limit`, or (`limit` undefined) every session through pages of EXPORT_BATCH, for the CSV
 * stream. The period's bound (366 days) bounds the walk.
 */
export async function* sessionRows(
  ctx: AppContext,
  actor: Actor,
  query: Omit<StatisticsSessionsQuery, 'format' | 'limit' | 'cursor' | 'only'>,
  options: { only: SessionSubset; cursor: string | undefined; limit: number | undefined },
): AsyncGenerator<{ row: StatisticsSession; cursor: string }, void> {
  const { audience, filter } = await prepare(ctx, actor, query);
  let after = options.cursor ? decodeCursor(options.cursor) : null;
  const wanted = SUBSETS[options.only];
  let left = options.limit ?? Number.POSITIVE_INFINITY;
  for (;;) {
    const batch = await loadReportSessions(ctx, actor.accountId, filter, { after, limit: EXPORT_BATCH });
    for (const s of batch) {
      after = { createdAt: s.createdAt, id: s.sessionId };
      if (!counted(audience, s.facts) || !wanted(s.facts)) continue;
      yield { row: presentSession(s), cursor: encodeCursor(s) };
      left -= 1;
      if (left === 0) return;
    }
    if (batch.length < EXPORT_BATCH) return;
  }
}

export async function sessionPage(
  ctx: AppContext,
  actor: Actor,
  query: Omit<StatisticsSessionsQuery, 'format'>,
): Promise<StatisticsSessionPage> {
  const { only = 'all', cursor, limit = 100, ...filters } = query;
  const items: StatisticsSession[] = [];
  let last: string | null = null;
  // One more than asked says whether a next page exists.
  for await (const { row, cursor: at } of sessionRows(ctx, actor, filters, {
    only,
    cursor,
    limit: limit + 1,
  })) {
    if (items.length === limit) return { items, nextCursor: last };
    items.push(row);
    last = at;
  }
  return { items, nextCursor: null };
}
