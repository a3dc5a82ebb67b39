import { type Kysely, sql } from 'kysely';

/**
 * Website widget visitors (LN-6). A browser keeps a random visitor token; only its SHA-256 is
 * stored. `external_id` is the visitor's client identity in the channel (client_identities): an
 * anonymous `v:<id>` until the site identifies the visitor with a verified hash, then `u:<site id>`.
 */
const statements = [
  sql`create table widget_visitors (
    id uuid primary key default gen_random_uuid(),
    account_id uuid not null references accounts(id) on delete cascade,
    channel_id uuid not null references channels(id) on delete cascade,
    token_hash text not null unique,
    external_id text not null,
    user_id text,
    name text,
    email text,
    created_at timestamptz not null default now(),
    last_seen_at timestamptz not null default now()
  )`,
  sql`create index widget_visitors_identity on widget_visitors (channel_id, external_id)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists widget_visitors`.execute(db);
}
