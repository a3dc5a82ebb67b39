import type { StatisticsBucket } from '@openlines/contract';
import { type RawBuilder, sql } from 'kysely';
import {
  bucketOf,
  bucketsBetween,
  type DistributionParts,
  FACTS_VERSION,
  type Period,
  periodOf,
  type Totals,
} from '../core/analytics';
import type { Database } from '../store/database';

// The SQL side of the statistics roll-ups (migration 0032): which days of a period the daily
// roll-up covers completely, their totals, and the distributions (median, p90, max) of the
// stored facts of those days, merged in SQL with the values of the days that are not covered.

/** The holder stored for a session nobody held (the roll-up's key cannot be null). */
export const NO_OPERATOR = '00000000-0000-0000-0000-000000000000';

/** How a report groups its figures. */
export type Grouping =
  | { by: 'all' }
  | { by: 'bucket'; bucket: StatisticsBucket }
  | { by: 'line' | 'channel' | 'channel-kind' | 'operator' };

export interface RollupScope {
  accountId: string;
  timeZone: string;
  lineId?: string | undefined;
  channelId?: string | undefined;
  channelKind?: string | undefined;
  /** Only these operators' work (sessions they held, answers they sent); undefined: everyone's. */
  operators: ReadonlySet<string> | undefined;
}

/** The local days of a period, each with whether the roll-up holds every session created that day. */
export async function coveredDays(
  db: Database,
  accountId: string,
  timeZone: string,
  period: Period,
): Promise<{ day: string; covered: boolean }[]> {
  const days = bucketsBetween(period.from, period.to, 'day');
  // Day boundaries computed here, with the same zone rules as the period: SQL only compares instants.
  const bounds = [...days.map((day) => periodOf(day, day, timeZone).start), period.end];
  const [created, rolled] = await Promise.all([
    sql<{
      i: number;
      n: number;
    }>`select width_bucket(created_at, array[${sql.join(bounds)}]::timestamptz[]) as i,
        count(*)::int as n
      from sessions
      where account_id = ${accountId} and created_at >= ${period.start} and created_at < ${period.end}
      group by 1`.execute(db),
    sql<{ day: string; n: number }>`select to_char(day, 'YYYY-MM-DD') as day, sum(sessions)::int as n
      from statistics_daily
      where account_id = ${accountId} and time_zone = ${timeZone} and version = ${FACTS_VERSION}
        and day >= ${period.from}::date and day <= ${period.to}::date
      group by day`.execute(db),
  ]);
  const createdOn = new Map(created.rows.map((r) => [days[r.i - 1], r.n]));
  const rolledOn = new Map(rolled.rows.map((r) => [r.day, r.n]));
  // Facts rows exist only for sessions of their day, one each: equal counts ⇔ every session is in.
  return days.map((day) => ({ day, covered: (createdOn.get(day) ?? 0) === (rolledOn.get(day) ?? 0) }));
}

export interface RollupRow {
  day: string;
  lineId: string;
  channelId: string;
  channelKind: string;
  /** The operator who held the sessions; null for sessions nobody held. */
  operatorId: string | null;
  totals: Totals;
}

function scopeConditions(alias: string, scope: RollupScope): RawBuilder<unknown>[] {
  const ref = (column: string) => sql.ref(`${alias}.${column}`);
  const where: RawBuilder<unknown>[] = [
    sql`${ref('account_id')} = ${scope.accountId}`,
    sql`${ref('time_zone')} = ${scope.timeZone}`,
    sql`${ref('version')} = ${FACTS_VERSION}`,
  ];
  if (scope.lineId) where.push(sql`${ref('line_id')} = ${scope.lineId}`);
  if (scope.channelId) where.push(sql`${ref('channel_id')} = ${scope.channelId}`);
  if (scope.channelKind) where.push(sql`c.kind = ${scope.channelKind}`);
  return where;
}

const dayList = (days: readonly string[]) => sql.join(days.map((d) => sql`${d}::date`));

/** The roll-up rows of the given days, in the scope's filters (the operators are not applied here). */
export async function rollupRows(
  db: Database,
  scope: RollupScope,
  days: readonly string[],
): Promise<RollupRow[]> {
  if (!days.length) return [];
  const { rows } = await sql<{
    day: string;
    line_id: string;
    channel_id: string;
    kind: string;
    operator_id: string;
    sessions: number;
    returning_sessions: number;
    messages_in: number;
    messages_out: number;
    bot_messages: number;
    bot_ms: number;
    unanswered: number;
    missed: number;
    kpi_breaches: number;
    spam: number;
    likes: number;
    dislikes: number;
    supervisor_sum: number;
    supervisor_count: number;
    outside_hours: number;
  }>`select to_char(r.day, 'YYYY-MM-DD') as day, r.line_id, r.channel_id, c.kind, r.operator_id,
      r.sessions, r.returning_sessions, r.messages_in::float8 as messages_in,
      r.messages_out::float8 as messages_out, r.bot_messages::float8 as bot_messages,
      r.bot_ms::float8 as bot_ms, r.unanswered, r.missed, r.kpi_breaches::float8 as kpi_breaches, r.spam,
      r.likes, r.dislikes, r.supervisor_sum::float8 as supervisor_sum, r.supervisor_count, r.outside_hours
    from statistics_daily r join channels c on c.id = r.channel_id
    where ${sql.join(scopeConditions('r', scope), sql` and `)} and r.day in (${dayList(days)})
      and r.sessions <> 0`.execute(db);
  return rows.map((r) => ({
    day: r.day,
    lineId: r.line_id,
    channelId: r.channel_id,
    channelKind: r.kind,
    operatorId: r.operator_id === NO_OPERATOR ? null : r.operator_id,
    totals: {
      sessions: r.sessions,
      returningSessions: r.returning_sessions,
      messagesIn: r.messages_in,
      messagesOut: r.messages_out,
      botMessages: r.bot_messages,
      botMs: r.bot_ms,
      unanswered: r.unanswered,
      missed: r.missed,
      kpiBreaches: r.kpi_breaches,
      spam: r.spam,
      likes: r.likes,
      dislikes: r.dislikes,
      supervisorSum: r.supervisor_sum,
      supervisorCount: r.supervisor_count,
      outsideHours: r.outside_hours,
    },
  }));
}

export type Metric = 'firstAnswer' | 'everyAnswer' | 'timeToClose';

/** A value measured outside the roll-up (a day it does not cover), already in its group. */
export interface ExtraValue {
  g: string;
  m: Metric;
  v: number;
}

/** The SQL expression of a group key for a facts row `f` (and, for answers, the answerer). */
function groupKey(grouping: Grouping, operator: RawBuilder<unknown>): RawBuilder<string> {
  switch (grouping.by) {
    case 'all':
      return sql<string>`''`;
    case 'bucket':
      if (grouping.bucket === 'day') return sql<string>`to_char(f.day, 'YYYY-MM-DD')`;
      if (grouping.bucket === 'week') {
        return sql<string>`to_char(f.day - (extract(isodow from f.day)::int - 1), 'YYYY-MM-DD')`;
      }
      return sql<string>`to_char(date_trunc('month', f.day), 'YYYY-MM-DD')`;
    case 'line':
      return sql<string>`f.line_id::text`;
    case 'channel':
      return sql<string>`f.channel_id::text`;
    case 'channel-kind':
      return sql<string>`c.kind`;
    case 'operator':
      return sql<string>`${operator}`;
  }
}

/**
 * The distributions of first-answer time, every-answer time and time to close per group: the
 * stored facts of `days` and the `extra` values together, sorted by PostgreSQL
 * (`percentile_disc`), so only their parts come back: count, Σ ms, the two middle values, p90
 * and max — exactly what `distributionParts` computes from the same values.
 */
export async function distributionRows(
  db: Database,
  scope: RollupScope,
  grouping: Grouping,
  days: readonly string[],
  extra: readonly ExtraValue[],
): Promise<Map<string, Map<Metric, DistributionParts>>> {
  const result = new Map<string, Map<Metric, DistributionParts>>();
  if (!days.length && !extra.length) return result;
  const operators = scope.operators ? [...scope.operators] : undefined;
  const holder = sql`f.operator_id::text`;
  const answerer = sql`(a.value ->> 'operatorId')`;
  const byOperator = grouping.by === 'operator';
  const holderIn = operators
    ? operators.length
      ? sql`f.operator_id::text in (${sql.join(operators)})`
      : sql`false`
    : byOperator
      ? sql`f.operator_id is not null`
      : sql`true`;
  const answererIn = operators
    ? operators.length
      ? sql`${answerer} in (${sql.join(operators)})`
      : sql`false`
    : byOperator
      ? sql`${answerer} is not null`
      : sql`true`;
  const facts = days.length
    ? sql`select f.* from session_facts f join channels c on c.id = f.channel_id
        where ${sql.join(scopeConditions('f', scope), sql` and `)} and f.day in (${dayList(days)})`
    : sql`select * from session_facts where false`;
  const extraRows = JSON.stringify(extra);
  const { rows } = await sql<{
    g: string;
    m: Metric;
    n: number;
    ms: number;
    lo: number;
    hi: number;
    p90: number;
    max: number;
  }>`with f as (${facts}),
    vals as (
      select ${groupKey(grouping, holder)} as g, 'firstAnswer' as m, f.first_answer_seconds as v
        from f join channels c on c.id = f.channel_id
        where f.first_answer_seconds is not null and ${holderIn}
      union all
      select ${groupKey(grouping, holder)}, 'timeToClose', f.close_seconds
        from f join channels c on c.id = f.channel_id
        where f.close_seconds is not null and ${holderIn}
      union all
      select ${groupKey(grouping, answerer)}, 'everyAnswer', (a.value ->> 'seconds')::float8
        from f join channels c on c.id = f.channel_id, jsonb_array_elements(f.answers) a
        where ${answererIn}
      union all
      select x.g, x.m, x.v from jsonb_to_recordset(${extraRows}::jsonb) as x(g text, m text, v float8)
    )
    select g, m, count(*)::int as n, sum(round(v * 1000))::float8 as ms,
      percentile_disc(0.5) within group (order by v) as lo,
      percentile_disc(0.5) within group (order by v desc) as hi,
      percentile_disc(0.9) within group (order by v) as p90,
      max(v) as max
    from vals group by g, m`.execute(db);
  for (const r of rows) {
    const parts = result.get(r.g) ?? new Map<Metric, DistributionParts>();
    parts.set(r.m, { count: r.n, sumMs: r.ms, lowMiddle: r.lo, highMiddle: r.hi, p90: r.p90, max: r.max });
    result.set(r.g, parts);
  }
  return result;
}

/** The group key of a day's figures, the same as `groupKey` in SQL. */
export function groupOfDay(grouping: Grouping, day: string): string {
  if (grouping.by === 'all') return '';
  if (grouping.by === 'bucket') return bucketOf(new Date(`${day}T12:00:00Z`), 'UTC', grouping.bucket);
  throw new Error('a group of a day is only for buckets');
}
