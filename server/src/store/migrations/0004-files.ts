import { type Kysely, sql } from 'kysely';

/** Attachments' bytes live on disk under DATA_DIR/files; this table knows what they are. */
const statements = [
  sql`create table files (
    id uuid primary key default gen_random_uuid(),
    account_id uuid not null references accounts(id) on delete cascade,
    name text not null,
    mime_type text not null,
    size bigint not null check (size >= 0),
    sha256 text not null,
    uploaded_by_kind text not null check (uploaded_by_kind in ('user', 'client', 'channel')),
    uploaded_by_id text,
    created_at timestamptz not null default now()
  )`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists files`.execute(db);
}
