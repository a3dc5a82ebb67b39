import { type Kysely, sql } from 'kysely';

/**
 * Chatbots registered through the Bitrix24-compatible REST (`imbot.register`, server/src/bitrix):
 * each is one of our external bots (table `bots`, so it answers, hands over and counts like any
 * other), plus what Bitrix24 keeps about it: the application that owns it, its CODE, TYPE and
 * OPENLINE flag, and the handler URLs its events go to (form-encoded, as Bitrix24 posts them).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table bitrix_bots (
    id serial primary key,
    account_id uuid not null references accounts (id) on delete cascade,
    app_id integer not null references bitrix_apps (id) on delete cascade,
    bot_id uuid not null unique references bots (id) on delete cascade,
    code text not null,
    type text not null,
    openline boolean not null,
    handlers jsonb not null,
    client_id text,
    created_at timestamptz not null,
    unique (app_id, code)
  )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table bitrix_bots`.execute(db);
}
