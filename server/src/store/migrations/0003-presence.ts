import { type Kysely, sql } from 'kysely';

/** Live operator WebSocket connections, per server process, kept fresh by heartbeats (OP-4). */
const statements = [
  sql`create table operator_connections (
    id uuid primary key,
    account_id uuid not null references accounts(id) on delete cascade,
    user_id uuid not null references users(id) on delete cascade,
    node_id text not null,
    connected_at timestamptz not null,
    last_seen_at timestamptz not null
  )`,
  sql`create index operator_connections_user on operator_connections (user_id)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists operator_connections`.execute(db);
}
