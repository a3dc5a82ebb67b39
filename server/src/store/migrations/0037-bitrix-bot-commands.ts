import { type Kysely, sql } from 'kysely';

/**
 * Slash commands of chatbots registered through the Bitrix24-compatible REST
 * (`imbot.command.register`, server/src/bitrix): a client's message `/<command> …` in a session the
 * bot holds goes to the bot as ONIMCOMMANDADD, to the command's handler, instead of
 * ONIMBOTMESSAGEADD. `lang` keeps the titles and parameter hints as registered (LANG).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table bitrix_bot_commands (
    id serial primary key,
    account_id uuid not null references accounts (id) on delete cascade,
    bitrix_bot_id integer not null references bitrix_bots (id) on delete cascade,
    command text not null,
    common boolean not null,
    hidden boolean not null,
    handler text not null,
    lang jsonb not null,
    client_id text,
    created_at timestamptz not null,
    unique (bitrix_bot_id, command)
  )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table bitrix_bot_commands`.execute(db);
}
