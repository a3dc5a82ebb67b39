import { type Kysely, sql } from 'kysely';

/**
 * Accounts as the server operator manages them (issue 21): an account is active or suspended, and
 * its plan limits lines, operators (max_users), channels and stored bytes; null is no limit.
 * `channels.account_suspended` mirrors the account's state on each of its channels, set in the
 * same transaction as the account's, so the inbound path, which already reads the channel row,
 * refuses a suspended account's messages without reading one more row.
 */
const statements = [
  sql`alter table accounts
    add column status text not null default 'active' check (status in ('active', 'suspended')),
    add column suspended_at timestamptz`,
  sql`alter table plans
    add column max_channels integer check (max_channels is null or max_channels >= 0),
    add column max_storage_bytes bigint check (max_storage_bytes is null or max_storage_bytes >= 0)`,
  sql`alter table channels add column account_suspended boolean not null default false`,
  sql`create index files_account on files (account_id)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists files_account`.execute(db);
  await sql`alter table channels drop column account_suspended`.execute(db);
  await sql`alter table plans drop column max_channels, drop column max_storage_bytes`.execute(db);
  await sql`alter table accounts drop column status, drop column suspended_at`.execute(db);
}
