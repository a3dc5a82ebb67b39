import { type Kysely, sql } from 'kysely';

/** Line automation (issue: working hours, consent, automatic actions, rating, KPI). */
const statements = [
  sql`alter table sessions
    add column opened_off_hours boolean not null default false,
    add column off_hours_reply_sent boolean not null default false,
    add column waiting_since timestamptz,
    add column consent_requested_at timestamptz,
    add column consent_given_at timestamptz,
    add column rating_requested_at timestamptz,
    add column rating text check (rating in ('like', 'dislike')),
    add column rating_comment text,
    add column rated_at timestamptz,
    add column supervisor_rating integer check (supervisor_rating between 1 and 5),
    add column supervisor_comment text,
    add column supervisor_rated_by uuid references users(id) on delete set null,
    add column supervisor_rated_at timestamptz`,
  sql`alter table messages add column system_kind text`,
  // AG-2: every change of a line's agreement text is a new version; consents name the version.
  sql`create table agreement_versions (
    id uuid primary key default gen_random_uuid(),
    account_id uuid not null references accounts(id) on delete cascade,
    line_id uuid not null references lines(id) on delete cascade,
    version integer not null,
    text text not null,
    created_at timestamptz not null,
    unique (line_id, version)
  )`,
  sql`create table consents (
    id uuid primary key default gen_random_uuid(),
    account_id uuid not null references accounts(id) on delete cascade,
    client_id uuid not null references clients(id) on delete cascade,
    agreement_version_id uuid not null references agreement_versions(id) on delete cascade,
    channel_id uuid references channels(id) on delete set null,
    session_id uuid references sessions(id) on delete set null,
    how text not null check (how in ('button', 'reply')),
    given_at timestamptz not null,
    unique (client_id, agreement_version_id)
  )`,
  // KPI-2: each missed target, per session (first answer) or per client message (further answers).
  sql`create table kpi_breaches (
    id uuid primary key default gen_random_uuid(),
    account_id uuid not null references accounts(id) on delete cascade,
    session_id uuid not null references sessions(id) on delete cascade,
    kind text not null check (kind in ('first_answer', 'further_answer')),
    operator_id uuid references users(id) on delete set null,
    waiting_since timestamptz not null,
    due_at timestamptz not null,
    answered_at timestamptz,
    unique (session_id, kind, waiting_since)
  )`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists kpi_breaches`.execute(db);
  await sql`drop table if exists consents`.execute(db);
  await sql`drop table if exists agreement_versions`.execute(db);
  await sql`alter table messages drop column if exists system_kind`.execute(db);
  for (const column of [
    'opened_off_hours',
    'off_hours_reply_sent',
    'waiting_since',
    'consent_requested_at',
    'consent_given_at',
    'rating_requested_at',
    'rating',
    'rating_comment',
    'rated_at',
    'supervisor_rating',
    'supervisor_comment',
    'supervisor_rated_by',
    'supervisor_rated_at',
  ]) {
    await sql`alter table sessions drop column if exists ${sql.ref(column)}`.execute(db);
  }
}
