import { type Kysely, sql } from 'kysely';

const statements = [
  sql`create table lines (
    id uuid primary key default gen_random_uuid(),
    account_id uuid not null references accounts(id) on delete cascade,
    name text not null,
    active boolean not null default true,
    settings jsonb not null,
    strict_cursor uuid,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
  )`,
  sql`create index lines_account on lines (account_id)`,
  // LN-3: a channel row belongs to exactly one line at a time; the same external endpoint (one
  // Telegram bot, one widget key) can be connected only once.
  sql`create table channels (
    id uuid primary key default gen_random_uuid(),
    account_id uuid not null references accounts(id) on delete cascade,
    line_id uuid references lines(id) on delete set null,
    kind text not null,
    name text not null,
    status text not null default 'connected' check (status in ('connected', 'disconnected')),
    settings jsonb not null default '{}',
    secrets text,
    inbound_token_hash text unique,
    external_key text,
    created_at timestamptz not null default now(),
    unique (kind, external_key),
    check (status = 'disconnected' or line_id is not null)
  )`,
  sql`create index channels_line on channels (line_id)`,
  sql`create table clients (
    id uuid primary key default gen_random_uuid(),
    account_id uuid not null references accounts(id) on delete cascade,
    name text not null,
    avatar_url text,
    email text,
    phone text,
    created_at timestamptz not null default now()
  )`,
  sql`create table client_identities (
    account_id uuid not null references accounts(id) on delete cascade,
    client_id uuid not null references clients(id) on delete cascade,
    channel_id uuid not null references channels(id) on delete cascade,
    external_id text not null,
    primary key (channel_id, external_id)
  )`,
  sql`create index client_identities_client on client_identities (client_id)`,
  sql`create table dialogs (
    id uuid primary key default gen_random_uuid(),
    account_id uuid not null references accounts(id) on delete cascade,
    line_id uuid not null references lines(id) on delete cascade,
    channel_id uuid not null references channels(id) on delete cascade,
    client_id uuid not null references clients(id) on delete cascade,
    pinned_operator_id uuid references users(id) on delete set null,
    spam boolean not null default false,
    last_message_at timestamptz,
    last_message_preview text,
    created_at timestamptz not null default now(),
    unique (line_id, channel_id, client_id)
  )`,
  sql`create index dialogs_account_last on dialogs (account_id, last_message_at desc)`,
  sql`create table sessions (
    id uuid primary key default gen_random_uuid(),
    seq bigint generated always as identity,
    account_id uuid not null references accounts(id) on delete cascade,
    dialog_id uuid not null references dialogs(id) on delete cascade,
    line_id uuid not null references lines(id) on delete cascade,
    status text not null,
    operator_id uuid references users(id) on delete set null,
    passed_by jsonb not null default '[]',
    offered_to jsonb not null default '[]',
    pinned boolean not null default false,
    unanswered boolean not null default false,
    created_at timestamptz not null default now(),
    queued_at timestamptz,
    assigned_at timestamptz,
    first_answer_at timestamptz,
    last_client_message_at timestamptz,
    last_operator_message_at timestamptz,
    closed_at timestamptz,
    close_reason text
  )`,
  // At most one open session per dialog, whatever number of processes take messages.
  sql`create unique index sessions_one_open on sessions (dialog_id)
    where status not in ('closed', 'spam', 'closed_silently', 'auto_closed')`,
  sql`create index sessions_line_status on sessions (line_id, status)`,
  sql`create index sessions_operator_open on sessions (operator_id)
    where status not in ('closed', 'spam', 'closed_silently', 'auto_closed')`,
  sql`create table session_transitions (
    id bigserial primary key,
    account_id uuid not null references accounts(id) on delete cascade,
    session_id uuid not null references sessions(id) on delete cascade,
    from_status text,
    to_status text not null,
    operator_id uuid,
    actor_kind text not null,
    actor_id text,
    reason text not null,
    at timestamptz not null
  )`,
  sql`create index session_transitions_session on session_transitions (session_id, id)`,
  sql`create table session_participants (
    session_id uuid not null references sessions(id) on delete cascade,
    user_id uuid not null references users(id) on delete cascade,
    joined_at timestamptz not null,
    primary key (session_id, user_id)
  )`,
  sql`create table messages (
    id uuid primary key default gen_random_uuid(),
    seq bigint generated always as identity,
    account_id uuid not null references accounts(id) on delete cascade,
    dialog_id uuid not null references dialogs(id) on delete cascade,
    session_id uuid references sessions(id) on delete set null,
    channel_id uuid not null references channels(id) on delete cascade,
    author_kind text not null check (author_kind in ('client', 'operator', 'bot', 'system')),
    author_id text,
    text text,
    attachments jsonb not null default '[]',
    private boolean not null default false,
    spam boolean not null default false,
    delivery_state text not null,
    delivery_error text,
    external_id text,
    client_message_id text,
    created_at timestamptz not null
  )`,
  // Property 1: a redelivered inbound message or a retried send is stored once.
  // Outbound messages may carry the channel's id for them too, in the channel's own id space.
  sql`create unique index messages_external on messages (channel_id, external_id)
    where external_id is not null and author_kind = 'client'`,
  sql`create unique index messages_client_id on messages (dialog_id, client_message_id) where client_message_id is not null`,
  sql`create index messages_dialog_time on messages (dialog_id, created_at, seq)`,
  sql`create table outbox (
    id bigserial primary key,
    account_id uuid not null references accounts(id) on delete cascade,
    channel_id uuid not null references channels(id) on delete cascade,
    message_id uuid references messages(id) on delete cascade,
    payload jsonb not null,
    state text not null default 'pending' check (state in ('pending', 'sent', 'failed')),
    attempts integer not null default 0,
    next_attempt_at timestamptz not null,
    last_error text,
    created_at timestamptz not null default now()
  )`,
  sql`create index outbox_due on outbox (next_attempt_at) where state = 'pending'`,
  sql`create table timers (
    id bigserial primary key,
    account_id uuid not null references accounts(id) on delete cascade,
    kind text not null,
    session_id uuid references sessions(id) on delete cascade,
    due_at timestamptz not null,
    payload jsonb not null default '{}',
    unique (session_id, kind)
  )`,
  sql`create index timers_due on timers (due_at)`,
  sql`create table quick_answers (
    id uuid primary key default gen_random_uuid(),
    account_id uuid not null references accounts(id) on delete cascade,
    title text not null,
    text text not null,
    created_by uuid references users(id) on delete set null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
  )`,
  sql`create index quick_answers_account on quick_answers (account_id)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'quick_answers',
    'timers',
    'outbox',
    'messages',
    'session_participants',
    'session_transitions',
    'sessions',
    'dialogs',
    'client_identities',
    'clients',
    'channels',
    'lines',
  ]) {
    await sql`drop table if exists ${sql.table(table)} cascade`.execute(db);
  }
}
