import { type Kysely, sql } from 'kysely';

/**
 * Chatbots (SPEC §7). `bots` are the account's bots: external ones (a webhook URL, a token stored
 * hashed, a webhook secret stored encrypted) and built-in ones (a no-code definition). Every saved
 * definition is a row of `bot_versions`; a session keeps the version it started with.
 * `bot_deliveries` is the durable outbox of events to external bots (signed POSTs, retried with
 * backoff). A session records which bot held it and when (BOT-4: bot time is kept apart from
 * operators' times), and the built-in bot's place in its menu.
 */
const statements = [
  sql`create table bots (
    id uuid primary key default gen_random_uuid(),
    account_id uuid not null references accounts(id) on delete cascade,
    kind text not null check (kind in ('external', 'builtin')),
    name text not null,
    avatar_url text,
    webhook_url text,
    token_prefix text,
    token_hash text unique,
    secrets text,
    version integer not null default 1,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    check ((kind = 'external') = (webhook_url is not null and token_hash is not null))
  )`,
  sql`create index bots_account on bots (account_id, name)`,
  sql`create table bot_versions (
    bot_id uuid not null references bots(id) on delete cascade,
    version integer not null,
    definition jsonb not null,
    created_at timestamptz not null default now(),
    primary key (bot_id, version)
  )`,
  sql`create table bot_deliveries (
    id bigserial primary key,
    account_id uuid not null references accounts(id) on delete cascade,
    bot_id uuid not null references bots(id) on delete cascade,
    session_id uuid references sessions(id) on delete cascade,
    payload jsonb not null,
    state text not null default 'pending' check (state in ('pending', 'sent', 'failed')),
    attempts integer not null default 0,
    next_attempt_at timestamptz not null,
    last_error text,
    created_at timestamptz not null default now()
  )`,
  sql`create index bot_deliveries_due on bot_deliveries (next_attempt_at, id) where state = 'pending'`,
  sql`alter table sessions
    add column bot_id uuid references bots(id) on delete set null,
    add column bot_version integer,
    add column bot_state jsonb,
    add column bot_started_at timestamptz,
    add column bot_ended_at timestamptz`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table sessions drop column bot_id, drop column bot_version, drop column bot_state,
    drop column bot_started_at, drop column bot_ended_at`.execute(db);
  await sql`drop table bot_deliveries`.execute(db);
  await sql`drop table bot_versions`.execute(db);
  await sql`drop table bots`.execute(db);
}
