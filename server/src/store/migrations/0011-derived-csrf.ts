import { type Kysely, sql } from 'kysely';

/**
 * A session's CSRF token is now derived from its cookie with the server's key (services/auth
 * csrfTokenOf) instead of stored in plain text next to the session. Signed-in browsers get the new
 * token from GET /me, which the web app reads on every load.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table auth_sessions drop column csrf_token`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  // Sessions made meanwhile have no stored token: they must sign in again.
  await sql`delete from auth_sessions`.execute(db);
  await sql`alter table auth_sessions add column csrf_token text not null`.execute(db);
}
