import { type Kysely, sql } from 'kysely';

/**
 * Issue 18 (a client's rights): the audit log of privileged actions, and consent records that say
 * "refused" as well as "given" and may come from the sender's own system (the API channel).
 *
 * The audit log is kept apart from personal data: who (the user's id and their name at the time),
 * when, what (an action and the kind and id of its target) and, for settings, the NAMES of the
 * keys that changed — never values, message texts or anything about a client beyond an id. Its
 * rows outlive the user (`user_id` is set null; the name stays) and die with the account.
 */
const statements = [
  sql`create table audit_log (
    id uuid primary key default gen_random_uuid(),
    account_id uuid not null references accounts(id) on delete cascade,
    user_id uuid references users(id) on delete set null,
    user_name text not null,
    action text not null check (length(action) between 1 and 64),
    target_type text not null check (length(target_type) between 1 and 32),
    target_id text check (length(target_id) <= 100),
    changed_keys jsonb not null default '[]'::jsonb,
    at timestamptz not null
  )`,
  // The read route pages newest first and filters by action, user and period.
  sql`create index audit_log_account_at on audit_log (account_id, at desc, id desc)`,
  sql`alter table consents add column decision text not null default 'given'
    check (decision in ('given', 'refused'))`,
  sql`alter table consents drop constraint if exists consents_how_check`,
  sql`alter table consents add constraint consents_how_check check (how in ('button', 'reply', 'api'))`,
  // One record per decision and agreement version: a refusal does not hide a later consent.
  sql`alter table consents drop constraint if exists consents_client_id_agreement_version_id_key`,
  sql`alter table consents add constraint consents_client_version_decision_key
    unique (client_id, agreement_version_id, decision)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists audit_log`.execute(db);
  await sql`delete from consents where decision <> 'given' or how = 'api'`.execute(db);
  await sql`alter table consents drop constraint if exists consents_client_version_decision_key`.execute(db);
  await sql`alter table consents add constraint consents_client_id_agreement_version_id_key
    unique (client_id, agreement_version_id)`.execute(db);
  await sql`alter table consents drop constraint if exists consents_how_check`.execute(db);
  await sql`alter table consents add constraint consents_how_check check (how in ('button', 'reply'))`.execute(
    db,
  );
  await sql`alter table consents drop column if exists decision`.execute(db);
}
