import { type Kysely, sql } from 'kysely';

const statements = [
  sql`create table plans (
    id text primary key,
    name text not null,
    max_lines integer not null check (max_lines >= 0),
    max_users integer check (max_users is null or max_users >= 0)
  )`,
  sql`create table accounts (
    id uuid primary key default gen_random_uuid(),
    name text not null,
    plan_id text not null references plans(id),
    event_seq bigint not null default 0,
    created_at timestamptz not null default now()
  )`,
  sql`create table roles (
    id uuid primary key default gen_random_uuid(),
    account_id uuid not null references accounts(id) on delete cascade,
    name text not null,
    built_in text,
    permissions jsonb not null,
    created_at timestamptz not null default now(),
    unique (account_id, name)
  )`,
  sql`create unique index roles_built_in on roles (account_id, built_in) where built_in is not null`,
  sql`create table users (
    id uuid primary key default gen_random_uuid(),
    account_id uuid not null references accounts(id) on delete cascade,
    email text not null,
    name text not null,
    avatar_url text,
    password_hash text,
    role_id uuid not null references roles(id),
    active boolean not null default true,
    presence text not null default 'offline' check (presence in ('online', 'away', 'offline')),
    presence_changed_at timestamptz not null default now(),
    created_at timestamptz not null default now(),
    deactivated_at timestamptz
  )`,
  sql`create unique index users_email on users (lower(email))`,
  sql`create index users_account on users (account_id)`,
  sql`create table departments (
    id uuid primary key default gen_random_uuid(),
    account_id uuid not null references accounts(id) on delete cascade,
    name text not null,
    parent_id uuid references departments(id) on delete restrict,
    created_at timestamptz not null default now()
  )`,
  sql`create table department_members (
    account_id uuid not null references accounts(id) on delete cascade,
    department_id uuid not null references departments(id) on delete cascade,
    user_id uuid not null references users(id) on delete cascade,
    primary key (department_id, user_id)
  )`,
  sql`create index department_members_user on department_members (user_id)`,
  sql`create table absences (
    id uuid primary key default gen_random_uuid(),
    account_id uuid not null references accounts(id) on delete cascade,
    user_id uuid not null references users(id) on delete cascade,
    starts_at timestamptz not null,
    ends_at timestamptz not null,
    reason text,
    check (ends_at > starts_at)
  )`,
  sql`create index absences_user on absences (user_id, ends_at)`,
  sql`create table auth_sessions (
    token_hash text primary key,
    csrf_token text not null,
    user_id uuid not null references users(id) on delete cascade,
    account_id uuid not null references accounts(id) on delete cascade,
    created_at timestamptz not null default now(),
    last_seen_at timestamptz not null default now(),
    expires_at timestamptz not null,
    user_agent text,
    ip text
  )`,
  sql`create index auth_sessions_user on auth_sessions (user_id)`,
  sql`create table api_tokens (
    id uuid primary key default gen_random_uuid(),
    account_id uuid not null references accounts(id) on delete cascade,
    user_id uuid not null references users(id) on delete cascade,
    name text not null,
    prefix text not null,
    token_hash text not null unique,
    created_at timestamptz not null default now(),
    last_used_at timestamptz,
    revoked_at timestamptz
  )`,
  sql`create table events (
    account_id uuid not null references accounts(id) on delete cascade,
    cursor bigint not null,
    type text not null,
    data jsonb not null,
    audience jsonb not null,
    created_at timestamptz not null default now(),
    primary key (account_id, cursor)
  )`,
  sql`create table server_settings (
    key text primary key,
    value text not null
  )`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'server_settings',
    'events',
    'api_tokens',
    'auth_sessions',
    'absences',
    'department_members',
    'departments',
    'users',
    'roles',
    'accounts',
    'plans',
  ]) {
    await sql`drop table if exists ${sql.table(table)} cascade`.execute(db);
  }
}
