import { type Kysely, sql } from 'kysely';

/**
 * Indexes for an account with years of history (issue "scale with history"): every query on the
 * message path and the dialog lists finds its rows by an index instead of scanning sessions or
 * sorting all dialogs.
 */
const statements = [
  // A dialog's latest session (every message, every list row).
  sql`create index sessions_dialog_latest on sessions (dialog_id, created_at desc, seq desc)`,
  // The lists' order, walked by keyset: newest activity first, ties by id.
  sql`create index dialogs_account_activity on dialogs (account_id, last_message_at desc nulls last, id)`,
  sql`drop index if exists dialogs_account_last`,
  // The queue and other open sessions of an account, by status.
  sql`create index sessions_account_open_status on sessions (account_id, status)
    where status not in ('closed', 'spam', 'closed_silently', 'auto_closed')`,
  // Who may see a dialog: what they held (any time), consulted on, or handled.
  sql`create index sessions_operator_dialog on sessions (operator_id, dialog_id)`,
  sql`create index session_participants_user on session_participants (user_id, session_id)`,
  // "Every dialog a user ever held" (history scope own): the dialog with each transition.
  sql`alter table session_transitions add column dialog_id uuid references dialogs(id) on delete cascade`,
  sql`update session_transitions t set dialog_id = s.dialog_id from sessions s where s.id = t.session_id`,
  sql`alter table session_transitions alter column dialog_id set not null`,
  sql`create index session_transitions_operator_dialog on session_transitions (operator_id, dialog_id)`,
];

const DROPPED = [
  'sessions_dialog_latest',
  'dialogs_account_activity',
  'sessions_account_open_status',
  'sessions_operator_dialog',
  'session_participants_user',
  'session_transitions_operator_dialog',
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const name of DROPPED) await sql`drop index if exists ${sql.ref(name)}`.execute(db);
  await sql`alter table session_transitions drop column if exists dialog_id`.execute(db);
  await sql`create index if not exists dialogs_account_last on dialogs (account_id, last_message_at desc)`.execute(
    db,
  );
}
