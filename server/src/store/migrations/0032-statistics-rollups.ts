import { type Kysely, sql } from 'kysely';

/**
 * Statistics roll-ups (issue 13, scale). `statistics_daily` holds, per account, local day (in the
 * account's time zone as the facts were written), line, channel and operator who held the
 * sessions, the additive figures of every session that has a `session_facts` row: one row per
 * key, so a report over whole days sums a few rows per day instead of reading every session.
 *
 * The roll-up is kept by triggers, so no path can forget it: every insert, update or delete of a
 * `session_facts` row (the report path and the backfill write them) adds or subtracts that row's
 * contribution with one upsert inside the same statement. A facts row keeps a copy of what its
 * contribution depends on outside the facts — the session's line, channel, day, ratings and
 * off-hours flag — and a trigger on `sessions` updates that copy when a rating or the line
 * changes, and deletes the facts row when the session's `closed_at` changes (reopened, or closed
 * again), so a reopened session never counts twice. The time zone and the facts version are part
 * of the key: after a change of either, old rows are simply not read.
 *
 * Medians, p90 and maxima cannot be summed: they are computed in SQL from the facts rows
 * (`session_facts_period` index) — see docs/analytics.md.
 */
const NONE = '00000000-0000-0000-0000-000000000000';
/** A session in one of these has stored facts; one leaving them (reopened) loses them. */
// Written out (CLOSED_STATUSES as of this migration): a migration does not change with the code.
const CLOSED = sql.raw(`'closed', 'spam', 'closed_silently', 'auto_closed'`);

const statements = [
  sql`alter table session_facts
    add column time_zone text not null default 'UTC',
    add column day date,
    add column line_id uuid,
    add column channel_id uuid,
    add column rating text,
    add column supervisor_rating integer,
    add column off_hours boolean not null default false`,
  // Rows written before this migration have no day: they are recomputed by the next report or the
  // backfill (their version is set apart so they count as stale).
  sql`update session_facts set version = -1`,
  sql`create index session_facts_period on session_facts (account_id, time_zone, version, day)`,
  sql`create table statistics_daily (
    account_id uuid not null references accounts(id) on delete cascade,
    time_zone text not null,
    version integer not null,
    day date not null,
    line_id uuid not null,
    channel_id uuid not null,
    operator_id uuid not null,
    sessions integer not null,
    returning_sessions integer not null,
    messages_in bigint not null,
    messages_out bigint not null,
    bot_messages bigint not null,
    bot_ms bigint not null,
    unanswered integer not null,
    missed integer not null,
    kpi_breaches bigint not null,
    spam integer not null,
    likes integer not null,
    dislikes integer not null,
    supervisor_sum bigint not null,
    supervisor_count integer not null,
    outside_hours integer not null,
    primary key (account_id, time_zone, version, day, line_id, channel_id, operator_id)
  )`,
  sql`create function statistics_daily_add(f session_facts, sign integer) returns void
  language plpgsql as $$
  begin
    if f.day is null or f.line_id is null or f.channel_id is null then return; end if;
    -- An account being deleted takes its roll-ups with it; nothing to keep.
    if sign < 0 and not exists (select 1 from accounts where id = f.account_id) then return; end if;
    insert into statistics_daily as d values (
      f.account_id, f.time_zone, f.version, f.day, f.line_id, f.channel_id,
      coalesce(f.operator_id, '${sql.raw(NONE)}'::uuid),
      sign, sign * f.is_returning::int, sign * f.messages_in, sign * f.messages_out,
      sign * f.bot_messages, sign * round(f.bot_seconds * 1000)::bigint,
      sign * f.unanswered::int, sign * f.missed::int, sign * f.kpi_breaches, sign * f.spam::int,
      sign * (f.rating is not distinct from 'like')::int, sign * (f.rating is not distinct from 'dislike')::int,
      sign * coalesce(f.supervisor_rating, 0), sign * (f.supervisor_rating is not null)::int,
      sign * f.off_hours::int)
    on conflict (account_id, time_zone, version, day, line_id, channel_id, operator_id) do update set
      sessions = d.sessions + excluded.sessions,
      returning_sessions = d.returning_sessions + excluded.returning_sessions,
      messages_in = d.messages_in + excluded.messages_in,
      messages_out = d.messages_out + excluded.messages_out,
      bot_messages = d.bot_messages + excluded.bot_messages,
      bot_ms = d.bot_ms + excluded.bot_ms,
      unanswered = d.unanswered + excluded.unanswered,
      missed = d.missed + excluded.missed,
      kpi_breaches = d.kpi_breaches + excluded.kpi_breaches,
      spam = d.spam + excluded.spam,
      likes = d.likes + excluded.likes,
      dislikes = d.dislikes + excluded.dislikes,
      supervisor_sum = d.supervisor_sum + excluded.supervisor_sum,
      supervisor_count = d.supervisor_count + excluded.supervisor_count,
      outside_hours = d.outside_hours + excluded.outside_hours;
  end $$`,
  sql`create function session_facts_rollup() returns trigger language plpgsql as $$
  begin
    if tg_op in ('UPDATE', 'DELETE') then perform statistics_daily_add(old, -1); end if;
    if tg_op in ('INSERT', 'UPDATE') then perform statistics_daily_add(new, 1); end if;
    return null;
  end $$`,
  sql`create trigger session_facts_rollup after insert or update or delete on session_facts
    for each row execute function session_facts_rollup()`,
  sql`create function sessions_facts_sync() returns trigger language plpgsql as $$
  begin
    if new.closed_at is distinct from old.closed_at
        or (old.status in (${CLOSED}) and new.status not in (${CLOSED})) then
      delete from session_facts where session_id = new.id;
    else
      update session_facts set rating = new.rating, supervisor_rating = new.supervisor_rating,
        line_id = new.line_id, off_hours = new.opened_off_hours
      where session_id = new.id;
    end if;
    return null;
  end $$`,
  // Fires only when one of these columns really changes: a transition that leaves them alone
  // (most of them) costs nothing.
  sql`create trigger sessions_facts_sync after update of status, closed_at, rating, supervisor_rating,
      line_id, opened_off_hours on sessions
    for each row when (old.closed_at is distinct from new.closed_at
      or (old.status in (${CLOSED}) and new.status not in (${CLOSED}))
      or old.rating is distinct from new.rating
      or old.supervisor_rating is distinct from new.supervisor_rating
      or old.line_id is distinct from new.line_id
      or old.opened_off_hours is distinct from new.opened_off_hours)
    execute function sessions_facts_sync()`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop trigger if exists sessions_facts_sync on sessions`.execute(db);
  await sql`drop function if exists sessions_facts_sync()`.execute(db);
  await sql`drop trigger if exists session_facts_rollup on session_facts`.execute(db);
  await sql`drop function if exists session_facts_rollup()`.execute(db);
  await sql`drop function if exists statistics_daily_add(session_facts, integer)`.execute(db);
  await sql`drop table if exists statistics_daily`.execute(db);
  await sql`drop index if exists session_facts_period`.execute(db);
  await sql`alter table session_facts drop column time_zone, drop column day, drop column line_id,
    drop column channel_id, drop column rating, drop column supervisor_rating, drop column off_hours`.execute(
    db,
  );
}
