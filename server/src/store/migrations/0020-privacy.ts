import { type Kysely, sql } from 'kysely';

/**
 * Personal data that is really forgotten (issue 18, docs/privacy.md):
 * - `accounts.message_retention_days`: messages and files older than this are erased by the privacy
 *   worker (null: kept until erased otherwise); a line may set a shorter or longer one of its own
 *   (`settings.other.retentionDays`, backfilled below as 0 = the account's).
 * - `accounts.events_pruned_through`: the highest cursor the event log has pruned; a socket resuming
 *   from before it gets a `resync` frame instead of a replay with holes.
 * - `file_erasures`: the durable job of removing attachment bytes from disk. The `files` row goes in
 *   the transaction that erases the message; the file id waits here until the worker has unlinked
 *   the bytes (idempotent: a missing file is done). No foreign key: an account's deletion must not
 *   take the list of its files to remove with it.
 * - `events_created_at`: the event log is pruned by age.
 */
const statements = [
  sql`alter table accounts
    add column message_retention_days integer check (message_retention_days between 1 and 36500),
    add column events_pruned_through bigint not null default 0`,
  sql`create table file_erasures (
    file_id uuid primary key,
    account_id uuid not null,
    queued_at timestamptz not null default now()
  )`,
  sql`create index events_created_at on events (created_at)`,
  sql`create index outbox_message on outbox (message_id)`,
  sql`update lines set settings = jsonb_set(settings, '{other,retentionDays}', '0'::jsonb, true)
    where not (settings -> 'other' ? 'retentionDays')`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`update lines set settings = settings #- '{other,retentionDays}'`.execute(db);
  await sql`drop index if exists outbox_message`.execute(db);
  await sql`drop index if exists events_created_at`.execute(db);
  await sql`drop table if exists file_erasures`.execute(db);
  await sql`alter table accounts drop column if exists message_retention_days,
    drop column if exists events_pruned_through`.execute(db);
}
