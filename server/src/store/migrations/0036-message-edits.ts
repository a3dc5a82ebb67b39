import { type Kysely, sql } from 'kysely';

/**
 * Message edits and deletions (issue 19): an operator's correction or withdrawal, and a client's
 * edit in a channel that reports one (Telegram's edited_message), change the message's row in
 * place and say when; a deleted message keeps its row (the timeline shows "deleted") without text.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table messages add column edited_at timestamptz, add column deleted_at timestamptz`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table messages drop column edited_at, drop column deleted_at`.execute(db);
}
