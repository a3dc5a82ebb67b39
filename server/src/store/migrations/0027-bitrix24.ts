import { type Kysely, sql } from 'kysely';

/**
 * The Bitrix24-compatible REST surface (PL-4, server/src/bitrix):
 *   bitrix_ids             stable integers for our uuids (Bitrix24 numbers everything), one per record
 *   bitrix_apps            local applications: `auth=<access token>` (stored hashed) acts as the app's
 *                          user; `application_token` (encrypted: it is sent with every event) lets
 *                          the app verify our events
 *   bitrix_webhooks        incoming webhooks `/rest/<user id>/<secret>/…` (the secret stored hashed)
 *   bitrix_connectors      connectors an application registered (imconnector.register)
 *   bitrix_event_handlers  event.bind: where an application's events go
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of [
    sql`create table bitrix_ids (
      id serial primary key,
      account_id uuid not null references accounts (id) on delete cascade,
      kind text not null,
      ref uuid not null,
      unique (kind, ref)
    )`,
    sql`create table bitrix_apps (
      id serial primary key,
      account_id uuid not null references accounts (id) on delete cascade,
      user_id uuid not null references users (id) on delete cascade,
      name text not null,
      access_token_hash text not null unique,
      application_token text not null,
      created_at timestamptz not null,
      revoked_at timestamptz
    )`,
    sql`create table bitrix_webhooks (
      id serial primary key,
      account_id uuid not null references accounts (id) on delete cascade,
      user_id uuid not null references users (id) on delete cascade,
      name text not null,
      secret_hash text not null unique,
      created_at timestamptz not null,
      revoked_at timestamptz
    )`,
    sql`create table bitrix_connectors (
      id serial primary key,
      account_id uuid not null references accounts (id) on delete cascade,
      app_id integer not null references bitrix_apps (id) on delete cascade,
      code text not null,
      name text not null,
      chat_group boolean not null default false,
      placement_handler text,
      created_at timestamptz not null,
      unique (account_id, code)
    )`,
    sql`create table bitrix_event_handlers (
      id serial primary key,
      account_id uuid not null references accounts (id) on delete cascade,
      app_id integer not null references bitrix_apps (id) on delete cascade,
      event text not null,
      handler text not null,
      created_at timestamptz not null,
      unique (app_id, event, handler)
    )`,
  ]) {
    await statement.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'bitrix_event_handlers',
    'bitrix_connectors',
    'bitrix_webhooks',
    'bitrix_apps',
    'bitrix_ids',
  ]) {
    await sql`drop table ${sql.table(table)}`.execute(db);
  }
}
