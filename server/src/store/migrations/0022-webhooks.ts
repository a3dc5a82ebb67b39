import { type Kysely, sql } from 'kysely';

/**
 * Event webhooks (SPEC PL-1; docs/webhooks.md).
 *
 * - `webhook_subscriptions`: an integration's URL, the events it wants, an optional line filter and
 *   its signing secret (sealed with the server key, services/secret-box). `start_cursor` is the
 *   account's event cursor when it was created: it gets the events after that one.
 * - `webhook_feeds`: per account, the last event of the committed log (`events`) turned into
 *   deliveries. Only accounts with a subscription have one, so the message path of any other
 *   account pays nothing.
 * - `webhook_state`: what the feeder last saw of a dialog's session (or a channel's failure), to
 *   tell "assigned" from "transferred" and to notice a new rating or KPI breach.
 * - `webhook_deliveries`: the webhook outbox. One row per event and subscription, with its raw
 *   body (signed exactly as stored), attempts and the last answer. Rows of one subscription and
 *   `ordering_key` (the dialog) are sent strictly in id order.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table webhook_subscriptions (
    id uuid primary key default gen_random_uuid(),
    account_id uuid not null references accounts(id) on delete cascade,
    url text not null check (length(url) between 1 and 2048),
    description text not null default '' check (length(description) <= 200),
    events jsonb not null,
    line_ids jsonb not null default '[]'::jsonb,
    secret text not null,
    status text not null default 'active' check (status in ('active', 'paused')),
    paused_reason text,
    paused_at timestamptz,
    consecutive_failures integer not null default 0,
    start_cursor bigint not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
  )`.execute(db);
  await sql`create index webhook_subscriptions_account on webhook_subscriptions (account_id)`.execute(db);
  await sql`create table webhook_feeds (
    account_id uuid primary key references accounts(id) on delete cascade,
    cursor bigint not null
  )`.execute(db);
  await sql`create table webhook_state (
    account_id uuid not null references accounts(id) on delete cascade,
    key text not null,
    value jsonb not null,
    primary key (account_id, key)
  )`.execute(db);
  await sql`create table webhook_deliveries (
    id bigserial primary key,
    account_id uuid not null references accounts(id) on delete cascade,
    subscription_id uuid not null references webhook_subscriptions(id) on delete cascade,
    event_id text not null,
    event_type text not null,
    ordering_key text not null,
    content_type text not null default 'application/json',
    body text not null,
    state text not null default 'pending' check (state in ('pending', 'delivered')),
    attempts integer not null default 0,
    next_attempt_at timestamptz not null,
    last_attempt_at timestamptz,
    last_status integer,
    last_error text,
    delivered_at timestamptz,
    created_at timestamptz not null
  )`.execute(db);
  await sql`create index webhook_deliveries_due on webhook_deliveries (next_attempt_at, id)
    where state = 'pending'`.execute(db);
  await sql`create index webhook_deliveries_order on webhook_deliveries (subscription_id, ordering_key, id)
    where state = 'pending'`.execute(db);
  await sql`create index webhook_deliveries_log on webhook_deliveries (subscription_id, id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists webhook_deliveries`.execute(db);
  await sql`drop table if exists webhook_state`.execute(db);
  await sql`drop table if exists webhook_feeds`.execute(db);
  await sql`drop table if exists webhook_subscriptions`.execute(db);
}
