import { type Kysely, sql } from 'kysely';

/**
 * Statistics (issue 13). Reports read one row of facts per closed session instead of every
 * transition and message behind it: `session_facts` is filled lazily by the report path (the
 * sessions of the asked period that have no facts yet, or whose facts are stale) and never by the
 * message path, so a message costs no extra statement. A session's facts are stale when it was
 * reopened or closed again (`closed_at` differs) or when the definitions changed (`version`).
 * Ratings, the line and the off-hours flag are read from `sessions` at report time: a rating may
 * arrive after the close.
 */
const statements = [
  sql`alter table accounts add column time_zone text not null default 'UTC'`,
  sql`create table session_facts (
    session_id uuid primary key references sessions(id) on delete cascade,
    account_id uuid not null references accounts(id) on delete cascade,
    version integer not null,
    closed_at timestamptz not null,
    started_at timestamptz not null,
    is_returning boolean not null,
    messages_in integer not null,
    messages_out integer not null,
    bot_messages integer not null,
    first_answer_seconds double precision,
    answers jsonb not null,
    close_seconds double precision,
    bot_seconds double precision not null,
    queue_seconds double precision not null,
    unanswered boolean not null,
    missed boolean not null,
    kpi_breaches integer not null,
    spam boolean not null,
    operator_id uuid
  )`,
  // A report's sessions: the account's sessions created in the period.
  sql`create index sessions_account_created on sessions (account_id, created_at)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists sessions_account_created`.execute(db);
  await sql`drop table if exists session_facts`.execute(db);
  await sql`alter table accounts drop column if exists time_zone`.execute(db);
}
