import { type Kysely, sql } from 'kysely';

/**
 * The built-in CRM's tables (issue 12, SPEC §12): contacts with several identities, companies,
 * leads with statuses, deals in pipelines with ordered stages, and each session's link to the
 * client's records. Deleting a record never cascades into dialogs or messages: the session's links
 * are set to null. An identity (a channel user, an E.164 phone, a case-folded e-mail) belongs to at
 * most one contact of an account, by a unique constraint, so two racing intakes cannot create two.
 */
const statements = [
  sql`create table crm_pipelines (
    id uuid primary key default gen_random_uuid(),
    account_id uuid not null references accounts(id) on delete cascade,
    name text not null check (length(name) between 1 and 100),
    is_default boolean not null default false,
    position integer not null,
    created_at timestamptz not null default now()
  )`,
  sql`create unique index crm_pipelines_one_default on crm_pipelines (account_id) where is_default`,
  sql`create table crm_stages (
    id uuid primary key default gen_random_uuid(),
    account_id uuid not null references accounts(id) on delete cascade,
    pipeline_id uuid not null references crm_pipelines(id) on delete cascade,
    name text not null check (length(name) between 1 and 100),
    position integer not null,
    semantics text not null default 'open' check (semantics in ('open', 'won', 'lost'))
  )`,
  sql`create index crm_stages_pipeline on crm_stages (pipeline_id, position)`,
  sql`create table crm_companies (
    id uuid primary key default gen_random_uuid(),
    account_id uuid not null references accounts(id) on delete cascade,
    name text not null check (length(name) between 1 and 200),
    notes text not null default '',
    responsible_id uuid references users(id) on delete set null,
    source_channel_id uuid references channels(id) on delete set null,
    source_kind text not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
  )`,
  sql`create table crm_contacts (
    id uuid primary key default gen_random_uuid(),
    account_id uuid not null references accounts(id) on delete cascade,
    client_id uuid references clients(id) on delete set null,
    company_id uuid references crm_companies(id) on delete set null,
    name text not null check (length(name) between 1 and 200),
    photo_url text,
    notes text not null default '',
    responsible_id uuid references users(id) on delete set null,
    source_channel_id uuid references channels(id) on delete set null,
    source_kind text not null,
    consent_missing boolean not null default false,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (client_id)
  )`,
  sql`create table crm_contact_identities (
    account_id uuid not null references accounts(id) on delete cascade,
    contact_id uuid not null references crm_contacts(id) on delete cascade,
    kind text not null check (kind in ('channel', 'phone', 'email')),
    value text not null check (length(value) between 1 and 320),
    primary key (account_id, kind, value)
  )`,
  sql`create index crm_contact_identities_contact on crm_contact_identities (contact_id)`,
  sql`create table crm_leads (
    id uuid primary key default gen_random_uuid(),
    account_id uuid not null references accounts(id) on delete cascade,
    contact_id uuid references crm_contacts(id) on delete set null,
    title text not null check (length(title) between 1 and 200),
    status text not null default 'new' check (status in ('new', 'in_progress', 'converted', 'junk')),
    responsible_id uuid references users(id) on delete set null,
    source_channel_id uuid references channels(id) on delete set null,
    source_kind text not null,
    consent_missing boolean not null default false,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
  )`,
  sql`create index crm_leads_open on crm_leads (contact_id) where status in ('new', 'in_progress')`,
  sql`create table crm_deals (
    id uuid primary key default gen_random_uuid(),
    account_id uuid not null references accounts(id) on delete cascade,
    contact_id uuid references crm_contacts(id) on delete set null,
    company_id uuid references crm_companies(id) on delete set null,
    pipeline_id uuid not null references crm_pipelines(id),
    stage_id uuid not null references crm_stages(id),
    title text not null check (length(title) between 1 and 200),
    responsible_id uuid references users(id) on delete set null,
    source_channel_id uuid references channels(id) on delete set null,
    source_kind text not null,
    consent_missing boolean not null default false,
    closed_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
  )`,
  sql`create index crm_deals_open on crm_deals (contact_id) where closed_at is null`,
  // CRM-3: a session is an activity on the client's contact and on its lead or deal.
  sql`alter table sessions
    add column crm_contact_id uuid references crm_contacts(id) on delete set null,
    add column crm_lead_id uuid references crm_leads(id) on delete set null,
    add column crm_deal_id uuid references crm_deals(id) on delete set null`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const column of ['crm_contact_id', 'crm_lead_id', 'crm_deal_id']) {
    await sql`alter table sessions drop column if exists ${sql.ref(column)}`.execute(db);
  }
  for (const table of [
    'crm_deals',
    'crm_leads',
    'crm_contact_identities',
    'crm_contacts',
    'crm_companies',
    'crm_stages',
    'crm_pipelines',
  ]) {
    await sql`drop table if exists ${sql.table(table)}`.execute(db);
  }
}
