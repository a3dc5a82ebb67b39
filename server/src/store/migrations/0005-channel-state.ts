import { type Kysely, sql } from 'kysely';

const statements = [
  // A connector's own durable state per channel (e.g. Telegram's getUpdates offset).
  sql`create table channel_state (
    channel_id uuid primary key references channels(id) on delete cascade,
    data jsonb not null default '{}',
    updated_at timestamptz not null default now()
  )`,
  // The client cannot be reached any more (they blocked the bot, deleted the chat…).
  sql`alter table dialogs add column unreachable_at timestamptz`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table dialogs drop column if exists unreachable_at`.execute(db);
  await sql`drop table if exists channel_state`.execute(db);
}
