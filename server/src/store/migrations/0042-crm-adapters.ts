import { type Kysely, sql } from 'kysely';

/**
 * External CRMs (CRM-4; docs/crm.md "External CRMs"). `crm_adapters`: which CRM an account uses
 * when it is not the built-in one, its settings (the API token sealed with the server's secret
 * box) and how far the account's event log has been turned into sync jobs. `crm_sync_jobs`: the
 * durable outbox of calls to that CRM, one row per thing to do (a session to put into the CRM, a
 * responsible to change), deduplicated by `key`, retried with backoff by workers/crm-sync.ts.
 * Lines get `crm.responsibleUserId` (a set person responsible instead of the operator; null = the
 * operator), so every stored settings document stays complete.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table crm_adapters (
    account_id uuid primary key references accounts(id) on delete cascade,
    kind text not null,
    base_url text not null,
    token text not null,
    cursor bigint not null default 0,
    enabled_at timestamptz not null,
    updated_at timestamptz not null
  )`.execute(db);
  await sql`create table crm_sync_jobs (
    id bigserial primary key,
    account_id uuid not null references accounts(id) on delete cascade,
    key text not null,
    kind text not null,
    session_id uuid not null references sessions(id) on delete cascade,
    operator_id uuid,
    state text not null default 'pending',
    attempts int not null default 0,
    next_attempt_at timestamptz not null,
    last_status int,
    last_error text,
    result jsonb,
    created_at timestamptz not null,
    done_at timestamptz,
    unique (account_id, key)
  )`.execute(db);
  await sql`create index crm_sync_jobs_due on crm_sync_jobs (next_attempt_at) where state = 'pending'`.execute(
    db,
  );
  await sql`update lines set settings = jsonb_set(settings, '{crm,responsibleUserId}', 'null'::jsonb)
    where settings ? 'crm' and not (settings->'crm') ? 'responsibleUserId'`.execute(db);
  await sql`create index crm_sync_jobs_session on crm_sync_jobs (session_id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table crm_sync_jobs`.execute(db);
  await sql`drop table crm_adapters`.execute(db);
  await sql`update lines set settings = settings #- '{crm,responsibleUserId}'`.execute(db);
}
