import { type Kysely, sql } from 'kysely';

/**
 * Issue 19, the widget and spam:
 * - AG-2 consent first: a widget visitor accepts or declines the line's agreement before their
 *   first message, when there is no client nor dialog yet; the decision waits on the visitor's row
 *   and is written to `consents` with that message.
 * - The visitor's current page and referrer (the client card): on the visitor's row from the
 *   widget's first report, and on their client identity once they have written.
 * - OP-3 spam blocks the client, not one dialog: `clients.blocked_at`; a supervisor lifts it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table widget_visitors
    add column consent_decision text check (consent_decision in ('given', 'refused')),
    add column consent_at timestamptz,
    add column page_url text,
    add column page_referrer text,
    add column page_at timestamptz`.execute(db);
  await sql`alter table client_identities
    add column page_url text,
    add column page_referrer text,
    add column page_at timestamptz`.execute(db);
  await sql`alter table clients
    add column blocked_at timestamptz,
    add column blocked_by uuid references users(id) on delete set null`.execute(db);
  await sql`create index clients_blocked on clients (account_id, blocked_at) where blocked_at is not null`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index clients_blocked`.execute(db);
  await sql`alter table clients drop column blocked_at, drop column blocked_by`.execute(db);
  await sql`alter table client_identities drop column page_url, drop column page_referrer, drop column page_at`.execute(
    db,
  );
  await sql`alter table widget_visitors drop column consent_decision, drop column consent_at,
    drop column page_url, drop column page_referrer, drop column page_at`.execute(db);
}
