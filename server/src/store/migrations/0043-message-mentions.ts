import { type Kysely, sql } from 'kysely';

/**
 * Colleagues mentioned in a private note (issue 19): their user ids, as the note was sent; null on
 * every other message. The note's text keeps the names as written.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table messages add column mentions jsonb`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table messages drop column mentions`.execute(db);
}
