import { type Kysely, sql } from 'kysely';

/**
 * Q-8 per operator (issue 19): an optional name and photo the operator is shown to clients under
 * instead of their profile, when the line shows operators by profile. Null = their profile's.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table users add column client_name text, add column client_avatar_url text`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table users drop column client_name, drop column client_avatar_url`.execute(db);
}
