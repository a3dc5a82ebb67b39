import { type Kysely, sql } from 'kysely';

/**
 * The dialog an event is about, as a column: a widget visitor's replay selects its dialog's events
 * by it instead of by a JSON path into `data`, and erasing a dialog's history can find its events.
 * No index of its own: replays scan a cursor range of the primary key, which stays the cheap part;
 * the message path pays for no second index.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table events add column dialog_id uuid`.execute(db);
  await sql`update events set dialog_id = coalesce(
      data->'message'->>'dialogId', data->'dialog'->>'id', data->>'dialogId'
    )::uuid
    where type in ('message.created', 'message.updated', 'dialog.updated', 'notification')`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table events drop column if exists dialog_id`.execute(db);
}
