import { type Kysely, sql } from 'kysely';

/**
 * Operator actions (issue 19): a comment on a transfer kept with the transition it explains;
 * personal quick answers (owner) and quick answers of one line (line) beside the shared list;
 * tags (labels) on dialogs, indexed for the list filter.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table session_transitions add column comment text`.execute(db);
  await sql`alter table quick_answers add column owner_id uuid references users(id) on delete cascade`.execute(
    db,
  );
  await sql`alter table quick_answers add column line_id uuid references lines(id) on delete cascade`.execute(
    db,
  );
  // On the dialog row itself: every read of a dialog has its tags without one more statement.
  await sql`alter table dialogs add column tags jsonb not null default '[]'::jsonb`.execute(db);
  await sql`create index dialogs_tags on dialogs using gin (tags jsonb_path_ops)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index dialogs_tags`.execute(db);
  await sql`alter table dialogs drop column tags`.execute(db);
  await sql`alter table quick_answers drop column line_id`.execute(db);
  await sql`alter table quick_answers drop column owner_id`.execute(db);
  await sql`alter table session_transitions drop column comment`.execute(db);
}
