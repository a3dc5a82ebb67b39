import { type Kysely, sql } from 'kysely';

/**
 * Search through the whole message history (OP-1): a GIN index over each message's stemmed words
 * (the `russian` configuration stems Cyrillic with the Russian and Latin with the English stemmer),
 * and trigram indexes so `ilike '%…%'` on a client's name, e-mail and phone does not scan every
 * client. pg_trgm is a trusted extension (PostgreSQL ≥ 13): the database owner may create it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create extension if not exists pg_trgm`.execute(db);
  await sql`create index messages_words on messages
    using gin (to_tsvector('russian', coalesce(text, '')))`.execute(db);
  for (const column of ['name', 'email', 'phone']) {
    await sql`create index ${sql.raw(`clients_${column}_trigrams`)} on clients
      using gin (${sql.raw(column)} gin_trgm_ops)`.execute(db);
  }
  // From the matching clients to their dialogs.
  await sql`create index dialogs_client on dialogs (client_id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index dialogs_client`.execute(db);
  for (const column of ['name', 'email', 'phone']) {
    await sql`drop index ${sql.raw(`clients_${column}_trigrams`)}`.execute(db);
  }
  await sql`drop index messages_words`.execute(db);
}
